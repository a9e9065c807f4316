"""event_id is exactly uuid5(NAMESPACE_URL, "platform:source_event_id"), for any text."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.platforms.delivery import event_id


@given(platform=st.sampled_from(["shopify", "square", "betterdata"]), source=st.text())
def test_event_id_is_uuid5_of_platform_and_source(platform: str, source: str) -> None:
    """The id matches the standard library's uuid5 over "platform:source" (any text)."""
    expected = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{platform}:{source}"))
    assert event_id(platform, source) == expected


def test_event_id_refuses_text_utf8_cannot_encode() -> None:
    """A lone surrogate fails as it does in uuid.uuid5 (UTF-8 encoding error)."""
    with pytest.raises(UnicodeEncodeError):
        event_id("shopify", "\ud800")
