"""The recorder drops the signature headers of the platforms registered now, not at import."""

from __future__ import annotations

import dataclasses

from bridge.console.recorder import _kept_headers
from bridge.platforms import REGISTRY, register


def test_kept_headers_follow_the_platform_registry() -> None:
    """A platform registered later has its signature header dropped; removed, it is kept."""
    acme = dataclasses.replace(
        REGISTRY["shopify"],
        name="acme-recorder-test",
        signature_headers=("x-acme-recorder-signature",),
    )
    raw = [(b"x-acme-recorder-signature", b"s"), (b"host", b"h")]
    assert _kept_headers(raw) == tuple(raw)
    register(acme)
    try:
        assert _kept_headers(raw) == ((b"host", b"h"),)
    finally:
        REGISTRY.pop(acme.name)
    assert _kept_headers(raw) == tuple(raw)
