"""Settings: config.toml, ALPHAPEER_<SECTION>_<KEY> overrides, secrets only from env."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest

from core.config import Settings, load_settings
from core.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.toml"
SECRET = "s" * 40


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with a data dir under ``tmp_path`` and, unless overridden, a secret."""
    return {"ALPHAPEER_APP_DATA_DIR": str(tmp_path / "data"), "ALPHAPEER_SECRET_KEY": SECRET,
            **extra}


def _load(tmp_path: Path, **extra: str) -> Settings:
    return load_settings(CONFIG, env=_env(tmp_path, **extra))


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "custom.toml"
    path.write_text(text)
    return path


def test_config_project_file_loads_its_defaults(tmp_path: Path) -> None:
    s = _load(tmp_path)
    assert s.app.env == "development"
    assert s.app.log_level == "WARNING"  # the file's value, not the dataclass default
    assert s.app.default_timezone == "UTC" and s.app.currency == "USD"
    assert (s.web.host, s.web.port) == ("127.0.0.1", 8080)
    assert (s.split.platform_pct, s.split.creator_pct, s.split.teacher_pct) == (15, 15, 70)
    assert (s.booking.hold_minutes, s.booking.horizon_days) == (15, 28)
    assert s.telegram.mode == "polling" and s.telegram.enabled is True
    assert s.database.url == "" and s.database.echo is False
    assert s.root == str(ROOT)
    assert s.data_path == tmp_path / "data"
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'alphapeer.db'}"


def test_config_empty_file_falls_back_to_dataclass_defaults(tmp_path: Path) -> None:
    s = load_settings(_toml(tmp_path, ""), env=_env(tmp_path))
    assert s.app.log_level == "INFO"
    assert s.web.port == 8080
    assert s.root == str(tmp_path)


def test_config_env_overrides_int_bool_and_str(tmp_path: Path) -> None:
    s = _load(tmp_path, ALPHAPEER_WEB_PORT="9000", ALPHAPEER_DATABASE_ECHO="true",
              ALPHAPEER_TELEGRAM_ENABLED="off", ALPHAPEER_WEB_HOST="0.0.0.0",
              ALPHAPEER_BOOKING_HOLD_MINUTES=" 20 ")
    assert s.web.port == 9000 and type(s.web.port) is int
    assert s.database.echo is True
    assert s.telegram.enabled is False
    assert s.web.host == "0.0.0.0"
    assert s.booking.hold_minutes == 20


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", True), ("yes", True), ("TRUE", True), (" on ", True),
    ("0", False), ("no", False), ("False", False), ("OFF", False),
])
def test_config_env_bool_spellings_are_understood(tmp_path: Path, raw: str,
                                                  expected: bool) -> None:
    assert _load(tmp_path, ALPHAPEER_SCHEDULER_ENABLED=raw).scheduler.enabled is expected


