"""Re-driving quarantined deliveries: re-parse (no re-verification) and publish to the core."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc
from commercegateway.v1 import core_service_pb2

from bridge.core_channel import bearer_metadata, open_core_channel
from bridge.drain import core_stub, publish_batch
from bridge.intake import ParsedDelivery, PayloadRejected, parse_delivery
from bridge.platforms import named
from bridge.quarantine import Quarantine, QuarantinedDelivery
from bridge.settings import BridgeSettings
from bridge.verify import WebhookRejected


@dataclass(frozen=True)
class RedriveOutcome:
    """What re-driving one entry did: stored, duplicate, ignored, rejected, failed or missing."""

    id: int
    result: str
    detail: str


def _reparse(
    entry: QuarantinedDelivery, settings: BridgeSettings
) -> ParsedDelivery | RedriveOutcome:
    platform = named(entry.platform)
    if platform is None:
        return RedriveOutcome(entry.entry_id, "rejected", f"unknown platform {entry.platform!r}")
    try:
        return parse_delivery(
            platform.name,
            entry.body,
            entry.headers,
            settings.verification_config(),
            received_at=entry.received_at,
        )
    except PayloadRejected as rejected:
        errors = "; ".join(rejected.errors[:5])
        return RedriveOutcome(entry.entry_id, "rejected", f"still {rejected.reason}: {errors}")
    except WebhookRejected as rejected:
        return RedriveOutcome(entry.entry_id, "rejected", f"still rejected: {rejected.reason}")


async def _publish(
    settings: BridgeSettings, work: list[tuple[int, ParsedDelivery]]
) -> list[RedriveOutcome]:
    metadata = bearer_metadata(settings.publisher_token)
    outcomes: list[RedriveOutcome] = []
    async with open_core_channel(settings.core, settings.core_credentials()) as channel:
        stub = core_stub(channel)
        for entry_id, delivery in work:
            if not delivery.handled or not delivery.events:
                outcomes.append(
                    RedriveOutcome(entry_id, "ignored", f"topic {delivery.topic!r} not handled")
                )
                continue
            try:
                results = await publish_batch(stub, delivery.events, metadata)
            except grpc.aio.AioRpcError as error:
                detail = f"core {settings.core} answered {error.code().name}; entry kept"
                outcomes.append(RedriveOutcome(entry_id, "failed", detail))
                continue
            stored = sum(r.outcome == core_service_pb2.PUBLISH_OUTCOME_STORED for r in results)
            result = "stored" if stored else "duplicate"
            ids = ", ".join(r.event_id for r in results)
            outcomes.append(RedriveOutcome(entry_id, result, f"{len(results)} events ({ids})"))
    return outcomes


def redrive(
    quarantine: Quarantine, settings: BridgeSettings, entry_id: int | None
) -> list[RedriveOutcome]:
    """Re-drives one entry (or all when `entry_id` is None); removes those the core took."""
    if entry_id is None:
        entries = quarantine.list()
    else:
        found = quarantine.get(entry_id)
        if found is None:
            return [RedriveOutcome(entry_id, "missing", "no such entry")]
        entries = [found]
    outcomes: list[RedriveOutcome] = []
    work: list[tuple[int, ParsedDelivery]] = []
    for entry in entries:
        parsed = _reparse(entry, settings)
        if isinstance(parsed, RedriveOutcome):
            outcomes.append(parsed)
        else:
            work.append((entry.entry_id, parsed))
    if work:
        outcomes.extend(asyncio.run(_publish(settings, work)))
    for outcome in outcomes:
        if outcome.result in {"stored", "duplicate", "ignored"}:
            quarantine.remove(outcome.id)
    return sorted(outcomes, key=lambda outcome: outcome.id)
