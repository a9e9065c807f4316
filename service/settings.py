"""CoreSettings: every setting of the core, from flags, env, the TOML [core] table, defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from service.config_file import ConfigFileError, config_section
from service.config_values import SettingsError, check_log_level, is_loopback, split_host_port
from service.validation import MAX_EVENT_BYTES

# The largest max_event_bytes accepted: one such event plus framing must fit the clients'
# 8 MiB receive limit (clients/python/commercegateway/config.py, clients/typescript) with margin.
MAX_EVENT_BYTES_CEILING = 4 * 1024 * 1024

__all__ = ["ENV_PREFIX", "CoreSettings", "SettingsError", "load_core_settings"]

ENV_PREFIX = "COMMERCE_GATEWAY_"


class CoreSettings(BaseSettings):
    """Settings of the core; env vars are COMMERCE_GATEWAY_<NAME>, TOML keys are <name>."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    grpc_listen: str = Field("127.0.0.1:50051", description="gRPC listen address HOST:PORT.")
    data_dir: Path = Field(Path(".commerce-gateway"), description="Directory of local data.")
    store: str = Field("", description="Store URL; empty means SQLite in the data dir.")
    publisher_token: SecretStr | None = Field(None, description="Token allowed to publish.")
    subscriber_token: SecretStr | None = Field(None, description="Token allowed to read.")
    low_stock_threshold: int = Field(5, ge=0, description="LOW_STOCK alert threshold.")
    retention_hours: float = Field(168.0, gt=0, description="Hours the event log is kept.")
    retention_interval_seconds: float = Field(
        300.0, gt=0, description="Seconds between log compactions."
    )
    heartbeat_seconds: float = Field(15.0, gt=0, description="Seconds between heartbeats.")
    subscriber_queue: int = Field(10000, ge=1, description="Items buffered per subscriber.")
    subscriber_buffer_bytes: int = Field(
        8 * 1024 * 1024, ge=64 * 1024, description="Bytes of items buffered per subscriber."
    )
    stream_memory_bytes: int = Field(
        128 * 1024 * 1024,
        ge=4 * 1024 * 1024,
        description="Bytes all streams may buffer together (shared buffer and writes).",
    )
    max_event_bytes: int = Field(
        MAX_EVENT_BYTES,
        ge=1024,
        le=MAX_EVENT_BYTES_CEILING,
        description="Largest serialized event PublishEvents accepts.",
    )
    session_attribute: str = Field(
        "gateway_session_id", min_length=1, description="Order attribute naming the session."
    )
    tls_cert: Path | None = Field(None, description="TLS certificate chain (PEM).")
    tls_key: Path | None = Field(None, description="TLS private key (PEM).")
    log_level: str = Field("info", description="Log level: debug, info, warning, error.")
    shutdown_drain_seconds: float = Field(
        0.0, ge=0, description="Seconds to report NOT_SERVING before ending streams at stop."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Precedence: explicit values (CLI flags) > env > TOML [core] table > defaults."""
        toml = InitSettingsSource(settings_cls, init_kwargs=config_section("core"))
        return (init_settings, env_settings, toml)

    @field_validator("publisher_token", "subscriber_token", mode="before")
    @classmethod
    def _empty_token_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("tls_cert", "tls_key", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("grpc_listen")
    @classmethod
    def _valid_listen(cls, value: str) -> str:
        split_host_port(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _valid_level(cls, value: str) -> str:
        return check_log_level(value)

    @model_validator(mode="after")
    def _safe_exposure(self) -> CoreSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key must be set together")
        host, _ = split_host_port(self.grpc_listen)
        unset = [
            name for name in ("publisher_token", "subscriber_token") if getattr(self, name) is None
        ]
        if unset and not is_loopback(host):
            names = ", ".join(ENV_PREFIX + name.upper() for name in unset)
            raise ValueError(f"listening on {host} (not loopback) needs tokens: set {names}")
        return self

    @property
    def listen_host(self) -> str:
        """The host part of grpc_listen."""
        return split_host_port(self.grpc_listen)[0]

    @property
    def listen_port(self) -> int:
        """The port part of grpc_listen (0 = any free port)."""
        return split_host_port(self.grpc_listen)[1]


def _one_line(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{ENV_PREFIX}{location.upper()}: {message}" if location else message)
    return "invalid core setting: " + "; ".join(parts)


def load_core_settings(**overrides: Any) -> CoreSettings:
    """Reads the settings once; overrides (CLI flags) win. Raises SettingsError (one line)."""
    explicit = {key: value for key, value in overrides.items() if value is not None}
    try:
        return CoreSettings(**explicit)
    except ValidationError as error:
        raise SettingsError(_one_line(error)) from None
    except ConfigFileError as error:
        raise SettingsError(str(error)) from None
