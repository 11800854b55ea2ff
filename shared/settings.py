"""Settings read from the environment and `.env`: what both processes read, and one class per
process on top of it, so neither refuses to start over a variable only the other reads."""

import re
from datetime import datetime
from functools import lru_cache
from ipaddress import ip_address
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

import limits
from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]

MIN_SECRET_BYTES = 32
MIN_SERVICE_TOKEN_CHARS = 32
MIN_REQUEST_BYTES = 4096
MIN_CONNECTIONS = 1
MAKE_ONE = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
# What a browser sends as Origin: lowercase scheme://host[:port], nothing after it.
ORIGIN = re.compile(
    r"[a-z][a-z0-9+.-]*://([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?"
)
DEFAULT_PORTS = {"http": "80", "https": "443"}
# Origins no deployment of ours means to trust; a CORS_ORIGIN_REGEX matching any is too loose.
UNRELATED_ORIGINS = (
    "https://evil.invalid",
    "http://attacker.test",
    "null",
    "https://example.com.evil.invalid",
    "http://localhost.evil.invalid:8000",
)


def _lookalikes(pattern: str) -> list[str]:
    """Origins that only look like the domains a CORS regex names: a pattern for app.example.com
    must not match https://app.example.com.evil.invalid, nor one for example.com evilexample.com."""
    literal = re.sub(r"\\(.)", r"\1", pattern)  # app\.example\.com -> app.example.com
    domains = set(re.findall(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", literal, re.IGNORECASE))
    return [
        f"{scheme}://{host}"
        for domain in sorted(domains)
        for scheme in ("https", "http")
        for host in (f"{domain}.evil.invalid", f"evil{domain}", f"evil-{domain}")
    ]


# Names that only ever reach this machine; a URL or Host header brackets the IPv6 one: [::1].
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    """True when `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


# Rules more than one class applies, each to its own fields: written once, here.


def split_commas(value: object) -> object:
    """A comma-separated variable as a list (the documented format; pydantic-settings would
    read JSON)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def empty_is_unset(value: object) -> object:
    """`JWT_SECRET=` in .env means "not set" (local mode), not "an empty secret"."""
    return None if value == "" else value


def at_least_one(value: int) -> int:
    """Refuse a count below one (workers, pool connections, seconds)."""
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def valid_rate(value: str) -> str:
    """Refuse a rate limits cannot read, so a typo stops start-up with one readable line."""
    try:
        rate = limits.parse(value)
    except ValueError:
        rate = None
    if rate is None or rate.amount < 1:
        raise ValueError(f"{value!r} is not a rate such as 60/minute or 1000/hour")
    return value


def exact_origins(origins: list[str], wildcard: str) -> list[str]:
    """Refuse anything but exact browser origins; `wildcard` says why a "*" is refused here."""
    # Credentials are always allowed, and starlette compares these strings exactly, so
    # a pattern would either never match or (for "*") let every site act as the user.
    for origin in origins:
        if "*" in origin:
            raise ValueError(f"{origin!r} is refused: {wildcard}")
        if origin == "null":
            raise ValueError(
                "'null' is refused: it is the origin of sandboxed frames and local files, "
                "which any site can create; list the origins you trust"
            )
        if not ORIGIN.fullmatch(origin):
            raise ValueError(
                f"{origin!r} is not an origin: write scheme://host[:port] in lowercase, "
                "with no path or trailing slash (e.g. https://app.example.com)"
            )
        bare, _, port = origin.rpartition(":")
        if port == DEFAULT_PORTS.get(origin.split(":", 1)[0]):
            # Browsers leave the scheme's own port out of Origin: this would never match.
            raise ValueError(
                f"{origin!r} never matches: browsers send it as {bare!r}; list that instead"
            )
    return origins


class CommonSettings(BaseSettings):
    """What both processes read (and shared/ code, `taskchat-db`, `taskchat token`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./taskchat.db"

    # Identity. No JWT_SECRET means single-user local mode (user "local", loopback only).
    jwt_secret: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_algorithm: str = "HS256"
    # Rotation: secrets tokens may still be signed with (comma-separated); never used to sign.
    jwt_previous_secrets: CommaList = []
    # Revocation without a database lookup per request: tokens issued (iat) before this moment
    # are refused, and so is any token whose id (jti) is listed.
    jwt_not_before: datetime | None = None
    jwt_revoked_ids: CommaList = []
    # The chat server calls the MCP server with it; the MCP server accepts it.
    mcp_service_token: str | None = None
    local_user_id: str = "local"

    # Where the MCP server binds; the chat server finds it there unless MCP_SERVER_URL is set.
    mcp_host: str = "127.0.0.1"
    mcp_port: int = 8001
    # Seconds a new worker process of either server may take to start answering uvicorn's
    # health check before it is killed and replaced (uvicorn's own default is 5).
    worker_startup_timeout: int = 60
    # Where RATE_LIMIT (chat) and MCP_RATE_LIMIT (tasks) count.
    rate_limit_storage_url: str = "memory://"
    # Webhooks may go to loopback and private addresses only when this is true (tests, a
    # receiver on the same network); off, a user cannot make the server call inside it.
    # The chat server checks it when a channel is added, the task server before each delivery.
    reminder_allow_private_urls: bool = False

    # What one request may hold, on either server, per process (docs/security.md, "Limits"):
    # a body over MAX_BODY_BYTES is refused with 413 before it is read, a request line plus
    # headers over MAX_HEADER_BYTES with 431, and a request beyond MAX_CONNECTIONS open
    # connections with 503.
    max_body_bytes: int = 64_000
    max_header_bytes: int = 32_768
    max_connections: int = 1000

    # Operating both processes: log lines, GET /metrics, traces.
    log_format: Literal["text", "json"] = "text"
    # When set, GET /metrics wants `Authorization: Bearer <METRICS_TOKEN>`. Outside local mode
    # (JWT_SECRET or OAUTH_ISSUER set) /metrics is off (404) without it.
    metrics_token: str | None = None
    # Traces go out over OTLP/HTTP only when this is set; the other OTEL_* variables are read
    # by the OpenTelemetry SDK itself.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str | None = None

    @field_validator("jwt_previous_secrets", "jwt_revoked_ids", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        return split_commas(value)

    @field_validator(
        "jwt_secret",
        "mcp_service_token",
        "metrics_token",
        "otel_exporter_otlp_endpoint",
        "jwt_not_before",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return empty_is_unset(value)

    @field_validator("jwt_secret")
    @classmethod
    def _strong_jwt_secret(cls, value: str | None) -> str | None:
        # HS256 with a short or guessable key can be brute-forced offline from one token.
        if value is None:
            return None
        if not value.strip():
            raise ValueError(f"is only whitespace: leave it empty for local mode, or {MAKE_ONE}")
        if len(value.encode()) < MIN_SECRET_BYTES:
            size = len(value.encode())
            raise ValueError(
                f"is too short ({size} of at least {MIN_SECRET_BYTES} bytes); {MAKE_ONE}"
            )
        return value

    @field_validator("jwt_previous_secrets")
    @classmethod
    def _strong_previous_secrets(cls, values: list[str]) -> list[str]:
        # An old secret still opens the door until it is removed: as strong as the current one.
        for number, value in enumerate(values, 1):
            size = len(value.encode())
            if size < MIN_SECRET_BYTES:
                raise ValueError(
                    f"secret {number} is too short ({size} of at least {MIN_SECRET_BYTES} bytes); "
                    "list only secrets JWT_SECRET once held"
                )
        return values

    @field_validator("jwt_not_before")
    @classmethod
    def _aware_cutoff(cls, value: datetime | None) -> datetime | None:
        # A cutoff without a zone would move with the machine's: refuse it.
        if value is not None and value.utcoffset() is None:
            raise ValueError("needs a time zone, e.g. 2026-03-01T12:00:00Z")
        return value

    @field_validator("mcp_service_token")
    @classmethod
    def _strong_service_token(cls, value: str | None) -> str | None:
        # The service token may act for any user on the MCP server: it must not be guessable.
        if value is None:
            return None
        if not value.strip():
            raise ValueError(f"is only whitespace; {MAKE_ONE}")
        if len(value) < MIN_SERVICE_TOKEN_CHARS:
            raise ValueError(
                f"is too short ({len(value)} of at least {MIN_SERVICE_TOKEN_CHARS} characters); "
                + MAKE_ONE
            )
        return value

    @field_validator("max_body_bytes", "max_header_bytes", "max_connections")
    @classmethod
    def _room_for_a_request(cls, value: int, info: ValidationInfo) -> int:
        # Below these, ordinary requests (a signed-in browser's headers, a ChatKit message)
        # would be refused.
        least = MIN_CONNECTIONS if info.field_name == "max_connections" else MIN_REQUEST_BYTES
        if value < least:
            raise ValueError(f"must be at least {least}")
        return value

    @field_validator("worker_startup_timeout")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        return at_least_one(value)

    @property
    def local_mode(self) -> bool:
        """True when no JWT secret is configured: one user, loopback only."""
        return not self.jwt_secret

    @property
    def metrics_need_token(self) -> bool:
        """True outside local mode: /metrics is then served only to METRICS_TOKEN, or not at all."""
        return not self.local_mode


class McpSettings(CommonSettings):
    """What the MCP task server reads."""

    mcp_allowed_hosts: CommaList = []
    # Browser origins allowed to call /mcp directly (CORS), exact and comma-separated.
    mcp_cors_origins: CommaList = []
    # Worker processes of one MCP server instance (uvicorn workers on one port).
    mcp_workers: int = 1
    # Tool calls per acting user, counted in RATE_LIMIT_STORAGE_URL like RATE_LIMIT.
    mcp_rate_limit: str = "600/minute"
    # Signs list_tasks page cursors. Unset: a random secret the database keeps, shared by every
    # instance on it. Set: the same value on every instance and worker.
    cursor_secret: str | None = None
    # OAuth 2.1 resource server mode: the authorization server's issuer URL, and the public
    # URL of /mcp (the audience its tokens must name).
    oauth_issuer: str | None = None
    mcp_resource_url: str | None = None

    # Reminders and daily digests, sent by a scheduler inside every task server process
    # (docs/operating.md, "Reminders"). It looks for due ones every REMINDER_INTERVAL_SECONDS;
    # 0 turns it off in this process.
    reminder_interval_seconds: float = Field(default=5.0, ge=0)
    # Email reminders go through this server: smtp://host:port, smtps://host:port, with
    # user:password@ when it needs a login. Unset: email channels are not delivered.
    smtp_url: str | None = None
    smtp_from: str = "taskchat@localhost"
    # The chat server's public URL (https://tasks.example.com): reminders then carry links
    # to open the app, and to snooze or complete the task (signed, for a few days). Unset:
    # messages carry no links (browser notifications still have their buttons).
    reminder_links_url: str | None = None
    # Who runs this server, for push services (RFC 8292 `sub`): mailto:you@example.com or
    # an https URL. Unset: mailto:SMTP_FROM.
    vapid_subject: str | None = None

    @field_validator("mcp_allowed_hosts", "mcp_cors_origins", mode="before")
    @classmethod
    def _split_mcp_commas(cls, value: object) -> object:
        return split_commas(value)

    @field_validator(
        "oauth_issuer", "mcp_resource_url", "smtp_url", "cursor_secret", "reminder_links_url",
        "vapid_subject", mode="before",
    )
    @classmethod
    def _empty_mcp_is_unset(cls, value: object) -> object:
        return empty_is_unset(value)

    @field_validator("reminder_links_url")
    @classmethod
    def _links_url(cls, value: str | None) -> str | None:
        if value is not None and (urlsplit(value).scheme not in ("http", "https")
                                  or not urlsplit(value).hostname):  # fmt: skip
            raise ValueError(f"{value!r} is not a URL: write e.g. https://tasks.example.com")
        return value

    @field_validator("vapid_subject")
    @classmethod
    def _vapid_subject(cls, value: str | None) -> str | None:
        # Push services refuse other forms (RFC 8292, section 2.1).
        if value is not None and not value.startswith(("mailto:", "https://")):
            raise ValueError(f"{value!r} must be mailto:you@example.com or an https:// URL")
        return value

    @field_validator("cursor_secret")
    @classmethod
    def _strong_cursor_secret(cls, value: str | None) -> str | None:
        # Whoever can guess it can forge page cursors.
        if value is None:
            return None
        size = len(value.strip().encode())
        if size < MIN_SECRET_BYTES:
            raise ValueError(
                f"is too short ({size} of at least {MIN_SECRET_BYTES} bytes): leave it empty to "
                f"use the secret the database keeps, or {MAKE_ONE}"
            )
        return value

    @field_validator("oauth_issuer", "mcp_resource_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        # Tokens and metadata over plain HTTP can be read and swapped on the way.
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not a URL: write e.g. https://auth.example.com")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ValueError(f"{value!r} must use https (plain http only on loopback)")
        if parts.query or parts.fragment:
            raise ValueError(f"{value!r} must have no query or fragment")
        return value

    @field_validator("mcp_cors_origins")
    @classmethod
    def _exact_mcp_origins(cls, origins: list[str]) -> list[str]:
        # On /mcp a listed origin also passes the DNS-rebinding check: "*" would switch it off.
        return exact_origins(
            origins,
            "wildcards would let every site's pages call the task server; list each origin "
            "(comma-separated), e.g. https://app.example.com",
        )

    @field_validator("mcp_workers")
    @classmethod
    def _at_least_one_worker(cls, value: int) -> int:
        return at_least_one(value)

    @field_validator("mcp_rate_limit")
    @classmethod
    def _valid_mcp_rate(cls, value: str) -> str:
        return valid_rate(value)

    @property
    def mcp_local_mode(self) -> bool:
        """True when the MCP server checks no tokens: neither JWT_SECRET nor OAUTH_ISSUER."""
        return self.local_mode and not self.oauth_issuer

    @property
    def metrics_need_token(self) -> bool:
        """True unless the MCP server checks no tokens (neither JWT_SECRET nor OAUTH_ISSUER)."""
        return not self.mcp_local_mode


class ChatSettings(CommonSettings):
    """What the chat server reads."""

    chat_host: str = "127.0.0.1"
    # Not PORT: honcho sets PORT for every process it starts (5000 unless told otherwise).
    chat_port: int = 8000
    # Host names (besides loopback and CHAT_HOST) the chat server answers to, e.g. behind a proxy.
    chat_allowed_hosts: CommaList = []
    # FastAPI's /docs and /openapi.json: off unless asked for.
    chat_api_docs: bool = False
    # Worker processes of one chat server instance; the name Procfile platforms set.
    web_concurrency: int = 1
    # Default: the task server on this machine, at MCP_PORT (see _derived_mcp_server_url).
    mcp_server_url: str = ""
    mcp_pool_size: int = 4
    mcp_timeout_seconds: float = 10.0
    taskchat_model: str | None = None
    # IANA zone for "today" and "tomorrow" when a request sends no X-Timezone header;
    # default: the machine's.
    taskchat_timezone: str | None = None
    # The offline model reads "12/3" as 12 March instead of December 3 (when false, it
    # decides by each request's zone: month first in American, Canadian and UTC zones).
    taskchat_day_first: bool = False
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    # Which OpenAI API the model speaks; default: responses, or chat_completions with
    # OPENAI_BASE_URL (what most compatible servers, such as Ollama and vLLM, offer).
    openai_api: Literal["responses", "chat_completions"] | None = None
    cors_origins: CommaList = []
    cors_origin_regex: str | None = None
    rate_limit: str = "60/minute"
    max_message_chars: int = 4000
    chatkit_domain_key: str = "domain_pk_localhost"
    # Where the page loads OpenAI's ChatKit web component from (a mirror works too).
    chatkit_script_url: str = "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js"
    chat_ui: Literal["auto", "builtin", "chatkit"] = "auto"
    session_cookie_name: str = "taskchat_session"

    # Browser sign-in through the operator's OpenID Connect provider (JWT mode only): its
    # issuer URL, and the client taskchat is registered as there (the secret is optional for
    # a public client; PKCE protects the code either way).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = Field(default=None, validate_default=True)
    oidc_client_secret: str | None = None
    # "Sign in with <OIDC_PROVIDER_NAME>"; default: the issuer's host name.
    oidc_provider_name: str | None = None
    oidc_scopes: str = "openid profile email"
    # The callback registered with the provider; default: /auth/callback where the browser
    # reached this server. Set it behind a proxy that changes the scheme or host.
    oidc_redirect_url: str | None = None
    # How long a browser stays signed in after signing in through the provider.
    signin_session_minutes: int = 60

    @field_validator("chat_allowed_hosts", "cors_origins", mode="before")
    @classmethod
    def _split_chat_commas(cls, value: object) -> object:
        return split_commas(value)

    @field_validator(
        "cors_origin_regex",
        "oidc_issuer",
        "oidc_client_id",
        "oidc_client_secret",
        "oidc_redirect_url",
        mode="before",
    )
    @classmethod
    def _empty_chat_is_unset(cls, value: object) -> object:
        return empty_is_unset(value)

    @field_validator("oidc_issuer")
    @classmethod
    def _usable_issuer(cls, value: str | None, info: ValidationInfo) -> str | None:
        # The sign-in's session tokens are signed with JWT_SECRET; without it there is no
        # one to sign in as (local mode).
        if value is None:
            return None
        if "jwt_secret" in info.data and not info.data["jwt_secret"]:
            raise ValueError("needs JWT_SECRET: sign-in hands the browser a token signed with it")
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"{value!r} is not a URL such as https://login.example.com")
        if parts.query or parts.fragment:
            raise ValueError("must have no query or fragment (OpenID Connect Discovery 1.0)")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            # Discovery, keys and the code exchange would travel in the clear.
            raise ValueError(f"must use https outside this machine (got {value!r})")
        return value

    @field_validator("oidc_client_id")
    @classmethod
    def _client_for_issuer(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "oidc_issuer" not in info.data:
            return value  # OIDC_ISSUER itself was refused, and says why
        issuer = info.data["oidc_issuer"]
        if issuer is not None and value is None:
            raise ValueError(
                "is needed when OIDC_ISSUER is set: the client id the provider gave taskchat"
            )
        if issuer is None and value is not None:
            raise ValueError("is set but OIDC_ISSUER is not: set both, or neither")
        return value

    @field_validator("oidc_redirect_url")
    @classmethod
    def _callback_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(
                f"{value!r} is not a URL such as https://chat.example.com/auth/callback"
            )
        if parts.path != "/auth/callback":
            raise ValueError(
                f"must end in /auth/callback, where taskchat takes the answer (got {value!r})"
            )
        return value

    @field_validator("signin_session_minutes", "mcp_pool_size", "web_concurrency")
    @classmethod
    def _at_least_one_chat(cls, value: int) -> int:
        return at_least_one(value)

    @field_validator("cors_origins")
    @classmethod
    def _exact_chat_origins(cls, origins: list[str]) -> list[str]:
        return exact_origins(
            origins,
            "wildcards do not work here and credentials are allowed; list each origin "
            r"(comma-separated), or set CORS_ORIGIN_REGEX (e.g. https://[a-z0-9-]+\.example\.com)",
        )

    @field_validator("cors_origin_regex")
    @classmethod
    def _narrow_origin_regex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"does not compile: {exc}") from None
        # The same test starlette's CORSMiddleware applies to each request's Origin.
        for probe in (*UNRELATED_ORIGINS, *_lookalikes(value)):
            if pattern.fullmatch(probe):
                raise ValueError(
                    f"matches {probe!r}, an unrelated origin (credentials are allowed, so that "
                    r"site could act as the signed-in user): anchor it to your own domains, "
                    r"e.g. https://[a-z0-9-]+\.example\.com"
                )
        return value

    @field_validator("rate_limit")
    @classmethod
    def _valid_chat_rate(cls, value: str) -> str:
        return valid_rate(value)

    @model_validator(mode="after")
    def _derived_mcp_server_url(self) -> Self:
        # MCP_PORT alone moves both ends: the chat server finds the task server where it binds.
        if not self.mcp_server_url:
            host = self.mcp_host if self.mcp_host not in ("0.0.0.0", "::", "") else "127.0.0.1"
            host = f"[{host}]" if ":" in host else host
            self.mcp_server_url = f"http://{host}:{self.mcp_port}/mcp"
        return self

    @property
    def api_kind(self) -> Literal["responses", "chat_completions"]:
        """The OpenAI API to call: OPENAI_API, else chosen by whether OPENAI_BASE_URL is set."""
        if self.openai_api:
            return self.openai_api
        return "chat_completions" if self.openai_base_url else "responses"

    @property
    def model_name(self) -> str:
        """The model to run: TASKCHAT_MODEL, else offline unless an OpenAI key is set."""
        if self.taskchat_model:
            return self.taskchat_model
        return "gpt-4.1-mini" if self.openai_api_key else "offline"


class Settings(ChatSettings, McpSettings):
    """Both processes' settings at once, for programs that run both in one place (test stacks,
    benchmarks). Product code reads its own process's class instead."""


# What each process's validation error is titled (pydantic names it after the class).
SETTINGS_CLASSES = (CommonSettings, McpSettings, ChatSettings, Settings)


@lru_cache
def get_common_settings() -> CommonSettings:
    """What `taskchat-db` and `taskchat token` read, once: the shared settings only."""
    return CommonSettings()


@lru_cache
def get_mcp_settings() -> McpSettings:
    """The MCP task server's settings, read once."""
    return McpSettings()


@lru_cache
def get_chat_settings() -> ChatSettings:
    """The chat server's settings, read once."""
    return ChatSettings()
