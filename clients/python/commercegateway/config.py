"""Frozen configuration of the client (TLS, reconnection backoff) and the channel it builds."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

# The largest message the client accepts: the core sends stream responses of about 1 MiB, or
# one event alone when it is larger (events are at most 4 MiB even when the core's
# max_event_bytes is raised to its ceiling), so 8 MiB leaves a twofold margin.
MAX_RECEIVE_MESSAGE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class TlsConfig:
    """How the client verifies the core's TLS certificate.

    Attributes:
        root_certificates: a PEM file of the CAs to trust; None trusts the system's roots.
    """

    root_certificates: Path | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        """Builds the channel credentials this configuration describes."""
        if self.root_certificates is None:
            return grpc.ssl_channel_credentials()
        try:
            pem = self.root_certificates.read_bytes()
        except OSError as error:
            raise ValueError(
                f"cannot read TLS root certificates {self.root_certificates}: {error.strerror}"
            ) from None
        return grpc.ssl_channel_credentials(root_certificates=pem)


def resolve_tls(tls: TlsConfig | bool | None) -> TlsConfig | None:
    """Normalises the `tls` argument: True means system roots, False or None plaintext."""
    if tls is True:
        return TlsConfig()
    if tls is False or tls is None:
        return None
    return tls


@dataclass(frozen=True)
class BackoffPolicy:
    """Jittered, capped exponential backoff between reconnection attempts.

    The n-th consecutive failed attempt (from 1) waits a uniformly random time in
    [delay/2, delay] where delay = min(maximum, initial * multiplier ** (n - 1)).

    Attributes:
        initial: the first delay in seconds (default 0.1).
        maximum: the cap on any delay in seconds (default 5.0).
        multiplier: the growth factor per failed attempt (default 2.0).
    """

    initial: float = 0.1
    maximum: float = 5.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial or self.multiplier < 1:
            raise ValueError("backoff needs 0 < initial <= maximum and multiplier >= 1")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Returns the seconds to wait before the `attempt`-th consecutive retry (from 1)."""
        exponent = max(0, attempt - 1)
        # Cap the exponent so huge attempt counts cannot overflow a float.
        ceiling = min(self.maximum, self.initial * self.multiplier ** min(exponent, 64))
        draw = (rng or random).uniform(0.5, 1.0)
        return ceiling * draw


def build_channel(target: str, tls: TlsConfig | None, backoff: BackoffPolicy) -> grpc.aio.Channel:
    """Opens the async channel to `target`, plaintext when `tls` is None."""
    # Keep the channel's own reconnection backoff within ours, so a restarted core is reached
    # as soon as our backoff asks for it.
    options: list[tuple[str, Any]] = [
        ("grpc.initial_reconnect_backoff_ms", max(100, int(backoff.initial * 1000))),
        ("grpc.min_reconnect_backoff_ms", max(100, int(backoff.initial * 1000))),
        ("grpc.max_reconnect_backoff_ms", max(100, int(backoff.maximum * 1000))),
        ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
    ]
    if tls is None:
        return grpc.aio.insecure_channel(target, options=options)
    return grpc.aio.secure_channel(target, tls.credentials(), options=options)
