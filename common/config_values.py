"""Value checks and the one error type shared by the core's and the bridge's settings."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Collection, Mapping

from pydantic import ValidationError

from common.config_file import CONFIG_ENV_VAR

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class SettingsError(ValueError):
    """A setting is invalid; the message is one line naming the setting."""


def split_host_port(value: str) -> tuple[str, int]:
    """Splits "HOST:PORT" (or "[::1]:PORT") into host and port; raises ValueError when bad."""
    if "://" in value:
        address = value.partition("://")[2].partition("/")[0]
        like = address if ":" in address else "127.0.0.1:8080"
        raise ValueError(f"expected HOST:PORT without a scheme (like {like}), got {value!r}")
    host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"port out of range in {value!r}")
    return host.strip("[]"), port


def is_loopback(host: str) -> bool:
    """True when the host names the loopback interface only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_log_level(value: str) -> str:
    """Returns the level in lower case; raises ValueError naming the valid ones otherwise."""
    if value.lower() not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return value.lower()


class SettingOrigins:
    """Names where a setting's value came from, for error messages: the command-line flag
    when it was given as one, else the env var when set, else its key in the TOML file."""

    def __init__(
        self,
        *,
        explicit: Collection[str],
        flag_names: Mapping[str, str] | None,
        env_name: Callable[[str], str],
        table: str,
        toml_keys: Collection[str],
    ) -> None:
        """`explicit`: fields given by flags; `flag_names`: field -> flag where the flag is
        not `--field-name`; `env_name`: field -> env var; `table`/`toml_keys`: the file's."""
        self.explicit = explicit
        self.flag_names = flag_names or {}
        self.env_name = env_name
        self.table = table
        self.toml_keys = toml_keys

    def name(self, field: str) -> str:
        """Where the value of `field` came from, as the user wrote it."""
        if field in self.explicit:
            return self.flag_names.get(field, "--" + field.replace("_", "-"))
        env = self.env_name(field)
        if env not in os.environ and field in self.toml_keys:
            return f"{field} in [{self.table}] of {CONFIG_ENV_VAR}"
        return env

    def describe(self, error: ValidationError, field_of: Callable[[str], str] = str) -> str:
        """One line: each problem of `error` after the name of the setting it is about."""
        parts = []
        for item in error.errors():
            location = ".".join(str(part) for part in item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            parts.append(f"{self.name(field_of(location))}: {message}" if location else message)
        return "; ".join(parts)
