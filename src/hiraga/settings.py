"""The one Settings object. Built by the app factory (or the CLI), never at import time.

Sources, highest priority first: explicit keyword arguments, ``HIRAGA_*`` environment variables,
the TOML file named by ``HIRAGA_CONFIG``, the defaults below.
"""

from __future__ import annotations

import difflib
import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hiraga.errors import ConfigurationError
from hiraga.net.client_address import parse_network

SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HIRAGA_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default_factory=lambda: Path.cwd() / "hiraga-data")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    base_url: str = "http://localhost:8000"
    default_locale: Literal["ja", "en"] = "ja"

    max_body_bytes: int = 10 * 1024 * 1024
    session_ttl_hours: int = 12
    login_max_failures: int = 5
    login_window_minutes: int = 15
    login_lockout_minutes: int = 15
    password_min_length: int = 12
    # argon2 parameters for new password hashes; "test" is for test suites only (refused in production)
    password_hashing: Literal["standard", "test"] = "standard"
    api_key_default_expiry_days: int = 90
    # proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDR blocks; none by default)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # logs: "text" (default) or "json" (one object per line with the request id; hiraga.logs)
    log_format: Literal["text", "json"] = "text"
    # Prometheus /metrics: when set, scrapers must send "Authorization: Bearer <token>"
    metrics_token: SecretStr | None = None
    # single sign-on (hiraga.identity.sso): "break_glass" refuses password login to everyone except the
    # system admins listed in break_glass_admins (API keys keep working); OIDC calls time out after this
    password_login: Literal["all", "break_glass"] = "all"
    break_glass_admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    sso_http_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    # model gateway (hiraga.gateway)
    allowed_upstream_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    default_classification: int = Field(default=1, ge=1, le=3)
    gateway_cache_seconds: float = Field(default=2.0, ge=0)
    embedded_model_dir: Path | None = None
    embedded_threads: int | None = None
    embedded_context: int = 4096

    # portal (hiraga.portal): the longest answer the portal asks a model for
    portal_max_output_tokens: int = Field(default=1024, ge=16, le=32768)
    access_log: bool = False  # one line per request on stderr (``hiraga serve`` turns it on)

    # audit anchors (hiraga.audit.anchors): signed chain heads kept outside the database
    audit_anchor_file: Path | None = None
    audit_anchor_syslog: bool = False
    audit_anchor_every_records: int = Field(default=1000, ge=1)
    audit_anchor_every_seconds: float = Field(default=3600.0, gt=0)

    # knowledge bases (hiraga.knowledge): a RUNNING ingestion job whose heartbeat is older than this
    # was abandoned by a crashed worker and is taken over (live workers beat every third of it)
    kb_job_stale_seconds: float = Field(default=300.0, gt=0)
    # chunks an ingestion job prepares (and commits as progress) per turn; between turns a job of
    # another knowledge base that is waiting gets the worker (hiraga.knowledge.ingest_queue)
    kb_ingest_slice_chunks: int = Field(default=64, ge=1, le=10_000)

    # evaluation (hiraga.evaluation): the shared data folder the built-in suites read (JSQuAD, JaQuAD,
    # e-Gov law texts), the judge model for judge-scored items, the largest private set, and how old
    # a running evaluation's heartbeat may be before another process takes it over
    eval_data_dir: Path | None = None
    eval_judge_model: str | None = None
    eval_set_max_items: int = Field(default=100_000, ge=1)
    eval_stale_seconds: float = Field(default=120.0, gt=0)

    # MCP (hiraga.mcp): the /mcp server for MCP clients, and registered MCP servers as chat tools.
    # stdio servers may only run these commands (exact program names or paths; none by default)
    mcp_stdio_commands: Annotated[list[str], NoDecode] = Field(default_factory=list)
    mcp_max_result_chars: int = Field(default=20_000, ge=100, le=1_000_000)
    mcp_approval_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    mcp_max_tool_rounds: int = Field(default=4, ge=1, le=16)
    # the highest 機密性 level hiraga's /mcp tools hand to MCP clients (knowledge bases, apps above it are refused)
    mcp_clients_clearance: int = Field(default=2, ge=1, le=3)

    @field_validator("allowed_upstream_hosts", "break_glass_admins", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        """``HIRAGA_ALLOWED_UPSTREAM_HOSTS=a.example,10.0.0.5`` (comma-separated) or a TOML list; the same
        for ``HIRAGA_BREAK_GLASS_ADMINS`` (e-mail addresses)."""
        if isinstance(value, str):
            return [h.strip().lower() for h in value.split(",") if h.strip()]
        return value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        """``HIRAGA_METRICS_TOKEN=`` (empty, as a compose file passes an unset variable) means no token,
        never "the empty token"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("mcp_stdio_commands", mode="before")
    @classmethod
    def _split_commands(cls, value: object) -> object:
        """``HIRAGA_MCP_STDIO_COMMANDS=/usr/local/bin/tool,other`` (comma-separated) or a TOML list."""
        return [c.strip() for c in value.split(",") if c.strip()] if isinstance(value, str) else value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        """``HIRAGA_TRUSTED_PROXIES=10.0.0.5,192.0.2.0/24`` (comma-separated) or a TOML list."""
        entries = [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else value
        if not isinstance(entries, list):
            return entries
        try:
            return [str(parse_network(str(entry))) for entry in entries]
        except ValueError as error:
            raise ValueError(f"IP アドレスまたは CIDR ではありません: {error}") from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("HIRAGA_CONFIG")
        if config_file:
            if not Path(config_file).is_file():
                raise ConfigurationError(f"設定ファイル {config_file} が見つかりません。")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'hiraga.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def is_https(self) -> bool:
        """Served over HTTPS (the base URL says so): secure cookies and HSTS."""
        return self.base_url.startswith("https://")

    @property
    def secure_cookies(self) -> bool:
        return self.is_https

    def secret(self) -> str:
        if self.secret_key is None:
            raise ConfigurationError("秘密鍵が読み込まれていません。")
        return self.secret_key.get_secret_value()


def read_settings(**overrides: Any) -> Settings:
    """The settings as configured, creating nothing (no data dir, no generated key): for commands such
    as ``hiraga restore`` that must not touch the data dir before they decide to. A value that does not
    parse is a ConfigurationError naming the HIRAGA_* variable, not a pydantic traceback."""
    _check_names(os.environ)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise _configuration_error(error) from None


def load_settings(*, create_data_dir: bool = True, **overrides: Any) -> Settings:
    """Build the settings and make sure a usable secret key is present (see ``read_settings``).
    ``create_data_dir=False`` (administrators' commands) refuses a SQLite data directory that does
    not exist instead of silently starting an empty platform there."""
    settings = read_settings(**overrides)
    _prepare_data_dir(settings, create_data_dir)
    if settings.secret_key is None:
        settings.secret_key = SecretStr(_stored_or_new_secret(settings))
    _refuse_weak_secret(settings)
    return settings


# HIRAGA_* variables that are not settings (read by the CLI, scripts and the test suite)
OTHER_VARIABLES = frozenset({"HIRAGA_CONFIG", "HIRAGA_SHARED_DATA"})


def _closest(name: str) -> str:
    match = difflib.get_close_matches(name, list(Settings.model_fields), n=1, cutoff=0.75)
    return f"「{match[0]}」のことですか？" if match else ""


def _check_names(environ: Mapping[str, str]) -> None:
    """A misspelt setting would be silently ignored: refuse HIRAGA_* variables close to a setting's
    name but not one, and any key of the TOML file that is not a setting."""
    for variable in environ:
        if not variable.startswith("HIRAGA_") or variable in OTHER_VARIABLES or variable.startswith("HIRAGA_TEST_"):
            continue
        field = variable.removeprefix("HIRAGA_").lower()
        if field not in Settings.model_fields and (hint := _closest(field)):
            raise ConfigurationError(
                f"環境変数 {variable} は設定項目にありません。{hint.replace('「', '「HIRAGA_').upper()}",
                code="unknown_setting",
                detail={"variable": variable},
            )
    config_file = environ.get("HIRAGA_CONFIG")
    if config_file and Path(config_file).is_file():
        for key in _toml_keys(Path(config_file)):
            if key not in Settings.model_fields:
                raise ConfigurationError(
                    f"設定ファイル {config_file} の「{key}」は設定項目にありません。{_closest(key)}",
                    code="unknown_setting",
                    detail={"key": key},
                )


def _toml_keys(path: Path) -> list[str]:
    try:
        with path.open("rb") as handle:
            return list(tomllib.load(handle))
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(
            f"設定ファイル {path} を TOML として読めません（{error}）。書式を確認してください。",
            code="config_file_unreadable",
        ) from None
    except OSError as error:
        raise ConfigurationError(f"設定ファイル {path} を読めません（{error.strerror}）。") from None


def _prepare_data_dir(settings: Settings, create: bool) -> None:
    path = settings.data_dir
    if path.exists() and not path.is_dir():
        raise ConfigurationError(
            f"データディレクトリ {path} はファイルです。"
            "HIRAGA_DATA_DIR か --data-dir にディレクトリを指定してください。",
            code="data_dir_not_a_directory",
        )
    if not path.exists() and not create and settings.database_url is None:
        raise ConfigurationError(
            f"データディレクトリ {path} がありません。パスを確認するか、先に hiraga serve または "
            "hiraga db upgrade で作成してください。",
            code="data_dir_missing",
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(
            f"データディレクトリ {path} を作成できません（{error.strerror}）。", code="data_dir_unusable"
        ) from None


def _configuration_error(error: ValidationError) -> ConfigurationError:
    problems = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        secret = any(word in field for word in ("secret", "key", "password", "token"))
        shown = "（秘匿値のため表示しません）" if secret else repr(problem.get("input"))[:80]
        variable = f"HIRAGA_{field.upper()}"
        problems.append({"variable": variable, "field": field, "input": shown, "reason": problem["msg"]})
    listed = "、".join(f"{p['variable']}（設定ファイルでは {p['field']}）= {p['input']}" for p in problems)
    return ConfigurationError(f"設定値が正しくありません: {listed}。値と形式を確認してください。", detail=problems)


def _stored_or_new_secret(settings: Settings) -> str:
    if settings.environment == "production":
        raise ConfigurationError("本番モードでは HIRAGA_SECRET_KEY を必ず設定してください。")
    path = settings.data_dir / SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def _refuse_weak_secret(settings: Settings) -> None:
    if settings.environment != "production":
        return
    key = settings.secret()
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 10:
        raise ConfigurationError(
            f"HIRAGA_SECRET_KEY が弱すぎます（{MIN_SECRET_KEY_LENGTH} 文字以上のランダムな値にしてください）。"
        )
