"""JsonFormatter renders one JSON object per record, extra fields included (str() fallback)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from common.logs import JsonFormatter


def test_a_record_renders_with_its_extra_fields_and_str_fallback() -> None:
    """Standard fields, extra fields in order, and values JSON lacks rendered with str()."""
    record = logging.makeLogRecord(
        {
            "name": "bridge.webhooks",
            "levelname": "INFO",
            "msg": "delivery %s",
            "args": ("accepted",),
            "created": 0.0,
            "platform": "shopify",
            "events": 1,
            "where": Path("/x"),
        }
    )
    line = JsonFormatter().format(record)
    assert line == json.dumps(
        {
            "time": datetime.fromtimestamp(0.0, UTC).isoformat(),
            "level": "info",
            "logger": "bridge.webhooks",
            "message": "delivery accepted",
            "platform": "shopify",
            "events": 1,
            "where": "/x",
        }
    )


def _record(extra: dict[str, object], created: float) -> logging.LogRecord:
    record = logging.getLogger("t").makeRecord(
        "bridge.ü", logging.WARNING, "f", 1, "msg %s", ("é\n",), None, extra=extra
    )
    record.created = created
    return record


def _dumps(record: logging.LogRecord, extra: dict[str, object]) -> str:
    entry: dict[str, object] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
        "level": "warning",
        "logger": "bridge.ü",
        "message": "msg é\n",
    }
    entry.update(extra)
    return json.dumps(entry, default=str)


def test_lines_are_json_dumps_of_the_entry_for_every_kind_of_value() -> None:
    """The field-by-field writer gives exactly json.dumps(entry, default=str): strings with
    escapes and non-ASCII, ints of any size, floats, None, booleans, nested values, str()
    fallbacks, an extra named like an own field (it replaces it), whole and fractional times."""
    values: dict[str, object] = {
        "text": 'a "quoted" ü\t',
        "big": 10**30,
        "ratio": 2.5,
        "nan": float("nan"),
        "none": None,
        "yes": True,
        "no": False,
        "nested": {"k": [1, "x", None]},
        "path": Path("/x"),
    }
    extras: list[dict[str, object]] = [values, {**values, "time": "replaced"}, {"id": "m"}]
    for extra in extras:
        for created in (0.0, 1_764_000_000.123456):
            record = _record(extra, created)
            assert JsonFormatter().format(record) == _dumps(record, extra)


def test_an_exception_is_the_last_field() -> None:
    """A record with exc_info ends with its formatted traceback."""
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, "f", 1, "failed", (), sys.exc_info(), extra={"n": 1}
        )
    line = json.loads(JsonFormatter().format(record))
    assert list(line) == ["time", "level", "logger", "message", "n", "exception"]
    assert line["exception"].startswith("Traceback") and "boom" in line["exception"]
