"""JsonFormatter renders one JSON object per record, extra fields included (str() fallback)."""

from __future__ import annotations

import json
import logging
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
