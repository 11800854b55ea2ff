"""Settings: documented formats, unsafe values refused, readable start-up errors."""

from pathlib import Path
from typing import Any

import pytest
from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel
from pydantic import ValidationError

from chat_server.agent.agent import build_model
from shared.settings import ChatSettings, CommonSettings, McpSettings, Settings, is_loopback
from shared.startup import startup_errors


def test_lists_are_comma_separated_not_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CORS_ORIGINS", "http://localhost:3000, https://app.example.com,http://[::1]:8080"
    )
    monkeypatch.setenv("MCP_ALLOWED_HOSTS", "tasks.example.com:443")
    settings = Settings(_env_file=None)
    assert settings.cors_origins == [
        "http://localhost:3000",
        "https://app.example.com",
        "http://[::1]:8080",
    ]
    assert settings.mcp_allowed_hosts == ["tasks.example.com:443"]


def test_defaults_run_locally_with_the_offline_model() -> None:
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///./taskchat.db"
    assert (settings.local_mode, settings.model_name) == (True, "offline")
    assert (settings.mcp_host, settings.mcp_port, settings.chat_host, settings.chat_port) == (
        "127.0.0.1",
        8001,
        "127.0.0.1",
        8000,
    )


def test_an_openai_key_selects_an_openai_model_unless_one_is_named() -> None:
    assert Settings(_env_file=None, openai_api_key="sk-x").model_name == "gpt-4.1-mini"
    named = Settings(_env_file=None, openai_api_key="sk-x", taskchat_model="offline")
    assert named.model_name == "offline"


def problems(**values: Any) -> dict[str, str]:
    """The refusal of each variable Settings(**values) rejects, as the processes print them."""
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, **values)
    return {p.variable: p.message for p in startup_errors(refused.value)}


def test_an_empty_secret_or_token_means_unset_and_local_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)  # the .env file decides
    monkeypatch.setenv("MCP_SERVICE_TOKEN", "")
    monkeypatch.setenv("CORS_ORIGIN_REGEX", "")
    (tmp_path / ".env").write_text("JWT_SECRET=\n")
    settings = Settings(_env_file=tmp_path / ".env")
    assert (settings.jwt_secret, settings.mcp_service_token, settings.local_mode) == (
        None,
        None,
        True,
    )
    assert settings.cors_origin_regex is None


def test_a_jwt_secret_needs_32_bytes_counted_in_utf8() -> None:
    assert Settings(_env_file=None, jwt_secret="k" * 32).jwt_secret == "k" * 32
    assert Settings(_env_file=None, jwt_secret="é" * 16).jwt_secret == "é" * 16  # 32 bytes
    assert problems(jwt_secret="k" * 31) == {
        "JWT_SECRET": "is too short (31 of at least 32 bytes); make one with: "
        'python -c "import secrets; print(secrets.token_urlsafe(32))"'
    }
    assert "15 of at least 32 bytes" in problems(jwt_secret="é" * 7 + "x")["JWT_SECRET"]


def test_a_jwt_secret_of_only_whitespace_is_refused_whatever_its_length() -> None:
    assert problems(jwt_secret=" \t" * 20)["JWT_SECRET"].startswith(
        "is only whitespace: leave it empty for local mode, or make one with"
    )


def test_a_service_token_needs_32_characters() -> None:
    assert Settings(_env_file=None, mcp_service_token="t" * 32).mcp_service_token == "t" * 32
    assert problems(mcp_service_token="svc-token")["MCP_SERVICE_TOKEN"].startswith(
        "is too short (9 of at least 32 characters); make one with"
    )
    assert problems(mcp_service_token=" " * 40)["MCP_SERVICE_TOKEN"].startswith(
        "is only whitespace"
    )


def test_every_bad_variable_is_reported_at_once_without_its_value() -> None:
    found = problems(jwt_secret="hunter2", mcp_service_token="hunter3", mcp_port="x")
    assert sorted(found) == ["JWT_SECRET", "MCP_PORT", "MCP_SERVICE_TOKEN"]
    assert not any("hunter" in message for message in found.values())


@pytest.mark.parametrize(
    ("origin", "complaint"),
    [
        ("*", "'*' is refused: wildcards do not work here and credentials are allowed"),
        ("https://*.example.com", "'https://*.example.com' is refused: wildcards do not work"),
        ("null", "'null' is refused: it is the origin of sandboxed frames and local files"),
        ("app.example.com", "'app.example.com' is not an origin: write scheme://host[:port]"),
        ("https://app.example.com/", "'https://app.example.com/' is not an origin"),
        ("https://app.example.com/chat", "'https://app.example.com/chat' is not an origin"),
        ("https://App.Example.com", "'https://App.Example.com' is not an origin"),
        ("https://user@app.example.com", "'https://user@app.example.com' is not an origin"),
        ("https://app.example.com:443", "'https://app.example.com:443' never matches: browsers"),
        ("http://localhost:80", "'http://localhost:80' never matches: browsers send it as"),
    ],
)
def test_cors_origins_refuses_wildcards_null_and_anything_but_an_origin(origin, complaint) -> None:
    message = problems(cors_origins=f"https://ok.example.com,{origin}")["CORS_ORIGINS"]
    assert message.startswith(complaint)


