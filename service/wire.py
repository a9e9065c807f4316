"""SubscribeEvents responses encoded once per event, not once per subscriber."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from commercegateway.v1 import core_service_pb2_grpc
from commercegateway.v1 import events_pb2 as ev
from google.protobuf.message import Message

SERVICE = "commercegateway.v1.CoreService"
_EVENTS_TAG = b"\x0a"  # SubscribeEventsResponse.events: field 1, length-delimited
_SEQUENCE_TAG = b"\x10"  # SubscribeEventsResponse.sequence: field 2, varint
_CACHE_LIMIT = 16_384


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class EventFrames:
    """Each stored event's encoding as a SubscribeEventsResponse.events entry, by sequence
    and id.

    A stored event never changes, so every subscriber of a commit (and every replay of it)
    shares one serialization instead of copying and serializing the event again.
    """

    def __init__(self, limit: int = _CACHE_LIMIT) -> None:
        """Keeps up to `limit` recent events' frames."""
        self._frames: dict[tuple[int, str], bytes] = {}
        self._limit = limit

    def frame(self, event: ev.Event) -> bytes:
        """The tag, length and bytes of `event` as one `events` entry."""
        key = (event.sequence, event.id)
        frame = self._frames.get(key)
        if frame is None:
            data = event.SerializeToString()
            frame = _EVENTS_TAG + _varint(len(data)) + data
            if len(self._frames) >= self._limit:
                self._frames.clear()
            self._frames[key] = frame
        return frame

    def response(self, events: Sequence[ev.Event], sequence: int) -> bytes:
        """A serialized SubscribeEventsResponse of `events` and the cursor `sequence`."""
        parts = [self.frame(event) for event in events]
        if sequence:
            parts.append(_SEQUENCE_TAG + _varint(sequence))
        return b"".join(parts)


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
    """Registers CoreService like the generated code does, except that SubscribeEvents may
    yield already serialized responses (bytes) as well as messages."""
    capture = _Capture()
    core_service_pb2_grpc.add_CoreServiceServicer_to_server(servicer, capture)  # type: ignore[arg-type]
    handlers = capture.handlers
    events = handlers["SubscribeEvents"]
    handlers["SubscribeEvents"] = grpc.unary_stream_rpc_method_handler(
        events.unary_stream,
        request_deserializer=events.request_deserializer,
        response_serializer=_serialize,
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    server.add_registered_method_handlers(SERVICE, handlers)
