"""Settings: ``config.toml`` + ``ALPHAPEER_<SECTION>_<KEY>`` overrides, loaded once, frozen.

Secrets never live in the file; they come from the environment at start-up only.
"""

from __future__ import annotations

import dataclasses
import os
import secrets as _secrets
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import ConfigError
from core.money import CURRENCIES

ENV_PREFIX = "ALPHAPEER_"
# Variables with our prefix that are not <SECTION>_<KEY> overrides.
RESERVED_ENV = {"ALPHAPEER_CONFIG", "ALPHAPEER_SECRET_KEY"}


@dataclass(frozen=True)
class AppSettings:
    env: str = "development"
    data_dir: str = "var"
    log_level: str = "INFO"
    default_timezone: str = "UTC"
    currency: str = "USD"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""
    echo: bool = False
    pool_size: int = 10
    busy_timeout_ms: int = 15000


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses).
    trusted_proxies: str = ""

    @property
    def proxies(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.trusted_proxies.split(",") if p.strip())


@dataclass(frozen=True)
class TelegramSettings:
    enabled: bool = True
    mode: str = "polling"
    base_url: str = "https://api.telegram.org/bot"
    webhook_path: str = "/telegram/webhook"
    # The bot's @username without the @, for t.me invite links (empty: links open our page).
    bot_username: str = ""
    # Keep to Telegram's sending limits (30 messages/s overall, about 1/s per chat). Off only
    # against a stand-in Bot API (load tests), which has no limits to keep to.
    rate_limit: bool = True


@dataclass(frozen=True)
class DiscordSettings:
    enabled: bool = True
    guild_id: int = 0
    # A text channel where each session gets a private thread (0: relayed DMs instead).
    session_channel_id: int = 0
    # An invite link to the community server, shown on invitation pages (empty: none).
    invite_url: str = ""


@dataclass(frozen=True)
class BookingSettings:
    hold_minutes: int = 15
    late_cancel_hours: int = 24
    rebook_window_minutes: int = 30
    horizon_days: int = 28
    min_notice_minutes: int = 120
    pay_link_minutes: int = 60


@dataclass(frozen=True)
class SplitSettings:
    platform_pct: int = 15
    creator_pct: int = 15
    teacher_pct: int = 70


@dataclass(frozen=True)
class PaymentSettings:
    provider: str = "sandbox"  # "sandbox" (a local checkout page) or "stripe"
    stripe_api_base: str = "https://api.stripe.com"
    # Money for a session is released no sooner than this after it ends (time to object).
    cooling_off_hours: int = 48
    # Share of the price taken from a teacher who cancels late (0 switches it off).
    teacher_late_cancel_charge_pct: int = 10
    # A payee's yearly earnings at or above this (minor units) get a tax report (1099-style).
    tax_report_threshold_minor: int = 60000


@dataclass(frozen=True)
class SchedulerSettings:
    enabled: bool = True
    sweep_seconds: int = 30


@dataclass(frozen=True)
class CalendarSettings:
    refresh_seconds: int = 300  # how often the job looks for outside calendars to re-read
    # Teachers' calendar links are fetched by the server: refuse internal addresses
    # (server-side request forgery) unless a test or a private deployment allows them.
    allow_private_hosts: bool = False


@dataclass(frozen=True)
class VideoSettings:
    # "bbb": our BigBlueButton server (recording, attendance); "jitsi": a link to a hard to
    # guess room on a Jitsi server (no recording, no attendance: people confirm by hand).
    provider: str = "jitsi"
    bbb_url: str = ""                     # e.g. https://bbb.example.org/bigbluebutton/
    jitsi_url: str = "https://meet.jit.si"
    opens_minutes_before: int = 15        # the join link works this long before the start
    attendance_poll_seconds: int = 60     # how often a running meeting's attendees are read
    intro_minutes: int = 15               # free intro rooms close after this long
    max_participants: int = 3             # two participants and room for the admin
    # Present for at least this share of the session counts as attended; less is partial.
    attended_pct: int = 75


@dataclass(frozen=True)
class AISettings:
    # An OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp); empty: AI is off and
    # /ask answers from the course materials by full-text search.
    base_url: str = ""
    chat_model: str = "gpt-4o-mini"
    transcribe_model: str = "whisper-1"
    timeout_seconds: int = 60


@dataclass(frozen=True)
class EmailSettings:
    # "folder": write each email to a file in data_dir/<folder> and the log (development);
    # "smtp": send through an SMTP server (password from SMTP_PASSWORD).
    backend: str = "folder"
    folder: str = "mail"
    host: str = "127.0.0.1"
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    username: str = ""
    sender: str = "Alpha Peer <no-reply@alphapeer.example>"
    timeout_seconds: int = 30