def test_config_env_override_beats_file_value(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[web]\nport = 7000\n")
    assert load_settings(path, env=_env(tmp_path)).web.port == 7000
    assert load_settings(path, env=_env(tmp_path, ALPHAPEER_WEB_PORT="9000")).web.port == 9000


def test_config_relative_data_dir_resolves_next_to_config_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[app]\ndata_dir = "state"\n')
    s = load_settings(path, env={"ALPHAPEER_SECRET_KEY": SECRET})
    assert s.data_path == tmp_path / "state"


def test_config_settings_are_frozen(tmp_path: Path) -> None:
    s = _load(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.web.port = 1  # type: ignore[misc]


def test_config_unrelated_environment_variables_are_ignored(tmp_path: Path) -> None:
    s = _load(tmp_path, HOME="/root", ALPHAPEERX="1", PATH="/usr/bin")
    assert s.web.port == 8080


@pytest.mark.parametrize(("env", "key"), [
    ({"ALPHAPEER_WEB_PORT": "abc"}, "ALPHAPEER_WEB_PORT"),
    ({"ALPHAPEER_WEB_PORT": "70000"}, "[web] port"),
    ({"ALPHAPEER_WEB_PORT": "0"}, "[web] port"),
    ({"ALPHAPEER_DATABASE_ECHO": "maybe"}, "ALPHAPEER_DATABASE_ECHO"),
    ({"ALPHAPEER_SPLIT_TEACHER_PCT": "60"}, "[split]"),
    ({"ALPHAPEER_SPLIT_PLATFORM_PCT": "-10", "ALPHAPEER_SPLIT_TEACHER_PCT": "95"}, "[split]"),
    ({"ALPHAPEER_WEB_PROT": "9000"}, "ALPHAPEER_WEB_PROT"),
    ({"ALPHAPEER_SECRETKEY": SECRET}, "ALPHAPEER_SECRETKEY"),
    ({"ALPHAPEER_APP_DEFAULT_TIMEZONE": "Mars/Olympus"}, "[app] default_timezone"),
    ({"ALPHAPEER_APP_DEFAULT_TIMEZONE": "Berlin"}, "[app] default_timezone"),
    ({"ALPHAPEER_DATABASE_URL": "mysql://db/alphapeer"}, "[database] url"),
    ({"ALPHAPEER_DATABASE_URL": "postgresql://db/alphapeer"}, "[database] url"),
    ({"ALPHAPEER_APP_ENV": "staging"}, "[app] env"),
    ({"ALPHAPEER_TELEGRAM_MODE": "push"}, "[telegram] mode"),
    ({"ALPHAPEER_WEB_PUBLIC_URL": "ftp://example.com"}, "[web] public_url"),
    ({"ALPHAPEER_BOOKING_HOLD_MINUTES": "0"}, "[booking] hold_minutes"),
    ({"ALPHAPEER_BOOKING_MIN_NOTICE_MINUTES": "-1"}, "[booking] min_notice_minutes"),
], ids=lambda v: "|".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else None)
def test_config_bad_env_value_fails_naming_the_key(tmp_path: Path, env: dict[str, str],
                                                   key: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, **env)
    assert key in str(info.value)


@pytest.mark.parametrize(("text", "key"), [
    ("[web]\nport = 70000\n", "[web] port"),
    ('[web]\nport = "abc"\n', "[web] port"),
    ("[split]\nteacher_pct = 50\n", "[split]"),
    ("[payments]\nprovider = 1\n", "[payments]"),
    ("title = 'Alpha Peer'\n", "[title]"),
    ("[web]\nprot = 9000\n", "[web] prot"),
    ('[app]\ndefault_timezone = "Atlantis/Capital"\n', "[app] default_timezone"),
    ('[database]\nurl = "sqlite:///alphapeer.db"\n', "[database] url"),
    ('[telegram]\nenabled = "sometimes"\n', "[telegram] enabled"),
    ("[discord]\nguild_id = true\n", "[discord] guild_id"),
    ("[web]\nport = [8080]\n", "[web] port"),
], ids=["port-range", "port-text", "split-sum", "unknown-section", "top-level-key",
        "unknown-key", "timezone", "db-scheme", "bool-text", "int-bool", "int-list"])
def test_config_bad_file_value_fails_naming_the_key(tmp_path: Path, text: str,
                                                    key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_toml(tmp_path, text), env=_env(tmp_path))
    assert key in str(info.value)


def test_config_invalid_toml_fails_naming_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[web\nport = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_settings(path, env=_env(tmp_path))
    assert str(path) in str(info.value)


def test_config_secret_in_file_is_refused(tmp_path: Path) -> None:
    path = _toml(tmp_path, f'[secrets]\nsecret_key = "{SECRET}"\n')
    with pytest.raises(ConfigError, match=r"\[secrets\]"):
        load_settings(path, env=_env(tmp_path))


def test_config_alphapeer_config_selects_another_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[web]\nport = 7777\n")
    s = load_settings(env=_env(tmp_path, ALPHAPEER_CONFIG=str(path)))
    assert s.web.port == 7777
    assert s.root == str(tmp_path)


def test_config_alphapeer_config_missing_file_fails_clearly(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "alphapeer.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(env=_env(tmp_path, ALPHAPEER_CONFIG=str(missing)))
    assert "ALPHAPEER_CONFIG" in str(info.value)
    assert str(missing) in str(info.value)
    assert "does not exist" in str(info.value)


def test_config_explicit_missing_path_fails_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match="does not exist") as info:
        load_settings(missing, env=_env(tmp_path))
    assert str(missing) in str(info.value)


@pytest.mark.parametrize("secret", [None, ""], ids=["unset", "empty"])
def test_config_production_without_secret_key_fails(tmp_path: Path, secret: str | None) -> None:
    env = _env(tmp_path, ALPHAPEER_APP_ENV="production")
    del env["ALPHAPEER_SECRET_KEY"]
    if secret is not None:
        env["ALPHAPEER_SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="ALPHAPEER_SECRET_KEY: required in production"):
        load_settings(CONFIG, env=env)
    assert not (tmp_path / "data" / "secret.key").exists()


def test_config_reads_stripe_secrets_and_production_refuses_the_sandbox(
        tmp_path: Path) -> None:
    s = _load(tmp_path, ALPHAPEER_APP_ENV="test", STRIPE_SECRET_KEY="sk_test_x")
    assert s.secrets.secret_key == SECRET
    assert s.secrets.stripe_secret_key == "sk_test_x"
    with pytest.raises(ConfigError, match="sandbox takes no real money"):
        _load(tmp_path, ALPHAPEER_APP_ENV="production")


def test_config_refuses_unknown_providers_and_stripe_without_its_secrets(
        tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sandbox takes no real money"):
        _load(tmp_path, ALPHAPEER_APP_ENV="production")
    with pytest.raises(ConfigError, match="needs STRIPE_WEBHOOK_SECRET in the environment"):
        _load(tmp_path, ALPHAPEER_PAYMENTS_PROVIDER="stripe", STRIPE_SECRET_KEY="sk_test_x")
    with pytest.raises(ConfigError, match="needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"):
        _load(tmp_path, ALPHAPEER_PAYMENTS_PROVIDER="stripe")
    s = _load(tmp_path, ALPHAPEER_PAYMENTS_PROVIDER="stripe", STRIPE_SECRET_KEY="sk_test_x",
              STRIPE_WEBHOOK_SECRET="whsec_x", ALPHAPEER_APP_ENV="production")
    assert s.payments.provider == "stripe"
    with pytest.raises(ConfigError, match="provider: expected sandbox or stripe"):
        _load(tmp_path, ALPHAPEER_PAYMENTS_PROVIDER="paypal")


@pytest.mark.parametrize("env_name", ["development", "production"])
def test_config_short_secret_key_fails(tmp_path: Path, env_name: str) -> None:
    with pytest.raises(ConfigError, match="ALPHAPEER_SECRET_KEY: must be at least 32"):
        _load(tmp_path, ALPHAPEER_APP_ENV=env_name, ALPHAPEER_SECRET_KEY="x" * 31)


def test_config_secret_key_of_32_characters_is_enough(tmp_path: Path) -> None:
    assert _load(tmp_path, ALPHAPEER_SECRET_KEY="x" * 32).secrets.secret_key == "x" * 32


def test_config_secrets_come_from_env_and_stay_out_of_repr(tmp_path: Path) -> None:
    s = _load(tmp_path, TELEGRAM_BOT_TOKEN="123:telegram-token",
              DISCORD_BOT_TOKEN="discord-token-xyz",
              ALPHAPEER_WEB_PUBLIC_URL="https://alphapeer.example.com")
    assert s.secrets.secret_key == SECRET
    assert s.secrets.telegram_token == "123:telegram-token"
    assert s.secrets.discord_token == "discord-token-xyz"
    shown = repr(s)
    assert SECRET not in shown and "telegram-token" not in shown and "discord-token" not in shown


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:8080",
                                 "http://alphapeer:8080"])
def test_config_telegram_token_with_a_loopback_public_url_fails_naming_the_key(
        tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match=r"\[web\] public_url: Telegram refuses"):
        _load(tmp_path, TELEGRAM_BOT_TOKEN="123:t", ALPHAPEER_WEB_PUBLIC_URL=url)
    _load(tmp_path, ALPHAPEER_WEB_PUBLIC_URL=url)  # fine without Telegram


def test_config_env_secret_key_writes_no_key_file(tmp_path: Path) -> None:
    _load(tmp_path)
    assert not (tmp_path / "data" / "secret.key").exists()


def test_config_development_generates_then_reuses_key_file(tmp_path: Path) -> None:
    env = {"ALPHAPEER_APP_DATA_DIR": str(tmp_path / "data")}
    first = load_settings(CONFIG, env=env).secrets.secret_key
    keyfile = tmp_path / "data" / "secret.key"
    assert keyfile.read_text().strip() == first
    assert len(first) >= 32
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert load_settings(CONFIG, env=env).secrets.secret_key == first
    other = load_settings(CONFIG, env={"ALPHAPEER_APP_DATA_DIR": str(tmp_path / "other")})
    assert other.secrets.secret_key != first


@pytest.mark.parametrize("content", ["", "short\n"], ids=["empty", "short"])
def test_config_development_weak_key_file_is_refused(tmp_path: Path, content: str) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret.key").write_text(content)
    with pytest.raises(ConfigError, match="secret"):
        load_settings(CONFIG, env={"ALPHAPEER_APP_DATA_DIR": str(tmp_path / "data")})


def test_config_float_for_int_setting_fails_naming_the_key(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[web]\nport = 8080.9\n")
    with pytest.raises(ConfigError, match=r"\[web\] port"):
        load_settings(path, env=_env(tmp_path))


@pytest.mark.parametrize(("env", "key"), [
    ({"ALPHAPEER_APP_CURRENCY": "XYZ"}, "currency"),
    ({"ALPHAPEER_APP_LOG_LEVEL": "LOUD"}, "log_level"),
], ids=["currency", "log_level"])
def test_config_unusable_app_value_fails_naming_the_key(tmp_path: Path, env: dict[str, str],
                                                        key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        _load(tmp_path, **env)
