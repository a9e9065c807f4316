"""CoreSettings: precedence flag > env > TOML > default, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.config_values import split_host_port
from service.settings import SettingsError, load_core_settings


def write_config(path: Path, text: str) -> Path:
    """Writes a TOML config file."""
    path.write_text(text)
    return path


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMMERCE_GATEWAY_CONFIG", raising=False)
    settings = load_core_settings()
    assert settings.grpc_listen == "127.0.0.1:50051"
    assert settings.low_stock_threshold == 5
    assert settings.retention_hours == 168
    assert settings.session_attribute == "gateway_session_id"


def test_flag_beats_env_beats_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.toml",
        '[core]\ngrpc_listen = "127.0.0.1:1111"\nlow_stock_threshold = 9\nheartbeat_seconds = 3\n',
    )
    monkeypatch.setenv("COMMERCE_GATEWAY_CONFIG", str(config))
    monkeypatch.setenv("COMMERCE_GATEWAY_GRPC_LISTEN", "127.0.0.1:2222")
    monkeypatch.setenv("COMMERCE_GATEWAY_LOW_STOCK_THRESHOLD", "7")
    settings = load_core_settings(grpc_listen="127.0.0.1:3333")
    assert settings.grpc_listen == "127.0.0.1:3333"
    assert settings.low_stock_threshold == 7
    assert settings.heartbeat_seconds == 3


def test_bad_env_value_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMERCE_GATEWAY_HEARTBEAT_SECONDS", "soon")
    with pytest.raises(SettingsError) as error:
        load_core_settings()
    assert "COMMERCE_GATEWAY_HEARTBEAT_SECONDS" in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_config_file_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COMMERCE_GATEWAY_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(SettingsError, match="file not found"):
        load_core_settings()


def test_tls_needs_cert_and_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COMMERCE_GATEWAY_TLS_CERT", str(tmp_path / "cert.pem"))
    with pytest.raises(SettingsError, match="tls_cert and tls_key"):
        load_core_settings()


def test_tokens_allow_any_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMERCE_GATEWAY_PUBLISHER_TOKEN", "pub-secret-123")
    monkeypatch.setenv("COMMERCE_GATEWAY_SUBSCRIBER_TOKEN", "s")
    settings = load_core_settings(grpc_listen="0.0.0.0:50051")
    assert settings.publisher_token is not None
    assert "pub-secret-123" not in repr(settings)


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[core]\ngrpc_listn = "127.0.0.1:1"\n', "unknown key 'grpc_listn' in [core]"),
        ('[cor]\ngrpc_listen = "127.0.0.1:1"\n', "unknown table or key 'cor'"),
        ('grpc_listen = "127.0.0.1:1"\n', "unknown table or key 'grpc_listen'"),
    ],
    ids=["key", "table", "key-outside-a-table"],
)
def test_unknown_toml_key_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str, named: str
) -> None:
    config = write_config(tmp_path / "c.toml", toml)
    monkeypatch.setenv("COMMERCE_GATEWAY_CONFIG", str(config))
    with pytest.raises(SettingsError) as error:
        load_core_settings()
    assert named in str(error.value)
    assert str(config) in str(error.value)
    assert "\n" not in str(error.value)


def test_unknown_key_error_suggests_the_close_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "c.toml", "[core]\nheartbeat_second = 3\n")
    monkeypatch.setenv("COMMERCE_GATEWAY_CONFIG", str(config))
    with pytest.raises(SettingsError, match="did you mean 'heartbeat_seconds'"):
        load_core_settings()


def test_every_documented_key_is_known(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.toml",
        '[core]\nstore = ""\nretention_hours = 2\nsession_attribute = "s"\n'
        '[bridge]\nmax_body_bytes = 10\n[secrets]\nwebhook_secret = "w"\n',
    )
    monkeypatch.setenv("COMMERCE_GATEWAY_CONFIG", str(config))
    assert load_core_settings().retention_hours == 2


def test_a_bad_flag_value_names_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMMERCE_GATEWAY_CONFIG", raising=False)
    monkeypatch.setenv("COMMERCE_GATEWAY_GRPC_LISTEN", "127.0.0.1:1")
    with pytest.raises(SettingsError) as error:
        load_core_settings(flag_names={"grpc_listen": "--listen"}, grpc_listen="nowhere")
    assert str(error.value).startswith("--listen: expected HOST:PORT")
    with pytest.raises(SettingsError) as error:
        load_core_settings(store="mysql://user:password@db/x")
    assert str(error.value).startswith("--store: expected empty, sqlite:///PATH or postgres://")
    assert "password" not in str(error.value)


def test_a_bad_toml_value_names_its_key_and_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "c.toml", '[core]\nheartbeat_seconds = "soon"\n')
    monkeypatch.setenv("COMMERCE_GATEWAY_CONFIG", str(config))
    monkeypatch.delenv("COMMERCE_GATEWAY_HEARTBEAT_SECONDS", raising=False)
    with pytest.raises(SettingsError) as error:
        load_core_settings()
    assert str(error.value).startswith("heartbeat_seconds in [core] of COMMERCE_GATEWAY_CONFIG:")


@pytest.mark.parametrize(
    ("value", "like"),
    [
        ("http://127.0.0.1:8080", "127.0.0.1:8080"),
        ("grpc://localhost:50051/", "localhost:50051"),
        ("https://example.com", "127.0.0.1:8080"),
    ],
)
def test_an_address_with_a_scheme_is_refused_saying_so(value: str, like: str) -> None:
    with pytest.raises(ValueError) as error:
        split_host_port(value)
    assert str(error.value) == (f"expected HOST:PORT without a scheme (like {like}), got {value!r}")
