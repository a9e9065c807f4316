"""Bridge settings: flag > env > TOML file > default, secrets per platform and shop, bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.settings import BridgeSettings, SettingsError, load_bridge_settings
from tests.support.bridge import SECRET_ENV

TOML = """
[bridge]
http_listen = "127.0.0.1:9001"
core = "127.0.0.1:9002"
max_body_bytes = 2048

[secrets]
webhook_secret = "from-file"
square_signature_key = ["sq-new", "sq-old"]

[secrets.shops."shop-a.myshopify.com"]
shopify = ["shop-a-secret"]
"""


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TOML configuration file named by COMMERCE_GATEWAY_CONFIG, with a clean environment."""
    for name in SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in ("COMMERCE_GATEWAY_HTTP_LISTEN", "COMMERCE_GATEWAY_CORE"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "gateway.toml"
    path.write_text(TOML)
    monkeypatch.setenv("COMMERCE_GATEWAY_CONFIG", str(path))
    return path


def test_file_values_apply_and_env_and_flags_override_them(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_bridge_settings().http_listen == "127.0.0.1:9001"
    monkeypatch.setenv("COMMERCE_GATEWAY_HTTP_LISTEN", "127.0.0.1:9003")
    monkeypatch.setenv("COMMERCE_GATEWAY_CORE", "127.0.0.1:9004")
    settings = load_bridge_settings(http_listen="127.0.0.1:9005")
    assert settings.http_listen == "127.0.0.1:9005"
    assert settings.core == "127.0.0.1:9004"
    assert settings.max_body_bytes == 2048
    assert settings.forward_deadline_ms == 500


def test_secrets_from_file_and_env_per_platform_and_shop(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BETTERDATA_WEBHOOK_SECRET", "whsec_a, whsec_b")
    secrets = load_bridge_settings().platform_secrets()
    assert secrets.fallback == ("from-file",)
    assert secrets.by_platform["square"] == ("sq-new", "sq-old")
    assert secrets.by_platform["betterdata"] == ("whsec_a", "whsec_b")
    assert secrets.for_shop("shopify", "shop-a.myshopify.com") == ("shop-a-secret",)
    assert load_bridge_settings().first_secret("square") == "sq-new"
    assert load_bridge_settings().first_secret("shopify") == "from-file"


def test_no_secret_anywhere_is_reported(config_file: Path) -> None:
    config_file.write_text("[bridge]\n")
    settings = load_bridge_settings()
    assert not settings.has_any_secret()
    assert settings.first_secret("shopify") is None


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("COMMERCE_GATEWAY_HTTP_LISTEN", "nowhere", "HOST:PORT"),
        ("COMMERCE_GATEWAY_MAX_BODY_BYTES", "-1", "max_body_bytes"),
        ("COMMERCE_GATEWAY_FORWARD_DEADLINE_MS", "soon", "forward_deadline_ms"),
        ("COMMERCE_GATEWAY_SQUARE_LEGACY_SHA1", "perhaps", "square_legacy_sha1"),
    ],
)
def test_bad_setting_is_one_line_naming_it(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_bridge_settings()
    message = str(raised.value)
    assert "\n" not in message
    assert named.lower() in message.lower()


def test_unreadable_config_file_is_a_setting_error(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.write_text("not = [valid toml")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_bridge_settings()


def test_settings_repr_never_shows_a_secret_or_token() -> None:
    settings = BridgeSettings(
        webhook_secret="s-fallback",
        shopify_webhook_secret="s-shopify",
        square_signature_key="s-square",
        betterdata_webhook_secret="whsec_c2VjcmV0",
        publisher_token="t-publisher",
        shop_secrets={"a.myshopify.com": {"shopify": ["s-shop"]}},
    )
    shown = repr(settings) + str(settings)
    for secret in ("s-fallback", "s-shopify", "s-square", "whsec_", "t-publisher", "s-shop"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("[bridge]\nmax_body_byte = 1\n", "unknown key 'max_body_byte' in [bridge]"),
        (
            '[secrets]\nshopfy_webhook_secret = "s"\n',
            "unknown key 'shopfy_webhook_secret' in [secrets]",
        ),
        ("[secrets]\nmax_body_bytes = 1\n", "unknown key 'max_body_bytes' in [secrets]"),
        (
            '[secrets.shops."a.myshopify.com"]\nshopfy = ["s"]\n',
            "unknown key 'shopfy' in [secrets.shops.'a.myshopify.com']",
        ),
        ('[brigde]\ncore = "127.0.0.1:1"\n', "unknown table or key 'brigde'"),
    ],
    ids=["bridge", "secrets", "setting-in-secrets", "shop-platform", "table"],
)
def test_unknown_toml_key_is_refused_naming_it_and_its_table(
    config_file: Path, toml: str, named: str
) -> None:
    config_file.write_text(toml)
    with pytest.raises(SettingsError) as raised:
        load_bridge_settings()
    assert named in str(raised.value)
    assert "\n" not in str(raised.value)


def test_secrets_may_also_sit_in_the_bridge_table(config_file: Path) -> None:
    config_file.write_text(
        '[bridge]\nwebhook_secret = "in-bridge"\n[secrets]\nWEBHOOK_SECRET = "x"\n'
    )
    assert load_bridge_settings().platform_secrets().fallback == ("x",)


@pytest.mark.parametrize(
    ("overrides", "flag", "message"),
    [
        (
            {"http_listen": "http://127.0.0.1:8080"},
            "--listen",
            "expected HOST:PORT without a scheme",
        ),
        ({"core": "nowhere"}, "--core", "expected HOST:PORT"),
    ],
)
def test_a_bad_flag_value_names_the_flag(
    config_file: Path, overrides: dict[str, str], flag: str, message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_bridge_settings(flag_names={"http_listen": "--listen"}, **overrides)
    assert str(raised.value).startswith(f"{flag}: {message}")


def test_a_bad_env_value_names_the_variable_and_a_toml_value_its_key(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMERCE_GATEWAY_MAX_BODY_BYTES", "0")
    with pytest.raises(SettingsError) as raised:
        load_bridge_settings()
    assert str(raised.value).startswith("COMMERCE_GATEWAY_MAX_BODY_BYTES: ")
    monkeypatch.delenv("COMMERCE_GATEWAY_MAX_BODY_BYTES")
    config_file.write_text('[bridge]\nforward_deadline_ms = "soon"\n')
    with pytest.raises(SettingsError) as raised:
        load_bridge_settings()
    assert str(raised.value).startswith(
        "forward_deadline_ms in [bridge] of COMMERCE_GATEWAY_CONFIG: "
    )
