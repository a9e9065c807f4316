"""TLS: the client verifies the core's certificate against the configured roots."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from commercegateway import CoreClient, CoreError, TlsConfig

from tests.clients.conftest import FAST
from tests.support.core import running_core


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and its key, made with the openssl CLI."""
    cert, key = folder / "core.pem", folder / "core-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return cert, key


async def test_tls_client_trusting_the_core_certificate_connects(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    async with running_core(tmp_path / "core", tls_cert=cert, tls_key=key) as core:
        async with CoreClient(core.address, tls=TlsConfig(cert), backoff=FAST) as client:
            page = await client.list_inventory_levels()
        async with CoreClient(core.address, timeout=2, backoff=FAST) as plaintext:
            with pytest.raises(CoreError) as refused:
                await plaintext.list_inventory_levels()
    assert page.sequence == 0
    assert refused.value.reason == "unavailable"