@pytest.mark.parametrize(
    ("regex", "probe"),
    [
        (".*", "https://evil.invalid"),
        ("^.+$", "https://evil.invalid"),
        (r"https?://.*", "https://evil.invalid"),
        (r"http://.*", "http://attacker.test"),
        (r"null|https://app\.example\.com", "null"),
        (r"https://.*example\.com.*", "https://example.com.evil.invalid"),
        (r"https://[^/]*", "https://evil.invalid"),
        (r"http://localhost.*", "http://localhost.evil.invalid:8000"),
        # Look-alikes of the domain the pattern names.
        (r"https://app\.example\.com.*", "https://app.example.com.evil.invalid"),
        (r"https?://.*example\.com", "https://evilexample.com"),
        (r"https://[a-z-]*app\.example\.com", "https://evilapp.example.com"),
    ],
)
def test_an_origin_regex_matching_an_unrelated_origin_is_refused(regex, probe) -> None:
    message = problems(cors_origin_regex=regex)["CORS_ORIGIN_REGEX"]
    assert message.startswith(f"matches {probe!r}, an unrelated origin")


def test_an_origin_regex_must_compile_and_may_match_your_own_domains() -> None:
    for regex in (
        r"https://[a-z0-9-]+\.preview\.example\.com",
        r"https://(app|admin)\.example\.com",
        r"http://localhost:\d+",
        r"https://(www\.)?example\.com",
        r"https://[a-z0-9-]+\.example\.com",
    ):
        assert Settings(_env_file=None, cors_origin_regex=regex).cors_origin_regex == regex
    assert problems(cors_origin_regex="https://(app")["CORS_ORIGIN_REGEX"] == (
        "does not compile: missing ), unterminated subpattern at position 8"
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host, loopback) -> None:
    assert is_loopback(host) is loopback


def test_mcp_rate_limit_defaults_to_600_a_minute_and_a_bad_rate_stops_start_up() -> None:
    assert Settings(_env_file=None).mcp_rate_limit == "600/minute"
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, mcp_rate_limit="lots")
    assert [str(problem) for problem in startup_errors(caught.value)] == [
        "MCP_RATE_LIMIT: 'lots' is not a rate such as 60/minute or 1000/hour"
    ]


@pytest.mark.parametrize(
    ("env", "api"),
    [
        ({}, "responses"),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}, "chat_completions"),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API": "responses"}, "responses"),
        ({"OPENAI_API": "chat_completions"}, "chat_completions"),
    ],
)
def test_openai_api_picks_the_api_and_defaults_by_whether_a_base_url_is_set(
    monkeypatch: pytest.MonkeyPatch, env, api
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None, openai_api_key="sk-test")
    assert settings.api_kind == api
    kind = OpenAIResponsesModel if api == "responses" else OpenAIChatCompletionsModel
    assert isinstance(build_model(settings), kind)


def test_an_unknown_openai_api_stops_start_up() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, openai_api="completions")
    assert [problem.variable for problem in startup_errors(caught.value)] == ["OPENAI_API"]


@pytest.mark.parametrize(
    ("origin", "complaint"),
    [
        ("*", "'*' is refused: wildcards would let every site's pages call the task server"),
        ("null", "'null' is refused: it is the origin of sandboxed frames and local files"),
        ("https://app.example.com/", "'https://app.example.com/' is not an origin"),
        ("https://app.example.com:443", "'https://app.example.com:443' never matches"),
    ],
)
def test_mcp_cors_origins_are_comma_separated_exact_origins(origin, complaint) -> None:
    settings = Settings(
        _env_file=None,
        mcp_cors_origins="https://a.example.com, http://b.test:8, https://c.test:8443",
    )
    assert settings.mcp_cors_origins == [
        "https://a.example.com",
        "http://b.test:8",
        "https://c.test:8443",
    ]
    message = problems(mcp_cors_origins=f"https://ok.example.com,{origin}")["MCP_CORS_ORIGINS"]
    assert message.startswith(complaint)


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("http://auth.example.com", "'http://auth.example.com' must use https"),
        ("auth.example.com", "'auth.example.com' is not a URL"),
        ("https://auth.example.com/?tenant=1", "'https://auth.example.com/?tenant=1' must have no"),
    ],
)
def test_oauth_urls_must_be_https_except_on_loopback(value, complaint) -> None:
    assert problems(oauth_issuer=value)["OAUTH_ISSUER"].startswith(complaint)
    assert problems(mcp_resource_url=value)["MCP_RESOURCE_URL"].startswith(complaint)
    local = Settings(_env_file=None, oauth_issuer="http://127.0.0.1:9000")
    assert (local.local_mode, local.mcp_local_mode) == (True, False)


