"""Test support: a strict media-type parse (RFC 9110 section 8.3.1), as strict scrapers do."""

from __future__ import annotations

import re

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_TYPE = re.compile(rf"^({_TOKEN})/({_TOKEN})$")
_PARAMETER = re.compile(rf'^({_TOKEN})=({_TOKEN}|"(?:[^"\\]|\\.)*")$')


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """("type/subtype", parameters) of a Content-Type value; ValueError on anything a strict
    parser refuses: a malformed type or parameter, or a parameter named twice."""
    kind, *parameters = (part.strip() for part in value.split(";"))
    if not _TYPE.match(kind):
        raise ValueError(f"malformed media type {kind!r}")
    found: dict[str, str] = {}
    for parameter in parameters:
        match = _PARAMETER.match(parameter)
        if match is None:
            raise ValueError(f"malformed parameter {parameter!r}")
        name = match.group(1).lower()
        if name in found:
            raise ValueError(f"duplicate parameter {name!r}")
        found[name] = match.group(2).strip('"')
    return kind.lower(), found
