"""uvicorn's httptools protocol held to HttpLimits: bounded heads (431/414), read deadlines (408).

httptools buffers a header field until it is complete and has no limit of its own, and
uvicorn has no read timeout: this subclass counts the bytes of each request head before the
parser sees them, bounds each field and the number of fields, and times the head (from its
first byte) and the body (from the end of the head). A request over a bound is answered with
an RFC 9457 problem and the connection is closed; nothing more is parsed or buffered.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from bridge.http_limits import HttpLimits
from bridge.problems import PROBLEM_CONTENT_TYPE, ProblemError
from bridge.refusal_log import RefusalLog

logger = logging.getLogger("bridge.http")
_refusals = RefusalLog(logger)


class LimitedConfig(uvicorn.Config):
    """uvicorn settings plus the HttpLimits its connections are held to."""

    def __init__(self, app: Any, *, http_limits: HttpLimits, **kwargs: Any) -> None:
        """Like uvicorn.Config; connections use LimitedHttpProtocol with `http_limits`."""
        super().__init__(app, http=LimitedHttpProtocol, **kwargs)
        self.http_limits = http_limits


class LimitedHttpProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that enforces HttpLimits on every request of the connection."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """Like HttpToolsProtocol; the limits come from a LimitedConfig (defaults otherwise)."""
        super().__init__(config, server_state, app_state, _loop)
        self._limits = config.http_limits if isinstance(config, LimitedConfig) else HttpLimits()
        self._in_head = True  # the bytes received now belong to a request head
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None
        self._refused = False
        self._discarded = 0

    # Connection events

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Starts the head timer: a connection that never sends a request is closed too."""
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self._limits.header_timeout, self._head_late)

    def connection_lost(self, exc: Exception | None) -> None:
        """Stops the timers, then lets uvicorn clean up."""
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feeds the parser, at most the head budget at a time while a head is incomplete."""
        if self._refused:
            self._discard(len(data))
            return
        while data and not self._refused and not self.transport.is_closing():
            if not self._in_head:
                self._feed(data)
                break
            room = self._limits.max_header_bytes - self._head_bytes
            piece, data = data[:room], data[room:]
            self._head_bytes += len(piece)
            self._feed(piece)
            if self._in_head and self._head_bytes >= self._limits.max_header_bytes:
                self._refuse(
                    ProblemError(
                        "headers_too_large",
                        "headers_too_large",
                        f"The request head exceeds {self._limits.max_header_bytes} bytes.",
                    )
                )
        if self._refused or self.transport.is_closing():
            return
        # Timers only for what is left incomplete (a request in one read needs none): the
        # head's from its first byte, the body's from the end of the head (both ~now).
        if self._in_head:
            if self._head_bytes and self._head_timer is None:
                self._head_timer = self.loop.call_later(
                    self._limits.header_timeout, self._head_late
                )
        elif self._body_timer is None:
            self._body_timer = self.loop.call_later(self._limits.body_timeout, self._body_late)

    def send_400_response(self, msg: str) -> None:
        """An unparsable request: a 400 problem, then the connection is closed."""
        self._refuse(ProblemError("bad_request", "invalid_http", "The request is not HTTP/1.1."))

    # Parser callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        """Keeps a header field; 431 for one field too long or one field too many."""
        if len(self.headers) >= self._limits.max_header_count:
            raise ProblemError(
                "headers_too_large",
                "too_many_headers",
                f"The request has more than {self._limits.max_header_count} header fields.",
            )
        if len(name) + len(value) > self._limits.max_header_line_bytes:
            raise ProblemError(
                "headers_too_large",
                "header_too_large",
                f"A header field exceeds {self._limits.max_header_line_bytes} bytes.",
            )
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head is complete: 414 for a request target over the line bound, else its
        timer stops (the body's starts once a feed ends with the body incomplete)."""
        if len(self.url) > self._limits.max_header_line_bytes:
            raise ProblemError(
                "uri_too_long",
                "uri_too_long",
                f"The request target exceeds {self._limits.max_header_line_bytes} bytes.",
            )
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The body is complete: its timer stops; the next bytes start the next head."""
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._in_head = True
        self._head_bytes = 0
        super().on_message_complete()

    # Internals

    def _feed(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as error:
            cause = error.__context__
            if isinstance(cause, ProblemError):
                self._refuse(cause)
            else:
                self.send_400_response(str(error))

    def _head_late(self) -> None:
        self._head_timer = None
        if self._head_bytes == 0:
            self.transport.close()  # no request began: nothing to answer
            return
        self._refuse(
            ProblemError(
                "timeout",
                "header_timeout",
                f"The request head did not arrive within {self._limits.header_timeout:g} s.",
            ),
            linger=False,
        )

    def _body_late(self) -> None:
        self._body_timer = None
        if self.cycle is None or self.cycle.response_started:
            self.transport.close()  # answered already (without reading the body), or answering
            return
        self._refuse(
            ProblemError(
                "timeout",
                "body_timeout",
                f"The request body did not arrive within {self._limits.body_timeout:g} s.",
            ),
            linger=False,
        )

    def _refuse(self, problem: ProblemError, *, linger: bool = True) -> None:
        """Answers `problem`, then closes the connection: with `linger`, once the client had
        time to read it (what it still sends is discarded, within the linger bounds); else at
        once (a client too slow to finish its request is not sending much)."""
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:  # an answer is under way: no other can be sent
                self._cancel_timers()
                self.transport.close()
                return
            cycle.disconnected = True  # the app's receive() reports a disconnect, send() is void
            cycle.message_event.set()
        self._cancel_timers()
        self._unset_keepalive_if_required()
        _refusals.refused(self.loop, problem.status, problem.reason)
        body = problem.body()
        head = [STATUS_LINE[problem.status]]
        for name, value in [
            *self.server_state.default_headers,
            (b"content-type", PROBLEM_CONTENT_TYPE.encode("latin-1")),
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"connection", b"close"),
        ]:
            head.extend([name, b": ", value, b"\r\n"])
        head.extend([b"\r\n", body])
        self.transport.write(b"".join(head))
        self.flow.resume_reading()
        if not linger or not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._linger_timer = self.loop.call_later(self._limits.linger_seconds, self._close)

    def _discard(self, size: int) -> None:
        self._discarded += size
        if self._discarded > self._limits.linger_bytes:
            self.transport.pause_reading()  # read no more; the linger timer closes it

    def _close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer, self._linger_timer):
            self._cancel(timer)
        self._head_timer = self._body_timer = self._linger_timer = None

    @staticmethod
    def _cancel(timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()
