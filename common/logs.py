"""Structured JSON logging shared by the core, the bridge and the CLI."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
# What json.dumps(entry, default=str) builds for every call, built once (same output).
_ENCODER = json.JSONEncoder(default=str)
_CONSTANTS = {True: "true", False: "false", None: "null"}
_OWN_KEYS = frozenset({"time", "level", "logger", "message", "exception"})


def _json_value(value: object) -> str:
    """`value` exactly as json.dumps(value, default=str) writes it; the common scalar types
    without the encoder's per-call setup (a few microseconds on every log line)."""
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)  # type: ignore[arg-type]
    if kind is int:
        return int.__repr__(value)
    if value is None or kind is bool:
        return _CONSTANTS[value]  # type: ignore[index]
    return _ENCODER.encode(value)


class JsonFormatter(logging.Formatter):
    """Formats each record as one JSON object: time, level, logger, message, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Renders the record; fields passed with `extra=` become top-level keys. The line is
        exactly json.dumps(entry, default=str) of that entry, written field by field."""
        extras = [
            (key, value)
            for key, value in vars(record).items()
            if key not in _STANDARD_ATTRS and not key.startswith("_")
        ]
        if any(key in _OWN_KEYS for key, _ in extras):
            return self._format_entry(record, extras)  # an extra replaces an own field
        parts = [
            '{"time": "' + datetime.fromtimestamp(record.created, UTC).isoformat(),
            '", "level": ' + encode_basestring_ascii(record.levelname.lower()),
            ', "logger": ' + encode_basestring_ascii(record.name),
            ', "message": ' + encode_basestring_ascii(record.getMessage()),
        ]
        for key, value in extras:
            parts.append(", " + encode_basestring_ascii(key) + ": " + _json_value(value))
        if record.exc_info:
            exception = self.formatException(record.exc_info)
            parts.append(', "exception": ' + encode_basestring_ascii(exception))
        parts.append("}")
        return "".join(parts)

    def _format_entry(self, record: logging.LogRecord, extras: list[tuple[str, Any]]) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(extras)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


def configure_logging(level: str = "info") -> None:
    """Sends every log record to stderr as JSON lines at the given level. Records skip the
    thread, process and caller lookups (the switches of the Logging HOWTO's "Optimization"):
    no line shows them."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
