"""The webhook endpoint: raw ASGI from the HTTP request, through the intake, to the forwarder."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from bridge.asgi_io import (
    Receive,
    Scope,
    Send,
    body_chunks,
    header_map,
    request_url,
    send_json,
    send_problem,
)
from bridge.body_budget import BodyBudget
from bridge.console.recorder import record_delivery, record_rejection
from bridge.forwarder import Forwarder, ForwardUnavailableError
from bridge.intake import (
    ClientDisconnectedError,
    Intake,
    ParsedDelivery,
    VerificationConfig,
    read_limited_body,
)
from bridge.metrics import BridgeMetrics
from bridge.payload_versions import OldVersionWarnings
from bridge.platforms import REGISTRY, body_fields, header_names
from bridge.privacy import LocalEraser, Redaction, redaction_of
from bridge.problems import ProblemError
from bridge.quarantine import Quarantine
from bridge.validity import EVENT_TOO_LARGE

logger = logging.getLogger("bridge.webhooks")

ANY_PLATFORM_PATH = "/api/webhooks"
"""The path of deliveries of any platform, told apart by their signature header."""
PLATFORM_PREFIX = "/webhooks/"
"""Each registered platform's deliveries arrive at this prefix + its name."""


def webhook_paths() -> list[str]:
    """Every webhook path: one per registered platform, then /api/webhooks."""
    return [platform.path for platform in REGISTRY.values()] + [ANY_PLATFORM_PATH]


def is_webhook_path(path: str) -> bool:
    """Whether `path` is a webhook path of a registered platform or /api/webhooks."""
    if path.startswith(PLATFORM_PREFIX):
        return path[len(PLATFORM_PREFIX) :] in REGISTRY
    return path == ANY_PLATFORM_PATH


def _clip(value: object) -> str:
    return str(value)[:100]


def describe(headers: Mapping[str, str], body: bytes | None = None) -> tuple[str, str]:
    """Best-effort (topic, delivery id) for logs and quarantine, from headers or a JSON body."""
    topic = next((headers[h] for h in header_names("topic_headers") if h in headers), "")
    ids = header_names("delivery_id_headers")
    delivery_id = next((headers[h] for h in ids if h in headers), "")
    if body and not (topic and delivery_id):
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            document = None
        if isinstance(document, dict):
            for field in body_fields("topic_field"):
                topic = topic or _clip(document.get(field, ""))
            for field in body_fields("delivery_id_field"):
                delivery_id = delivery_id or _clip(document.get(field, ""))
    return _clip(topic), _clip(delivery_id)


