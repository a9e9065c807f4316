"""Value checks and the one error type shared by the core's and the bridge's settings."""

from __future__ import annotations

import ipaddress

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class SettingsError(ValueError):
    """A setting is invalid; the message is one line naming the setting."""


def split_host_port(value: str) -> tuple[str, int]:
    """Splits "HOST:PORT" (or "[::1]:PORT") into host and port; raises ValueError when bad."""
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
