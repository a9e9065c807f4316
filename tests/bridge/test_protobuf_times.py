"""The hot path's own time conversions equal protobuf's Timestamp.FromDatetime/ToDatetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from bridge.platforms.delivery import timestamp
from service.convert import to_datetime

_TIMES = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=9))]),
)


def _protobuf(moment: datetime) -> Timestamp:
    expected = Timestamp()
    expected.FromDatetime(moment)
    return expected


@given(_TIMES)
def test_timestamp_equals_from_datetime(moment: datetime) -> None:
    assert timestamp(moment) == _protobuf(moment)


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_naive_times_are_utc(moment: datetime) -> None:
    assert timestamp(moment) == _protobuf(moment.replace(tzinfo=UTC))


@given(st.integers(-62_135_596_800, 253_402_300_799), st.integers(0, 999_999_999))
def test_to_datetime_equals_to_datetime_of_protobuf(seconds: int, nanos: int) -> None:
    stamp = Timestamp(seconds=seconds, nanos=nanos)
    converted = to_datetime(stamp, True)
    assert converted == stamp.ToDatetime(tzinfo=UTC)
    assert converted is not None and converted.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("seconds", "nanos"), [(-62_135_596_801, 0), (0, -1), (0, 10**9)])
def test_times_out_of_range_are_refused_as_by_protobuf(seconds: int, nanos: int) -> None:
    stamp = Timestamp(seconds=seconds, nanos=nanos)
    with pytest.raises(ValueError):
        stamp.ToDatetime(tzinfo=UTC)
    with pytest.raises(ValueError):
        to_datetime(stamp, True)


def test_an_unset_time_is_none() -> None:
    assert to_datetime(Timestamp(seconds=5), False) is None
