"""Building canonical events from a validated delivery: envelope, ids, times, validation errors."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pydantic_core
from commercegateway.v1 import events_pb2
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message
from pydantic import BaseModel, ValidationError

from bridge.platforms.common import PayloadRejected, PlatformName, as_utc
from bridge.platforms.money import MoneyError

MAX_PAYLOAD_VERSION_CHARS = 64
"""A payload version longer than this is cut to it in the event (it comes from the sender)."""
ModelT = TypeVar("ModelT", bound=BaseModel)
ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class Envelope:
    """What every event of one delivery shares (`wire`: the platform's value on the wire)."""

    platform: PlatformName
    topic: str
    delivery_id: str
    shop: str
    received_at: datetime
    wire: events_pb2.Platform.ValueType = events_pb2.PLATFORM_UNSPECIFIED
    payload_version: str = ""
    """The platform's payload API version as the delivery names it; empty when none."""


@dataclass(frozen=True)
class Translation:
    """A platform module's reading of one delivery.

    `payload_time` is the platform's own time of the payload, used for the replay window when
    no header carried the time; None when the payload has none. `body_time` is a time inside
    the signed body that is the event's own time (never a resource time that may be
    legitimately old), held to the replay window whatever the headers say; None when the body
    carries no such time.
    """

    envelope: Envelope
    events: tuple[events_pb2.Event, ...]
    handled: bool
    payload_time: datetime | None
    body_time: datetime | None = None


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


def event_id(platform: PlatformName, source_event_id: str) -> str:
    """The deterministic canonical event id: uuid5(NAMESPACE_URL, "platform:source_event_id")."""
    # uuid.uuid5 spelled out (same SHA-1, version and variant bits, text form): it builds a
    # UUID object per call, a few microseconds on every event of the hot path.
    name = f"{platform}:{source_event_id}".encode()
    digest = bytearray(hashlib.sha1(_URL_NAMESPACE + name).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799  # Timestamp's valid range


def _seconds_and_micros(moment: datetime) -> tuple[int, int]:
    """Whole seconds since the epoch (floored) and the microseconds past them, of `moment`
    (naive means UTC): what Timestamp.FromDatetime computes, without its struct_time."""
    delta = as_utc(moment) - _EPOCH
    return delta.days * 86_400 + delta.seconds, delta.microseconds


def timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    """A protobuf Timestamp of `moment` (naive means UTC); ValueError outside its range."""
    seconds, micros = _seconds_and_micros(moment)
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS:
        raise ValueError(f"Timestamp is not valid: seconds {seconds} out of range")
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=micros * 1000)


def make_event(
    envelope: Envelope,
    payload_field: str,
    payload: Message,
    *,
    occur_time: datetime | None,
    source_event_id: str | None = None,
) -> events_pb2.Event:
    """A canonical Event carrying `payload` in its `payload_field` oneof case.

    `source_event_id` defaults to the delivery id; `occur_time` to the receive time.
    """
    source = source_event_id or envelope.delivery_id
    received = timestamp(envelope.received_at)
    event = events_pb2.Event(
        id=event_id(envelope.platform, source),
        platform=envelope.wire,
        source_event_id=source,
        shop=envelope.shop,
        topic=envelope.topic,
        delivery_id=envelope.delivery_id,
        occur_time=received if occur_time is None else timestamp(occur_time),
        receive_time=received,
        payload_version=envelope.payload_version[:MAX_PAYLOAD_VERSION_CHARS],
    )
    getattr(event, payload_field).CopyFrom(payload)
    return event


def _path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def parse_json(body: bytes) -> Any:
    """The JSON document of `body` (parsed once per delivery, integers kept exact);
    PayloadRejected 400 "malformed_json" when it is not JSON."""
    try:
        return pydantic_core.from_json(body)
    except ValueError:
        raise PayloadRejected("malformed", "malformed_json", ["body: not valid JSON"]) from None


def validate_document(model: type[ModelT], document: Any) -> ModelT:
    """Validates a parsed JSON `document` as `model`: PayloadRejected 422 naming each field."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        details = error.errors(include_url=False, include_context=False, include_input=False)
        errors = [
            f"{_path(item['loc'])}: "
            + ("Input should be an object" if item["type"] == "model_type" else item["msg"])
            for item in details
        ]
        raise PayloadRejected("schema", "schema_mismatch", errors) from None


def validate_json(model: type[ModelT], body: bytes) -> ModelT:
    """Parses and validates `body` as `model`: PayloadRejected 400 for bad JSON, else 422."""
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        details = error.errors(include_url=False, include_context=False, include_input=False)
        if any(item["type"] == "json_invalid" for item in details):
            raise PayloadRejected("malformed", "malformed_json", ["body: not valid JSON"]) from None
        errors = [f"{_path(item['loc'])}: {item['msg']}" for item in details]
        raise PayloadRejected("schema", "schema_mismatch", errors) from None


def translating(path: str, build: Callable[..., ResultT], *args: Any) -> ResultT:
    """Calls `build(*args)`, turning a value it cannot represent into PayloadRejected 422."""
    try:
        return build(*args)
    except MoneyError as error:
        raise PayloadRejected("schema", "schema_mismatch", [f"{path}: {error}"]) from None
    except (ValueError, OverflowError):
        raise PayloadRejected(
            "schema", "schema_mismatch", [f"{path}: value out of range"]
        ) from None


def content_key(platform: PlatformName, body: bytes, index: int) -> str:
    """The content dedup key of the `index`-th event of a delivery: hex SHA-256 of the platform
    name, a newline and the raw body, then ":" and the index."""
    digest = hashlib.sha256(platform.encode("ascii") + b"\n" + body).hexdigest()
    return f"{digest}:{index}"


def with_content_keys(
    platform: PlatformName, body: bytes, events: Iterable[events_pb2.Event]
) -> tuple[events_pb2.Event, ...]:
    """The events with their content keys set (for platforms that sign the body only)."""
    keyed = tuple(events)
    for index, event in enumerate(keyed):
        event.content_key = content_key(platform, body, index)
    return keyed


def _platform_times(event: events_pb2.Event) -> list[tuple[int, int]]:
    """The event's platform times as (seconds, microseconds), as datetimes would compare."""
    stamps = [event.occur_time] if event.HasField("occur_time") else []
    case = event.WhichOneof("payload")
    payload = getattr(event, case) if case else None
    fields = payload.DESCRIPTOR.fields_by_name if payload is not None else {}
    if payload is not None and "update_time" in fields and payload.HasField("update_time"):
        stamps.append(payload.update_time)
    return [(stamp.seconds, stamp.nanos // 1000) for stamp in stamps]


def mark_future_dated(
    events: Iterable[events_pb2.Event], received_at: datetime, tolerance: timedelta
) -> None:
    """Sets `future_dated` on every event with a platform time (occur or update time) later
    than `received_at` plus `tolerance`; the core then orders it by its receive time."""
    limit = _seconds_and_micros(as_utc(received_at) + tolerance)
    for event in events:
        if any(moment > limit for moment in _platform_times(event)):
            event.future_dated = True
