"""Settings: documented formats, unsafe values refused, readable start-up errors."""

import pytest

from shared.settings import Settings, get_settings, is_loopback, settings_or_exit


def test_lists_are_comma_separated_not_json(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "http://localhost:3000, https://app.example.com")
    monkeypatch.setenv("MCP_ALLOWED_HOSTS", "tasks.example.com:443")
    settings = Settings(_env_file=None)
    assert settings.cors_origins == ["http://localhost:3000", "https://app.example.com"]
    assert settings.mcp_allowed_hosts == ["tasks.example.com:443"]


def test_defaults_run_locally_with_the_offline_model():
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///./taskchat.db"
    assert (settings.local_mode, settings.model_name) == (True, "offline")
    assert (settings.mcp_host, settings.mcp_port, settings.chat_host, settings.port) == (
        "127.0.0.1",
        8001,
        "127.0.0.1",
        8000,
    )


def test_an_openai_key_selects_an_openai_model_unless_one_is_named():
    assert Settings(_env_file=None, openai_api_key="sk-x").model_name == "gpt-4.1-mini"
    named = Settings(_env_file=None, openai_api_key="sk-x", taskchat_model="offline")
    assert named.model_name == "offline"


def test_settings_or_exit_names_the_bad_variable(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "*")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            settings_or_exit()
    finally:
        get_settings.cache_clear()
    assert str(exit_info.value).startswith("Configuration error:\n  CORS_ORIGINS='*' is refused")


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
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_mcp_rate_limit_defaults_to_600_a_minute_and_a_bad_rate_stops_start_up(monkeypatch):
    assert Settings(_env_file=None).mcp_rate_limit == "600/minute"
    monkeypatch.setenv("MCP_RATE_LIMIT", "lots")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            settings_or_exit()
    finally:
        get_settings.cache_clear()
    assert str(exit_info.value) == (
        "Configuration error:\n  MCP_RATE_LIMIT: 'lots' is not a rate such as 60/minute or "
        "1000/hour"
    )


@pytest.mark.parametrize(
    ("env", "api"),
    [
        ({}, "responses"),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}, "chat_completions"),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API": "responses"}, "responses"),
        ({"OPENAI_API": "chat_completions"}, "chat_completions"),
    ],
)
def test_openai_api_picks_the_api_and_defaults_by_whether_a_base_url_is_set(monkeypatch, env, api):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None, openai_api_key="sk-test")
    assert settings.api_kind == api
    from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel

    from chat_server.agent import build_model

    kind = OpenAIResponsesModel if api == "responses" else OpenAIChatCompletionsModel
    assert isinstance(build_model(settings), kind)


def test_an_unknown_openai_api_stops_start_up(monkeypatch):
    monkeypatch.setenv("OPENAI_API", "completions")
    get_settings.cache_clear()
    with pytest.raises(SystemExit, match="OPENAI_API"):
        settings_or_exit()
    get_settings.cache_clear()