class WebhookEndpoint:
    """ASGI app for POST /webhooks/{platform} and /api/webhooks."""

    def __init__(
        self,
        *,
        config: VerificationConfig,
        max_body_bytes: int,
        forwarder: Forwarder,
        quarantine: Quarantine,
        metrics: BridgeMetrics,
        body_budget: BodyBudget | None = None,
    ) -> None:
        """Binds the endpoint to its configuration and collaborators; request bodies are held
        within `body_budget` (by default one of 64 bodies of the maximum size)."""
        self._intake = Intake(config)
        self._limit = max_body_bytes
        self._budget = body_budget or BodyBudget(64 * max_body_bytes)
        self._forwarder = forwarder
        self._quarantine = quarantine
        self._metrics = metrics
        self._old_versions = OldVersionWarnings()
        self._eraser = LocalEraser(quarantine, forwarder.outbox)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handles one request end to end."""
        path: str = scope["path"]
        headers = header_map(scope)
        path_platform = path[len(PLATFORM_PREFIX) :] if path.startswith(PLATFORM_PREFIX) else None
        try:
            if scope["method"] != "POST":
                raise ProblemError("method", "method_not_allowed", "Only POST is accepted here.")
            with self._budget.hold() as hold:
                body = await read_limited_body(
                    body_chunks(receive), self._limit, headers.get("content-length"), hold
                )
                status, document = await self._handle(scope, path_platform, headers, body)
        except ClientDisconnectedError:
            return
        except ProblemError as problem:
            self._reject(problem, path_platform, headers)
            await send_problem(send, problem, path)
            return
        await send_json(send, status, document)

    async def _handle(
        self, scope: Scope, path_platform: str | None, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        now = datetime.now(UTC)
        try:
            delivery = self._intake.accept(
                path_platform, headers, body, lambda: request_url(scope, headers), now
            )
        except ProblemError as problem:
            kept = problem.kind == "schema" or problem.reason == EVENT_TOO_LARGE
            if kept and problem.platform is not None:
                await self._keep(problem.platform, headers, body, problem, now)
            raise
        redaction = redaction_of(delivery.platform, delivery.events, body)
        if redaction is not None:  # the bridge's own copies go before the redaction is sent
            await self._erase(redaction)
        return 200, await self._deliver(delivery)

    async def _erase(self, redaction: Redaction) -> None:
        try:
            await self._eraser.erase(redaction)
        except (sqlite3.Error, OSError):
            logger.exception("redaction of the bridge's data failed")
            raise ProblemError(
                "unavailable",
                "erase_failed",
                "The bridge could not erase its own copies of the redacted data.",
                platform=redaction.platform,
            ) from None

    async def _keep(
        self,
        platform: str,
        headers: Mapping[str, str],
        body: bytes,
        problem: ProblemError,
        now: datetime,
    ) -> None:
        topic, delivery_id = describe(headers, body)
        entry_id = await self._quarantine.add(
            platform=platform,
            topic=topic,
            delivery_id=delivery_id,
            reason=problem.reason,
            errors=problem.errors,
            headers=headers,
            body=body,
            received_at=now,
        )
        problem.quarantine_entry = entry_id
        problem.detail += f" The delivery is kept in quarantine as entry {entry_id}."

    async def _deliver(self, delivery: ParsedDelivery) -> dict[str, Any]:
        if not delivery.handled or not delivery.events:
            self._outcome(delivery, "ignored", None)
            return {"status": "ignored", "event_id": None}
        try:
            results = await self._forwarder.forward(delivery.events)
        except ForwardUnavailableError:
            raise ProblemError(
                "unavailable",
                "store_unavailable",
                "Neither the core nor the local outbox could store the delivery.",
                platform=delivery.platform,
            ) from None
        duplicate = all(result.status == "duplicate" for result in results)
        status = "duplicate" if duplicate else "accepted"
        self._outcome(delivery, status, results[0].destination)
        document: dict[str, Any] = {"status": status, "event_id": results[0].event_id}
        if len(results) > 1:
            document["event_ids"] = [result.event_id for result in results]
        return document

    def _outcome(self, delivery: ParsedDelivery, outcome: str, destination: str | None) -> None:
        self._metrics.delivery(delivery.platform, delivery.topic, outcome)
        self._metrics.payload_version(delivery.platform, delivery.payload_version)
        platform = REGISTRY.get(delivery.platform)
        if platform is not None:
            self._old_versions.observe(
                platform.name,
                delivery.shop,
                delivery.payload_version,
                platform.oldest_checked_version,
            )
        record_delivery(delivery, outcome)
        logger.info(
            "delivery " + outcome,
            extra={
                "platform": delivery.platform,
                "topic": _clip(delivery.topic),
                "delivery_id": _clip(delivery.delivery_id),
                "shop": _clip(delivery.shop),
                "status": 200,
                "outcome": outcome,
                "destination": destination,
                "events": len(delivery.events),
            },
        )

    def _reject(
        self, problem: ProblemError, path_platform: str | None, headers: Mapping[str, str]
    ) -> None:
        platform = problem.platform or path_platform
        self._metrics.rejection(platform, problem.status, problem.reason)
        record_rejection(problem, platform, headers)
        topic, delivery_id = describe(headers)
        logger.warning(
            "delivery rejected",
            extra={
                "platform": _clip(platform or "unknown"),
                "topic": topic,
                "delivery_id": delivery_id,
                "status": problem.status,
                "reason": problem.reason,
            },
        )