@dataclass(frozen=True)
class AccountSettings:
    web_session_days: int = 14      # a web sign-in lasts this long
    code_minutes: int = 15          # email verification codes and links
    reset_minutes: int = 30         # password reset and set-password links


@dataclass(frozen=True)
class Secrets:
    """Values that only ever come from the environment."""

    secret_key: str = field(repr=False, default="")
    telegram_token: str = field(repr=False, default="")
    discord_token: str = field(repr=False, default="")
    stripe_secret_key: str = field(repr=False, default="")
    stripe_webhook_secret: str = field(repr=False, default="")
    bbb_secret: str = field(repr=False, default="")
    openai_api_key: str = field(repr=False, default="")
    smtp_password: str = field(repr=False, default="")


@dataclass(frozen=True)
class Settings:
    app: AppSettings = field(default_factory=AppSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    web: WebSettings = field(default_factory=WebSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    booking: BookingSettings = field(default_factory=BookingSettings)
    split: SplitSettings = field(default_factory=SplitSettings)
    payments: PaymentSettings = field(default_factory=PaymentSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    calendars: CalendarSettings = field(default_factory=CalendarSettings)
    video: VideoSettings = field(default_factory=VideoSettings)
    ai: AISettings = field(default_factory=AISettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    accounts: AccountSettings = field(default_factory=AccountSettings)
    secrets: Secrets = field(default_factory=Secrets)
    root: str = "."

    @property
    def data_path(self) -> Path:
        path = Path(self.app.data_dir)
        return path if path.is_absolute() else Path(self.root) / path

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite+aiosqlite:///{self.data_path / 'alphapeer.db'}"


_SECTIONS: dict[str, type[Any]] = {
    "app": AppSettings,
    "database": DatabaseSettings,
    "web": WebSettings,
    "telegram": TelegramSettings,
    "discord": DiscordSettings,
    "booking": BookingSettings,
    "split": SplitSettings,
    "payments": PaymentSettings,
    "scheduler": SchedulerSettings,
    "calendars": CalendarSettings,
    "video": VideoSettings,
    "ai": AISettings,
    "email": EmailSettings,
    "accounts": AccountSettings,
}


def _coerce(value: Any, kind: Any, key: str) -> Any:
    """Turn a TOML or environment value into ``kind`` or fail naming ``key``."""
    if get_origin(kind) in (Union, types.UnionType):
        kind = next(a for a in get_args(kind) if a is not type(None))
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool | float):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}") from None
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected text, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported setting type")  # pragma: no cover


def _section(name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    cls = _SECTIONS[name]
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in hints:
            raise ConfigError(f"[{name}] {key}: unknown setting")
        values[key] = _coerce(value, hints[key], f"[{name}] {key}")
    for key in hints:
        env_name = f"{ENV_PREFIX}{name.upper()}_{key.upper()}"
        if env_name in env:
            values[key] = _coerce(env[env_name], hints[key], env_name)
    return cls(**values)


def _check_env_names(env: Mapping[str, str]) -> None:
    known = {
        f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
        for section, cls in _SECTIONS.items()
        for key in get_type_hints(cls)
    }
    for name in env:
        if name.startswith(ENV_PREFIX) and name not in known and name not in RESERVED_ENV:
            raise ConfigError(f"{name}: unknown setting (check the spelling)")


def _validate(s: Settings) -> None:
    for key, zone in (("[app] default_timezone", s.app.default_timezone),):
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{key}: unknown timezone {zone!r}") from None
    if s.app.currency not in CURRENCIES:
        raise ConfigError(
            f"[app] currency: expected one of {', '.join(sorted(CURRENCIES))}, "
            f"got {s.app.currency!r}"
        )
    if s.app.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError(
            f"[app] log_level: expected DEBUG, INFO, WARNING, ERROR or CRITICAL, "
            f"got {s.app.log_level!r}"
        )
    for key, value, least in (
        ("[database] pool_size", s.database.pool_size, 1),
        ("[database] busy_timeout_ms", s.database.busy_timeout_ms, 0),
        ("[scheduler] sweep_seconds", s.scheduler.sweep_seconds, 1),
    ):
        if value < least:
            raise ConfigError(f"{key}: must be at least {least}, got {value}")
    if s.app.env not in {"development", "production", "test"}:
        raise ConfigError(
            f"[app] env: expected development, production or test, got {s.app.env!r}"
        )
    if s.telegram.mode not in {"polling", "webhook"}:
        raise ConfigError(f"[telegram] mode: expected polling or webhook, got {s.telegram.mode!r}")
    if not 0 < s.web.port < 65536:
        raise ConfigError(f"[web] port: expected 1-65535, got {s.web.port}")
    url = urlsplit(s.web.public_url)
    if url.scheme not in {"http", "https"} or not url.netloc:
        raise ConfigError(f"[web] public_url: expected an http(s) URL, got {s.web.public_url!r}")
    host = (url.hostname or "").lower()
    if (
        s.telegram.enabled
        and s.secrets.telegram_token
        and (host == "localhost" or host.startswith("127.") or "." not in host)
    ):
        raise ConfigError(
            f"[web] public_url: Telegram refuses buttons that link to {host!r}; "
            "set it to the address people's browsers reach this server at"
        )
    pcts = (s.split.platform_pct, s.split.creator_pct, s.split.teacher_pct)
    if any(p < 0 for p in pcts) or sum(pcts) != 100:
        raise ConfigError(
            f"[split] platform_pct + creator_pct + teacher_pct must add up to 100, got {pcts}"
        )
    pay = s.payments
    if pay.provider not in {"sandbox", "stripe"}:
        raise ConfigError(f"[payments] provider: expected sandbox or stripe, got {pay.provider!r}")
    if pay.provider == "stripe":
        missing = [name for name, value in (("STRIPE_SECRET_KEY", s.secrets.stripe_secret_key),
                                            ("STRIPE_WEBHOOK_SECRET",
                                             s.secrets.stripe_webhook_secret)) if not value]
        if missing:
            raise ConfigError(f"[payments] provider = stripe needs {' and '.join(missing)} in "
                              "the environment")
    if pay.provider == "sandbox" and s.app.env == "production":
        raise ConfigError("[payments] provider: the sandbox takes no real money; use stripe "
                          "in production")
    if urlsplit(pay.stripe_api_base).scheme not in {"http", "https"}:
        raise ConfigError(f"[payments] stripe_api_base: expected an http(s) URL, got "
                          f"{pay.stripe_api_base!r}")
    if not 0 <= pay.teacher_late_cancel_charge_pct <= 100:
        raise ConfigError("[payments] teacher_late_cancel_charge_pct: expected 0-100")
    if pay.cooling_off_hours < 0 or pay.tax_report_threshold_minor < 0:
        raise ConfigError("[payments] cooling_off_hours and tax_report_threshold_minor must "
                          "not be negative")
    for name in ("hold_minutes", "horizon_days", "late_cancel_hours", "pay_link_minutes"):
        if getattr(s.booking, name) <= 0:
            raise ConfigError(f"[booking] {name}: must be positive")
    if s.booking.min_notice_minutes < 0:
        raise ConfigError("[booking] min_notice_minutes: must not be negative")
    _validate_video_and_ai(s)
    _validate_email_and_accounts(s)
    scheme = s.database_url.split(":", 1)[0]
    if scheme not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
        raise ConfigError(
            "[database] url: expected sqlite+aiosqlite:// or postgresql+asyncpg://, "
            f"got {scheme!r}"
        )


def _validate_video_and_ai(s: Settings) -> None:
    video = s.video
    if video.provider not in {"bbb", "jitsi"}:
        raise ConfigError(f"[video] provider: expected bbb or jitsi, got {video.provider!r}")
    if video.provider == "bbb":
        if urlsplit(video.bbb_url).scheme not in {"http", "https"}:
            raise ConfigError(f"[video] bbb_url: expected the http(s) address of the "
                              f"BigBlueButton API, got {video.bbb_url!r}")
        if not s.secrets.bbb_secret:
            raise ConfigError("[video] provider = bbb needs BBB_SECRET in the environment")
    if urlsplit(video.jitsi_url).scheme not in {"http", "https"}:
        raise ConfigError(f"[video] jitsi_url: expected an http(s) URL, got {video.jitsi_url!r}")
    for key, value, least, most in (
        ("opens_minutes_before", video.opens_minutes_before, 0, 120),
        ("attendance_poll_seconds", video.attendance_poll_seconds, 5, 600),
        ("intro_minutes", video.intro_minutes, 5, 60),
        ("max_participants", video.max_participants, 2, 100),
        ("attended_pct", video.attended_pct, 1, 100),
    ):
        if not least <= value <= most:
            raise ConfigError(f"[video] {key}: expected {least}-{most}, got {value}")
    if s.ai.base_url and urlsplit(s.ai.base_url).scheme not in {"http", "https"}:
        raise ConfigError(f"[ai] base_url: expected an http(s) URL or empty, got "
                          f"{s.ai.base_url!r}")
    if not s.ai.chat_model or not s.ai.transcribe_model:
        raise ConfigError("[ai] chat_model and transcribe_model must not be empty")
    if s.ai.timeout_seconds < 1:
        raise ConfigError("[ai] timeout_seconds: must be at least 1")


def _validate_email_and_accounts(s: Settings) -> None:
    mail = s.email
    if mail.backend not in {"folder", "smtp"}:
        raise ConfigError(f"[email] backend: expected folder or smtp, got {mail.backend!r}")
    if mail.security not in {"starttls", "tls", "none"}:
        raise ConfigError(f"[email] security: expected starttls, tls or none, got "
                          f"{mail.security!r}")
    if not 0 < mail.port < 65536:
        raise ConfigError(f"[email] port: expected 1-65535, got {mail.port}")
    if "@" not in mail.sender:
        raise ConfigError(f"[email] sender: expected an address such as "
                          f"'Alpha Peer <no-reply@example.org>', got {mail.sender!r}")
    if mail.backend == "smtp" and not mail.host:
        raise ConfigError("[email] host: needed when backend = smtp")
    if mail.timeout_seconds < 1:
        raise ConfigError("[email] timeout_seconds: must be at least 1")
    for key, value, least, most in (
        ("web_session_days", s.accounts.web_session_days, 1, 365),
        ("code_minutes", s.accounts.code_minutes, 5, 1440),
        ("reset_minutes", s.accounts.reset_minutes, 5, 1440),
    ):
        if not least <= value <= most:
            raise ConfigError(f"[accounts] {key}: expected {least}-{most}, got {value}")


def _secret_key(env: Mapping[str, str], app: AppSettings, data_path: Path) -> str:
    """The signing key: from the environment, or (outside production) a local generated file."""
    if env.get("ALPHAPEER_SECRET_KEY"):
        key = env["ALPHAPEER_SECRET_KEY"]
        if len(key) < 32:
            raise ConfigError("ALPHAPEER_SECRET_KEY: must be at least 32 characters")
        return key
    if app.env == "production":
        raise ConfigError("ALPHAPEER_SECRET_KEY: required in production")
    keyfile = data_path / "secret.key"
    if keyfile.exists():
        key = keyfile.read_text().strip()
        if len(key) < 32:
            raise ConfigError(
                f"{keyfile}: the generated secret key is damaged (under 32 "
                "characters); delete the file to make a new one"
            )
        return key
    data_path.mkdir(parents=True, exist_ok=True)
    key = _secrets.token_urlsafe(48)
    keyfile.write_text(key)
    keyfile.chmod(0o600)
    return key


def load_settings(
    path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read the TOML file (``ALPHAPEER_CONFIG`` or ``./config.toml``) and the environment."""
    env = dict(os.environ if env is None else env)
    chosen = path or env.get("ALPHAPEER_CONFIG") or "config.toml"
    file = Path(chosen)
    raw: dict[str, Any] = {}
    if file.exists():
        try:
            raw = tomllib.loads(file.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML ({exc})") from None
    elif path or env.get("ALPHAPEER_CONFIG"):
        raise ConfigError(f"ALPHAPEER_CONFIG: file {file} does not exist")
    for name, value in raw.items():
        if name not in _SECTIONS or not isinstance(value, dict):
            raise ConfigError(f"[{name}]: unknown section")
    _check_env_names(env)
    sections = {name: _section(name, raw.get(name, {}), env) for name in _SECTIONS}
    root = str(file.resolve().parent) if file.exists() else str(Path.cwd())
    partial = Settings(**sections, root=root)
    secrets = Secrets(
        secret_key=_secret_key(env, partial.app, partial.data_path),
        telegram_token=env.get("TELEGRAM_BOT_TOKEN", ""),
        discord_token=env.get("DISCORD_BOT_TOKEN", ""),
        stripe_secret_key=env.get("STRIPE_SECRET_KEY", ""),
        stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET", ""),
        bbb_secret=env.get("BBB_SECRET", ""),
        openai_api_key=env.get("OPENAI_API_KEY", ""),
        smtp_password=env.get("SMTP_PASSWORD", ""),
    )
    settings = dataclasses.replace(partial, secrets=secrets)
    _validate(settings)
    return settings
