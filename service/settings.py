"""CoreSettings: every setting of the core, from flags, env, the TOML [core] table, defaults."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from common.config_file import ConfigFileError, config_section
from common.config_values import (
    SettingOrigins,
    SettingsError,
    check_log_level,
    is_loopback,
    split_host_port,
)
from common.event_validation import MAX_EVENT_BYTES
from service.write_slots import (
    DEFAULT_BLOCKED_SECONDS,
    DEFAULT_LAG_BYTES_PER_SECOND,
    DEFAULT_LAG_SECONDS,
    DEFAULT_SLOTS,
)

# The largest max_event_bytes accepted: one such event plus framing must fit the clients'
# 8 MiB receive limit (clients/python/commercegateway/config.py, clients/typescript) with margin.
MAX_EVENT_BYTES_CEILING = 4 * 1024 * 1024

__all__ = ["ENV_PREFIX", "CoreSettings", "SettingsError", "load_core_settings"]

ENV_PREFIX = "COMMERCE_GATEWAY_"
STORE_SCHEMES = ("sqlite:///", "postgres://", "postgresql://")


class CoreSettings(BaseSettings):
    """Settings of the core; env vars are COMMERCE_GATEWAY_<NAME>, TOML keys are <name>."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    grpc_listen: str = Field("127.0.0.1:50051", description="gRPC listen address HOST:PORT.")
    data_dir: Path = Field(Path(".commerce-gateway"), description="Directory of local data.")
    store: str = Field("", description="Store URL; empty means SQLite in the data dir.")
    publisher_token: SecretStr | None = Field(None, description="Token allowed to publish.")
    subscriber_token: SecretStr | None = Field(None, description="Token allowed to read.")
    session_token: SecretStr | None = Field(
        None, description="Token allowed to read and bind sessions (BindSession)."
    )
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
    stream_write_slots: int = Field(
        DEFAULT_SLOTS,
        ge=1,
        le=1024,
        description="Stream writes in progress at once (closest to the head first).",
    )
    stream_write_blocked_seconds: float = Field(
        DEFAULT_BLOCKED_SECONDS,
        gt=0,
        le=10,
        description="A stream write pending this long gives its write slot back.",
    )
    stream_lag_seconds: float = Field(
        DEFAULT_LAG_SECONDS,
        gt=0,
        le=3600,
        description="A stream whose oldest pending item is this old is lagging.",
    )
    stream_lag_bytes_per_second: int = Field(
        DEFAULT_LAG_BYTES_PER_SECOND,
        ge=64 * 1024,
        description="Bytes per second all lagging streams may be written together.",
    )
    subscriber_write_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="A stream write pending longer than this ends it with RESOURCE_EXHAUSTED.",
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
    metrics_listen: str = Field(
        "", description="Prometheus /metrics listen address HOST:PORT; empty: not served."
    )
    store_probe_seconds: float = Field(
        2.0,
        gt=0,
        le=60,
        description="Seconds between store probe commits while idle or NOT_SERVING.",
    )
    group_poll_seconds: float = Field(
        1.0,
        gt=0,
        le=60,
        description="Seconds a consumer-group member waits at most before looking at the store"
        " again (other replicas' acks; new events and local acks wake it at once).",
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
        table = config_section("core", known=settings_cls.model_fields)
        toml = InitSettingsSource(settings_cls, init_kwargs=table)
        return (init_settings, env_settings, toml)

    @field_validator("publisher_token", "subscriber_token", "session_token", mode="before")
    @classmethod
    def _empty_token_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("tls_cert", "tls_key", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("store")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if value and not value.startswith(STORE_SCHEMES):
            raise ValueError("expected empty, sqlite:///PATH or postgres://...")
        return value

    @field_validator("grpc_listen")
    @classmethod
    def _valid_listen(cls, value: str) -> str:
        split_host_port(value)
        return value

    @field_validator("metrics_listen")
    @classmethod
    def _valid_metrics_listen(cls, value: str) -> str:
        if value:
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
        session, subscriber = self.session_token, self.subscriber_token
        if session is not None and subscriber is not None and session == subscriber:
            raise ValueError(
                f"{ENV_PREFIX}SESSION_TOKEN must differ from {ENV_PREFIX}SUBSCRIBER_TOKEN"
            )
        return self

    @property
    def listen_host(self) -> str:
        """The host part of grpc_listen."""
        return split_host_port(self.grpc_listen)[0]

    @property
    def listen_port(self) -> int:
        """The port part of grpc_listen (0 = any free port)."""
        return split_host_port(self.grpc_listen)[1]


def load_core_settings(
    *, flag_names: Mapping[str, str] | None = None, **overrides: Any
) -> CoreSettings:
    """Reads the settings once; overrides (CLI flags) win. Raises SettingsError (one line,
    naming the flag, env var or TOML key the bad value came from; `flag_names` maps a field
    to its flag where that is not `--field-name`)."""
    explicit = {key: value for key, value in overrides.items() if value is not None}
    try:
        return CoreSettings(**explicit)
    except ValidationError as error:
        origins = SettingOrigins(
            explicit=explicit,
            flag_names=flag_names,
            env_name=lambda field: ENV_PREFIX + field.upper(),
            table="core",
            toml_keys=config_section("core"),
        )
        raise SettingsError(origins.describe(error)) from None
    except ConfigFileError as error:
        raise SettingsError(str(error)) from None
