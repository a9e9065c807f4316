"""Stream responses encoded once per item, not once per subscriber, and sized in bytes.

All three subscribe responses have the same shape: `repeated <item> = 1; int64 sequence = 2`.
An item's "frame" is its encoding as one field-1 entry; a response is frames then the cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from commercegateway.v1 import core_service_pb2_grpc
from commercegateway.v1 import events_pb2 as ev
from google.protobuf.message import Message

SERVICE = "commercegateway.v1.CoreService"
STREAM_METHODS = ("SubscribeEvents", "SubscribeInventoryAlerts", "SubscribeOrderCompletions")
_ITEMS_TAG = b"\x0a"  # events / alerts / completions: field 1, length-delimited
_SEQUENCE_TAG = b"\x10"  # sequence: field 2, varint
_CACHE_LIMIT = 16_384
_CACHE_BYTES = 16 * 1024 * 1024  # the replay cache is bounded in bytes as well as in count
# A response carries at most this many bytes of items, unless a single item is larger (an
# event is at most max_event_bytes, 4 MiB at most): well below gRPC's 4 MiB default.
MAX_RESPONSE_BYTES = 1024 * 1024
# What clients accept and the core may send in one message: the largest possible response
# (one 4 MiB event and framing) with margin.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode(message: Message) -> bytes:
    """The tag, length and bytes of `message` as one field-1 entry of a stream response."""
    data = message.SerializeToString()
    return _ITEMS_TAG + _varint(len(data)) + data


def frame_of(data: bytes) -> bytes:
    """The field-1 entry of an item already serialized (e.g. as the store keeps it)."""
    return _ITEMS_TAG + _varint(len(data)) + data


def response(frames: Sequence[bytes], sequence: int) -> bytes:
    """A serialized subscribe response of `frames` and the cursor `sequence`."""
    if sequence:
        return b"".join((*frames, _SEQUENCE_TAG, _varint(sequence)))
    return b"".join(frames)


_REDACTIONS = frozenset({"customer_redacted", "shop_redacted"})


class EventFrames:
    """Each stored event's encoding as a SubscribeEventsResponse.events entry, by sequence
    and id.

    A stored event changes only when a redaction erases it (it keeps its sequence and id and
    gets `redacted`), so every subscriber of a commit (and every replay of it) shares one
    serialization instead of copying and serializing the event again; the key includes the
    redacted flag, and a redaction event empties the cache (no erased frame stays in it).
    """

    def __init__(self, limit: int = _CACHE_LIMIT) -> None:
        """Keeps up to `limit` recent events' frames."""
        self._frames: dict[tuple[int, str, bool], bytes] = {}
        self._limit = limit
        self._bytes = 0

    def frame(self, event: ev.Event) -> bytes:
        """The tag, length and bytes of `event` as one `events` entry."""
        key = (event.sequence, event.id, event.redacted)
        frame = self._frames.get(key)
        if frame is None:
            frame = encode(event)
            full = len(self._frames) >= self._limit or self._bytes + len(frame) > _CACHE_BYTES
            if full or event.WhichOneof("payload") in _REDACTIONS:
                self._frames.clear()
                self._bytes = 0
            self._frames[key] = frame
            self._bytes += len(frame)
        return frame

    def response(self, events: Sequence[ev.Event], sequence: int) -> bytes:
        """A serialized SubscribeEventsResponse of `events` and the cursor `sequence`."""
        return response([self.frame(event) for event in events], sequence)


def _serialize(response: bytes | Message) -> bytes:
    return response if isinstance(response, bytes) else response.SerializeToString()


class _Capture:
    """Stands in for a server to capture the generated method handlers."""

    handlers: dict[str, Any]

    def add_generic_rpc_handlers(self, handlers: object) -> None:
        """Ignored: the handlers are registered on the real server afterwards."""

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        """Keeps the handlers."""
        self.handlers = dict(handlers)


def add_core_service(servicer: core_service_pb2_grpc.CoreServiceServicer, server: Any) -> None:
    """Registers CoreService like the generated code does, except that the subscribe methods
    may write already serialized responses (bytes) as well as messages."""
    capture = _Capture()
    core_service_pb2_grpc.add_CoreServiceServicer_to_server(servicer, capture)  # type: ignore[arg-type]
    handlers = capture.handlers
    for name in STREAM_METHODS:
        stream = handlers[name]
        handlers[name] = grpc.unary_stream_rpc_method_handler(
            stream.unary_stream,
            request_deserializer=stream.request_deserializer,
            response_serializer=_serialize,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    server.add_registered_method_handlers(SERVICE, handlers)