def test_mcp_port_alone_moves_the_url_the_chat_server_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MCP_SERVER_URL", raising=False)
    monkeypatch.setenv("MCP_PORT", "9001")
    assert Settings(_env_file=None).mcp_server_url == "http://127.0.0.1:9001/mcp"
    assert Settings(_env_file=None, mcp_host="::1").mcp_server_url == "http://[::1]:9001/mcp"
    assert Settings(_env_file=None, mcp_host="0.0.0.0").mcp_server_url == (
        "http://127.0.0.1:9001/mcp"
    )


def test_an_explicit_mcp_server_url_wins_over_mcp_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_PORT", "9001")
    monkeypatch.setenv("MCP_SERVER_URL", "http://tasks.internal:8001/mcp")
    assert Settings(_env_file=None).mcp_server_url == "http://tasks.internal:8001/mcp"


def test_the_chat_port_is_chat_port_not_the_port_honcho_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORT", "5000")
    assert Settings(_env_file=None).chat_port == 8000
    monkeypatch.setenv("CHAT_PORT", "8100")
    assert Settings(_env_file=None).chat_port == 8100


def test_previous_jwt_secrets_are_comma_separated_and_as_long_as_the_current_one() -> None:
    old = "o" * 32
    settings = Settings(_env_file=None, jwt_secret="n" * 32, jwt_previous_secrets=f"{old}, {old}2")
    assert settings.jwt_previous_secrets == [old, old + "2"]
    assert problems(jwt_secret="n" * 32, jwt_previous_secrets=f"{old},short") == {
        "JWT_PREVIOUS_SECRETS": "secret 2 is too short (5 of at least 32 bytes); list only "
        "secrets JWT_SECRET once held"
    }


def test_jwt_not_before_needs_a_time_zone() -> None:
    assert problems(jwt_not_before="2026-03-01T12:00:00") == {
        "JWT_NOT_BEFORE": "needs a time zone, e.g. 2026-03-01T12:00:00Z"
    }
    cutoff = Settings(_env_file=None, jwt_not_before="2026-03-01T12:00:00Z").jwt_not_before
    assert cutoff is not None and cutoff.timestamp() == 1772366400


def test_worker_startup_timeout_defaults_to_a_minute_and_must_be_positive() -> None:
    assert Settings(_env_file=None).worker_startup_timeout == 60
    assert problems(worker_startup_timeout="0") == {"WORKER_STARTUP_TIMEOUT": "must be at least 1"}


def test_env_example_lists_every_setting() -> None:
    listed = (Path(__file__).parents[2] / ".env.example").read_text(encoding="utf-8")
    missing = [name.upper() for name in Settings.model_fields if f"# {name.upper()}=" not in listed]
    assert missing == []


# Each process reads only its own variables: a value only the other process uses, however
# malformed, cannot stop it from starting.
MCP_ONLY = {"OAUTH_ISSUER": "http://not-https.example", "MCP_CORS_ORIGINS": "*"}
CHAT_ONLY = {"OIDC_ISSUER": "http://not-https.example", "CORS_ORIGINS": "*"}


def refused_variables(settings_class: type[CommonSettings]) -> set[str]:
    """The variables `settings_class`, read from this test's environment, refuses."""
    with pytest.raises(ValidationError) as refused:
        settings_class(_env_file=None)
    return {p.variable for p in startup_errors(refused.value)}


def test_the_chat_servers_settings_ignore_the_task_servers_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in MCP_ONLY.items():
        monkeypatch.setenv(name, value)
    settings = ChatSettings(_env_file=None)
    assert not hasattr(settings, "oauth_issuer") and not hasattr(settings, "mcp_cors_origins")
    assert refused_variables(McpSettings) == set(MCP_ONLY)
    for name, value in CHAT_ONLY.items():
        monkeypatch.setenv(name, value)
    assert refused_variables(ChatSettings) == set(CHAT_ONLY)


def test_the_task_servers_settings_ignore_the_chat_servers_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in CHAT_ONLY.items():
        monkeypatch.setenv(name, value)
    settings = McpSettings(_env_file=None)
    assert not hasattr(settings, "oidc_issuer") and not hasattr(settings, "cors_origins")
    assert refused_variables(ChatSettings) == set(CHAT_ONLY)
    for name, value in MCP_ONLY.items():
        monkeypatch.setenv(name, value)
    assert refused_variables(McpSettings) == set(MCP_ONLY)


def test_shared_variables_are_checked_by_every_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "short-secret")
    for settings_class in (CommonSettings, ChatSettings, McpSettings, Settings):
        assert refused_variables(settings_class) == {"JWT_SECRET"}


def test_the_combined_settings_are_each_processs_settings() -> None:
    settings = Settings(_env_file=None)
    assert isinstance(settings, ChatSettings) and isinstance(settings, McpSettings)
    # The task server's rule: OAUTH_ISSUER alone also puts /metrics behind METRICS_TOKEN.
    oauth = "https://auth.example.com"
    assert Settings(_env_file=None, oauth_issuer=oauth).metrics_need_token
    assert McpSettings(_env_file=None, oauth_issuer=oauth).metrics_need_token
    assert not ChatSettings(_env_file=None).metrics_need_token
