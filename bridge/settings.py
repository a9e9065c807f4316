"""BridgeSettings: the bridge's configuration, read once (CLI flag > env > TOML file > default)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
from pydantic import (
    AliasChoices,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bridge.core_channel import core_credentials
from bridge.http_limits import HttpLimits
from bridge.platforms import REGISTRY
from bridge.platforms.betterdata import DEFAULT_SHOP as DEFAULT_BETTERDATA_SHOP
from bridge.platforms.common import PlatformName
from bridge.platforms.platform import (
    Platform,
    PlatformSecrets,
    VerificationConfig,
)
from bridge.platforms.standard_webhooks_keys import check_secrets, refuse_keys
from common.config_file import ConfigFileError, check_keys, config_section
from common.config_values import (
    SettingOrigins,
    SettingsError,
    check_log_level,
    is_loopback,
    split_host_port,
)

__all__ = ["BridgeSettings", "SettingsError", "load_bridge_settings"]


def _env(name: str, field: str) -> AliasChoices:
    return AliasChoices(name, field)


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


class _TomlSource(PydanticBaseSettingsSource):
    """The [bridge] and [secrets] tables of the configuration file, lowest priority."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Unused: the whole table is returned by __call__."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """Returns the file's bridge and secret settings keyed by field name; an unknown key
        is refused (ConfigFileError naming it and its table)."""
        values = dict(config_section("bridge", known=BRIDGE_KEYS))
        secrets = {k.lower(): v for k, v in config_section("secrets").items() if k != "shops"}
        check_keys("secrets", secrets, SECRET_KEYS)
        values.update(secrets)
        return {k: ",".join(v) if isinstance(v, list) else v for k, v in values.items()}


