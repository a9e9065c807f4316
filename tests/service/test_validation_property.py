"""Property: no event content makes validation raise anything but InvalidArgumentError."""

from __future__ import annotations

from decimal import Decimal

from commercegateway.v1 import events_pb2 as ev
from hypothesis import given
from hypothesis import strategies as st

from service.errors import InvalidArgumentError
from service.validation import check_batch

quantities = st.one_of(
    st.text(max_size=80),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"-?[0-9]{1,3}(\.[0-9]{1,3})?([eE][+-]?[0-9]{1,12})?", fullmatch=True),
)


@given(
    platform=st.integers(min_value=-2, max_value=5),
    source=st.text(max_size=20),
    shop=st.text(max_size=20),
    item=st.text(max_size=10),
    available=quantities,
)
def test_inventory_events_are_accepted_or_refused_cleanly(
    platform: int, source: str, shop: str, item: str, available: str
) -> None:
    event = ev.Event(platform=platform, source_event_id=source, shop=shop)  # type: ignore[arg-type]
    event.inventory_updated.inventory_item_id = item
    event.inventory_updated.available = available
    try:
        check_batch([event])
    except InvalidArgumentError as error:
        assert str(error)
        return
    value = Decimal(available)
    assert value.is_finite()
    assert len(format(value, "f")) < 200
    assert event.id
