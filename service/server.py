"""Builds and runs the core: store, broadcaster, gRPC server with health and reflection."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc
from commercegateway.v1 import core_service_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from service.auth import AuthorizationInterceptor, Authorizer
from service.fanout import Broadcaster
from service.groups.service import GroupService
from service.metrics import CONTENT_TYPE, CoreMetrics
from service.metrics_http import MetricsServer
from service.reflection import enable_reflection
from service.retention import Retention
from service.servicer import CoreServicer
from service.settings import CoreSettings
from service.store.base import CommittedRecord, EventStore
from service.store.factory import create_store
from service.store_health import StoreHealth
from service.subscriptions import SubscriptionService
from service.wire import MAX_MESSAGE_BYTES, add_core_service
from service.write_slots import WriteSlots

logger = logging.getLogger(__name__)

SERVICE_NAME = core_service_pb2.DESCRIPTOR.services_by_name["CoreService"].full_name
# Idle subscriber streams must survive: clients may ping every 10 s without data, the
# server pings idle connections every 60 s and never closes a connection for being idle.
SQLITE_GROUP_POLL_SECONDS = 10.0  # see group_poll_seconds
STREAM_END_SECONDS = 1.0  # at stop(grace=None), how long streams get to end cleanly
SERVER_OPTIONS: list[tuple[str, int]] = [
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),  # a PublishEvents request
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),  # a stream response: 1 MiB or one event
    ("grpc.so_reuseport", 0),  # a second core on the same port must fail, not share it
]


@dataclass
class RunningCore:
    """A started core: its address, and how to stop it."""

    address: str
    port: int
    server: grpc.aio.Server
    store: EventStore
    broadcaster: Broadcaster
    health: HealthServicer
    settings: CoreSettings
    retention: Retention
    store_health: StoreHealth | None = None
    metrics: CoreMetrics | None = None
    metrics_server: MetricsServer | None = None
    groups: GroupService | None = None
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False

    async def stop(self, grace: float | None = 5.0) -> None:
        """Reports NOT_SERVING, ends streams cleanly, stops the server, closes the store."""
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        logger.info("core stopping", extra={"address": self.address})
        await self.health.enter_graceful_shutdown()
        if self.settings.shutdown_drain_seconds:
            await asyncio.sleep(self.settings.shutdown_drain_seconds)
        self.broadcaster.close()  # streams end with UNAVAILABLE and a valid cursor
        if self.groups is not None:  # members end with UNAVAILABLE, deliveries handed back
            await self.groups.close(STREAM_END_SECONDS if grace is None else grace)
        await self.broadcaster.wait_closed(STREAM_END_SECONDS if grace is None else grace)
        await self.retention.stop()
        if self.store_health is not None:
            await self.store_health.stop()
        if self.metrics_server is not None:
            await self.metrics_server.stop()
        await self.server.stop(grace)
        await self.store.close()
        self._stopped.set()
        logger.info("core stopped", extra={"address": self.address})

    @property
    def metrics_address(self) -> str | None:
        """HOST:PORT of the Prometheus endpoint, when one is served."""
        return self.metrics_server.address if self.metrics_server is not None else None

    async def wait_for_termination(self) -> None:
        """Returns once the core has been stopped."""
        await self._stopped.wait()


def check_port_free(host: str, port: int) -> None:
    """Raises OSError naming the address when it cannot be bound (clearer than grpc's log)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise OSError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def _bind(server: grpc.aio.Server, settings: CoreSettings) -> int:
    address = settings.grpc_listen
    check_port_free(settings.listen_host, settings.listen_port)
    if settings.tls_cert is not None and settings.tls_key is not None:
        credentials = grpc.ssl_server_credentials(
            [(settings.tls_key.read_bytes(), settings.tls_cert.read_bytes())]
        )
        return server.add_secure_port(address, credentials)
    return server.add_insecure_port(address)


async def _add_health(server: grpc.aio.Server) -> HealthServicer:
    servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    await _set_serving(servicer, True)
    return servicer


async def _set_serving(servicer: HealthServicer, serving: bool) -> None:
    """The health of the server and of CoreService: SERVING or NOT_SERVING (both alike, as
    the store is what both need; ignored once shutdown began)."""
    status = health_pb2.HealthCheckResponse.NOT_SERVING
    if serving:
        status = health_pb2.HealthCheckResponse.SERVING
    for name in ("", SERVICE_NAME):
        await servicer.set(name, status)


async def start_core(settings: CoreSettings) -> RunningCore:
    """Opens the store and serves CoreService, health and reflection on settings.grpc_listen."""
    store = create_store(settings)
    broadcaster = Broadcaster(
        memory_bytes=settings.stream_memory_bytes,
        slots=WriteSlots(
            settings.stream_write_slots,
            settings.stream_write_blocked_seconds,
            settings.stream_lag_seconds,
            settings.stream_lag_bytes_per_second,
        ),
    )
    groups = GroupService(
        store,
        poll_seconds=group_poll_seconds(settings),
        heartbeat_seconds=settings.heartbeat_seconds,
        write_timeout_seconds=settings.subscriber_write_timeout_seconds,
        response_bytes=broadcaster.memory.response_bytes,
    )

    def committed(records: Sequence[CommittedRecord]) -> None:
        broadcaster.publish(records)
        groups.committed(records)

    await store.open(committed)
    broadcaster.last_sequence = (await store.info()).last_sequence
    authorizer = Authorizer(
        settings.publisher_token.get_secret_value() if settings.publisher_token else None,
        settings.subscriber_token.get_secret_value() if settings.subscriber_token else None,
        settings.session_token.get_secret_value() if settings.session_token else None,
    )
    server = grpc.aio.server(
        options=SERVER_OPTIONS, interceptors=[AuthorizationInterceptor(authorizer)]
    )
    subscriptions = SubscriptionService(
        store,
        broadcaster,
        settings.subscriber_queue,
        settings.heartbeat_seconds,
        settings.subscriber_buffer_bytes,
    )
    servicer = CoreServicer(
        store,
        subscriptions,
        settings.max_event_bytes,
        settings.subscriber_write_timeout_seconds,
        groups,
    )
    add_core_service(servicer, server)
    health_servicer = await _add_health(server)
    enable_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name), server
    )
    metrics = CoreMetrics(broadcaster)
    metrics_server = None
    if settings.metrics_listen:
        metrics_server = MetricsServer(metrics.render, CONTENT_TYPE)
    try:
        port = _bind(server, settings)
        if metrics_server is not None:
            await metrics_server.start(settings.metrics_listen)
    except Exception:
        await store.close()
        raise
    await server.start()
    store_health = StoreHealth(
        store,
        lambda serving: _set_serving(health_servicer, serving),
        settings.store_probe_seconds,
        also=metrics,
    )
    store_health.start()
    retention = Retention(store, settings.retention_hours, settings.retention_interval_seconds)
    retention.start()
    address = f"{settings.listen_host}:{port}"
    if ":" in settings.listen_host:
        address = f"[{settings.listen_host}]:{port}"
    logger.info("core serving", extra={"address": address, "store": store_kind(settings)})
    return RunningCore(
        address,
        port,
        server,
        store,
        broadcaster,
        health_servicer,
        settings,
        retention,
        store_health,
        metrics,
        metrics_server,
        groups,
    )


def group_poll_seconds(settings: CoreSettings) -> float:
    """How often consumer-group members look at the store unwoken: the setting on PostgreSQL
    (other replicas change group state); on SQLite every change is made by this process and
    wakes them, so only their presence needs refreshing (every 10 s at least)."""
    if store_kind(settings).startswith("postgres"):
        return settings.group_poll_seconds
    return max(settings.group_poll_seconds, SQLITE_GROUP_POLL_SECONDS)


def store_kind(settings: CoreSettings) -> str:
    """A log-safe name of the configured store engine (never the URL with credentials)."""
    return settings.store.split(":", 1)[0] if settings.store else "sqlite"