class BridgeSettings(BaseSettings):
    """Every setting of the HTTP bridge, with its documented default."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    http_listen: str = Field(
        "127.0.0.1:8080", validation_alias=_env("COMMERCE_GATEWAY_HTTP_LISTEN", "http_listen")
    )
    core: str = Field("127.0.0.1:50051", validation_alias=_env("COMMERCE_GATEWAY_CORE", "core"))
    publisher_token: str = Field(
        "", repr=False, validation_alias=_env("COMMERCE_GATEWAY_PUBLISHER_TOKEN", "publisher_token")
    )
    data_dir: Path = Field(
        Path(".commerce-gateway"), validation_alias=_env("COMMERCE_GATEWAY_DATA_DIR", "data_dir")
    )
    webhook_secret: str = Field(
        "", repr=False, validation_alias=_env("WEBHOOK_SECRET", "webhook_secret")
    )
    shopify_webhook_secret: str = Field(
        "", repr=False, validation_alias=_env("SHOPIFY_WEBHOOK_SECRET", "shopify_webhook_secret")
    )
    square_signature_key: str = Field(
        "", repr=False, validation_alias=_env("SQUARE_SIGNATURE_KEY", "square_signature_key")
    )
    square_notification_url: str = Field(
        "", validation_alias=_env("SQUARE_NOTIFICATION_URL", "square_notification_url")
    )
    betterdata_webhook_secret: str = Field(
        "",
        repr=False,
        validation_alias=_env("BETTERDATA_WEBHOOK_SECRET", "betterdata_webhook_secret"),
    )
    square_legacy_sha1: bool = Field(
        False, validation_alias=_env("COMMERCE_GATEWAY_SQUARE_LEGACY_SHA1", "square_legacy_sha1")
    )
    replay_window_hours: float = Field(
        72.0,
        gt=0,
        validation_alias=_env("COMMERCE_GATEWAY_REPLAY_WINDOW_HOURS", "replay_window_hours"),
    )
    timestamp_tolerance_seconds: float = Field(
        300.0,
        gt=0,
        validation_alias=_env(
            "COMMERCE_GATEWAY_TIMESTAMP_TOLERANCE_SECONDS", "timestamp_tolerance_seconds"
        ),
    )
    max_body_bytes: int = Field(
        1_048_576, gt=0, validation_alias=_env("COMMERCE_GATEWAY_MAX_BODY_BYTES", "max_body_bytes")
    )
    forward_deadline_ms: int = Field(
        500,
        gt=0,
        validation_alias=_env("COMMERCE_GATEWAY_FORWARD_DEADLINE_MS", "forward_deadline_ms"),
    )
    log_level: str = Field("info", validation_alias=_env("COMMERCE_GATEWAY_LOG_LEVEL", "log_level"))
    core_tls: bool = Field(False, validation_alias=_env("COMMERCE_GATEWAY_CORE_TLS", "core_tls"))
    core_tls_ca: Path | None = Field(
        None, validation_alias=_env("COMMERCE_GATEWAY_CORE_TLS_CA", "core_tls_ca")
    )
    console: bool = Field(True, validation_alias=_env("COMMERCE_GATEWAY_CONSOLE", "console"))
    console_token: str = Field(
        "",
        repr=False,
        validate_default=True,
        validation_alias=_env("COMMERCE_GATEWAY_CONSOLE_TOKEN", "console_token"),
    )
    console_ring_size: int = Field(
        1000,
        ge=1,
        le=100_000,
        validation_alias=_env("COMMERCE_GATEWAY_CONSOLE_RING_SIZE", "console_ring_size"),
    )
    max_header_bytes: int = Field(
        32_768,
        gt=0,
        validation_alias=_env("COMMERCE_GATEWAY_MAX_HEADER_BYTES", "max_header_bytes"),
    )
    max_header_line_bytes: int = Field(
        8_192,
        gt=0,
        validation_alias=_env("COMMERCE_GATEWAY_MAX_HEADER_LINE_BYTES", "max_header_line_bytes"),
    )
    max_header_count: int = Field(
        100,
        gt=0,
        validation_alias=_env("COMMERCE_GATEWAY_MAX_HEADER_COUNT", "max_header_count"),
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        validation_alias=_env("COMMERCE_GATEWAY_HEADER_TIMEOUT_SECONDS", "header_timeout_seconds"),
    )
    body_timeout_seconds: float = Field(
        10.0,
        gt=0,
        validation_alias=_env("COMMERCE_GATEWAY_BODY_TIMEOUT_SECONDS", "body_timeout_seconds"),
    )
    max_buffered_body_bytes: int = Field(
        67_108_864,
        gt=0,
        validation_alias=_env(
            "COMMERCE_GATEWAY_MAX_BUFFERED_BODY_BYTES", "max_buffered_body_bytes"
        ),
    )
    betterdata_default_shop: str = Field(
        DEFAULT_BETTERDATA_SHOP,
        max_length=255,
        validation_alias=_env(
            "COMMERCE_GATEWAY_BETTERDATA_DEFAULT_SHOP", "betterdata_default_shop"
        ),
    )
    shop_secrets: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict, exclude=True, repr=False
    )

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable a field is read from."""
        alias = cls.model_fields[field].validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else []
        return str(choices[0]) if choices else field.upper()

    @field_validator("http_listen", "core")
    @classmethod
    def _check_address(cls, value: str) -> str:
        split_host_port(value)
        return value

    @field_validator("core_tls_ca", mode="before")
    @classmethod
    def _check_ca_file(cls, value: Any) -> Any:
        if value in ("", None):
            return None
        if not Path(value).is_file():
            raise ValueError(f"CA file not found: {value}")
        return value

    @model_validator(mode="after")
    def _check_buffered_body(self) -> BridgeSettings:
        if self.max_buffered_body_bytes < self.max_body_bytes:
            raise ValueError(
                "max_buffered_body_bytes must be at least max_body_bytes "
                f"({self.max_buffered_body_bytes} < {self.max_body_bytes})"
            )
        return self

    @field_validator("betterdata_webhook_secret")
    @classmethod
    def _check_public_keys(cls, value: str) -> str:
        check_secrets(_split(value))
        return value

    @field_validator("webhook_secret", "shopify_webhook_secret", "square_signature_key")
    @classmethod
    def _refuse_public_keys(cls, value: str) -> str:
        refuse_keys(_split(value))
        return value

    @field_validator("shop_secrets")
    @classmethod
    def _check_shop_public_keys(
        cls, value: dict[str, dict[str, list[str]]]
    ) -> dict[str, dict[str, list[str]]]:
        for shop, table in value.items():
            for platform, secrets in table.items():
                try:
                    (check_secrets if platform == "betterdata" else refuse_keys)(secrets)
                except ValueError as error:
                    raise ValueError(f"[secrets.shops.{shop!r}] {platform}: {error}") from None
        return value

    @field_validator("betterdata_default_shop")
    @classmethod
    def _check_shop(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("a shop cannot contain a NUL character")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        return check_log_level(value)

    @field_validator("console_token")
    @classmethod
    def _check_console(cls, value: str, info: ValidationInfo) -> str:
        listen, console = info.data.get("http_listen"), info.data.get("console")
        host = split_host_port(listen)[0] if listen else "127.0.0.1"
        if console and not value and not is_loopback(host):
            raise ValueError(
                f"the console at /console needs COMMERCE_GATEWAY_CONSOLE_TOKEN when listening on "
                f"{host} (not loopback); set it, or COMMERCE_GATEWAY_CONSOLE=false"
            )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """CLI overrides, then the environment, then the TOML file."""
        return (init_settings, env_settings, _TomlSource(settings_cls))

    def platform_secrets(self) -> PlatformSecrets:
        """The configured secrets: fallback, per platform and per shop."""
        by_platform: dict[PlatformName, tuple[str, ...]] = {}
        for platform in REGISTRY.values():
            if _split(self._platform_raw(platform)):
                by_platform[platform.name] = _split(self._platform_raw(platform))
        by_shop = {
            shop: {p: tuple(v) for p, v in table.items() if p in REGISTRY}
            for shop, table in self.shop_secrets.items()
        }
        return PlatformSecrets(_split(self.webhook_secret), by_platform, by_shop)

    def _platform_raw(self, platform: Platform) -> str:
        """The platform's own secret setting (Platform.secret_variable), "" when none."""
        for name in type(self).model_fields:
            if type(self).env_name(name) == platform.secret_variable:
                return str(getattr(self, name))
        return ""

    def first_secret(self, platform: PlatformName) -> str | None:
        """The secret a sender signs with: the platform's first, else the fallback's first."""
        found = REGISTRY.get(platform)
        specific = self._platform_raw(found) if found is not None else ""
        candidates = _split(specific) or _split(self.webhook_secret)
        return candidates[0] if candidates else None

    def has_any_secret(self) -> bool:
        """Whether at least one secret is configured anywhere."""
        secrets = self.platform_secrets()
        return bool(secrets.fallback or secrets.by_platform or any(secrets.by_shop.values()))

    def core_credentials(self) -> grpc.ChannelCredentials | None:
        """TLS credentials for the channel to the core, or None for plaintext."""
        return core_credentials(self.core_tls, self.core_tls_ca)

    def verification_config(self) -> VerificationConfig:
        """The verification configuration the pipeline needs."""
        return VerificationConfig(
            secrets=self.platform_secrets(),
            notification_url=self.square_notification_url or None,
            legacy_sha1=self.square_legacy_sha1,
            replay_window=timedelta(hours=self.replay_window_hours),
            timestamp_tolerance=timedelta(seconds=self.timestamp_tolerance_seconds),
            default_shop=self.betterdata_default_shop,
        )

    def http_limits(self) -> HttpLimits:
        """The HTTP connection limits (header size, read timeouts) the server enforces."""
        return HttpLimits(
            max_header_bytes=self.max_header_bytes,
            max_header_line_bytes=self.max_header_line_bytes,
            max_header_count=self.max_header_count,
            header_timeout=self.header_timeout_seconds,
            body_timeout=self.body_timeout_seconds,
        )


# The keys the [bridge] and [secrets] tables accept (field names; secrets also in [bridge]).
BRIDGE_KEYS = frozenset(BridgeSettings.model_fields) - {"shop_secrets"}
SECRET_KEYS = frozenset(
    {
        "webhook_secret",
        "shopify_webhook_secret",
        "square_signature_key",
        "square_notification_url",
        "betterdata_webhook_secret",
    }
)


def _field_of(location: str) -> str:
    """The field an error location names (a field name or one of its env var aliases)."""
    for name in BridgeSettings.model_fields:
        if location in (name, BridgeSettings.env_name(name)):
            return name
    return location


def _shop_secrets() -> dict[str, dict[str, list[str]]]:
    shops = config_section("secrets").get("shops", {})
    if not isinstance(shops, dict):
        raise SettingsError("[secrets.shops] must be a table of shop tables")
    result: dict[str, dict[str, list[str]]] = {}
    for shop, table in shops.items():
        if not isinstance(table, dict):
            raise SettingsError(f"[secrets.shops.{shop!r}] must be a table")
        check_keys(f"secrets.shops.{shop!r}", table, tuple(REGISTRY))
        result[shop] = {
            p: [v] if isinstance(v, str) else [str(x) for x in v] for p, v in table.items()
        }
    return result


def load_bridge_settings(
    *, flag_names: Mapping[str, str] | None = None, **overrides: Any
) -> BridgeSettings:
    """Reads the settings once; None overrides are ignored. Raises SettingsError (one line,
    naming the flag, env var or TOML key the bad value came from; `flag_names` maps a field
    to its flag where that is not `--field-name`)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        given.setdefault("shop_secrets", _shop_secrets())
        return BridgeSettings(**given)
    except ConfigFileError as error:
        raise SettingsError(str(error)) from None
    except ValidationError as error:
        origins = SettingOrigins(
            explicit=set(given) - {"shop_secrets"},
            flag_names=flag_names,
            env_name=BridgeSettings.env_name,
            table="bridge",
            toml_keys=_TomlSource(BridgeSettings)(),
        )
        raise SettingsError(origins.describe(error, _field_of)) from None
