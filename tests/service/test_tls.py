"""Optional TLS: with a certificate and key configured, the core speaks TLS only."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import core_service_pb2_grpc

from tests.support.core import running_core
from tests.support.tls import self_signed_certificate

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on both engines


async def test_tls_core_serves_tls_clients_and_refuses_plaintext(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    async with running_core(tmp_path / "data", tls_cert=cert, tls_key=key) as core:
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        async with grpc.aio.secure_channel(core.address, credentials) as channel:
            stub = core_service_pb2_grpc.CoreServiceStub(channel)
            page = await stub.ListInventoryLevels(api.ListInventoryLevelsRequest())
            assert page.sequence == 0
        async with grpc.aio.insecure_channel(core.address) as channel:
            stub = core_service_pb2_grpc.CoreServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await stub.ListInventoryLevels(api.ListInventoryLevelsRequest(), timeout=5)
            assert error.value.code() == grpc.StatusCode.UNAVAILABLE
