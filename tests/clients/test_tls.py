"""TLS: the client verifies the core's certificate against the configured roots."""

from __future__ import annotations

from pathlib import Path

import pytest
from commercegateway import CoreClient, CoreError, TlsConfig

from tests.clients.conftest import FAST
from tests.support.core import running_core
from tests.support.tls import self_signed_certificate


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
