"""Pydantic field types shared by the platform schemas: exact ids, decimals, int64, times."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_DECIMAL = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?", re.ASCII)
_MAX_ID_LENGTH = 255


def _to_id(value: Any) -> str:
    """Accepts a platform id as a JSON integer (kept exact, never a float) or a string."""
    kind = type(value)  # the exact JSON types first: this runs for every id of a delivery
    text: str
    if kind is str:
        text = value
    elif kind is int:
        text = str(value)
    elif isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("expected an id (string or integer)")
    else:
        text = str(value)
    if not text or len(text) > _MAX_ID_LENGTH:
        raise ValueError(f"expected an id of 1 to {_MAX_ID_LENGTH} characters")
    return text


def _to_decimal(value: Any) -> str:
    """Accepts an exact decimal as a JSON integer or a decimal string, never a float."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("expected a decimal string or an integer")
    text = str(value) if isinstance(value, int) else value.strip()
    if not _DECIMAL.fullmatch(text):
        raise ValueError("expected a decimal number such as 10 or 2.5")
    return text


def _to_opt_text(value: Any) -> str:
    """Accepts null, a string, a number or a boolean as free text, turning null into ""."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, int | float | str):
        raise ValueError("expected a string")
    return str(value)


PlatformId = Annotated[
    str,
    PlainValidator(_to_id),
    WithJsonSchema({"type": ["string", "integer"], "description": "An id, kept exact."}),
]
"""A platform id: an integer of any size or a string, stored as its exact decimal text."""

DecimalText = Annotated[
    str,
    PlainValidator(_to_decimal),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer"},
                {"type": "string", "pattern": r"^-?[0-9]{1,30}(\.[0-9]{1,30})?$"},
            ]
        }
    ),
]
"""An exact decimal quantity or amount, as its decimal text ("10", "2.5")."""

OptionalText = Annotated[str, PlainValidator(_to_opt_text), WithJsonSchema({"type": "string"})]
"""Free text where the platform may send null; null becomes ""."""

Int64 = Annotated[int, Field(strict=True, ge=INT64_MIN, le=INT64_MAX)]
"""A JSON integer that fits a protobuf int64."""


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("expected a time with a UTC offset")
    return value


Timestamp = Annotated[datetime, AfterValidator(_aware)]
"""An RFC 3339 time with a UTC offset (nanoseconds are truncated to microseconds)."""


class Schema(BaseModel):
    """Base of every platform payload model: immutable, unknown fields ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Dated(Schema):
    """The usual times of a platform resource, for payloads that may carry them."""

    updated_at: Timestamp | None = None
    created_at: Timestamp | None = None
