"""The delivery ring, its counters and the hints, on their own (no server)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge.console.hints import SecretNames, hint
from bridge.console.recorder import MAX_HEADER_CHARS, MAX_HEADERS, DeliveryRecorder, Filters
from tests.support.bridge import bridge_settings


def add(recorder: DeliveryRecorder, **fields: object) -> None:
    """Records one delivery with defaults for the fields not given."""
    values: dict[str, object] = {
        "platform": "shopify",
        "topic": "orders/create",
        "shop": "a.myshopify.com",
        "delivery_id": "d",
        "outcome": "accepted",
        "reason": "",
        "status": 200,
        "latency_ms": 1.0,
    }
    values.update(fields)
    recorder.add(**values)  # type: ignore[arg-type]


def test_the_ring_keeps_only_the_last_n_newest_first() -> None:
    recorder = DeliveryRecorder(3)
    for number in range(5):
        add(recorder, delivery_id=f"d{number}")
    assert [entry.delivery_id for entry in recorder.newest()] == ["d4", "d3", "d2"]
    assert recorder.last_id == 5
    assert [entry.id for entry in recorder.newest(after=3)] == [5, 4]


def test_signatures_and_credentials_are_not_kept() -> None:
    recorder = DeliveryRecorder(10)
    raw = [
        (b"x-shopify-hmac-sha256", b"c2lnbmF0dXJl"),
        (b"webhook-signature", b"v1,abc"),
        (b"x-square-hmacsha256-signature", b"sq"),
        (b"authorization", b"Bearer t"),
        (b"cookie", b"cg_console_session=x"),
        (b"x-custom-token", b"tok"),
        (b"x-shopify-topic", b"orders/create"),
    ]
    add(recorder, raw_headers=raw)
    (entry,) = recorder.newest()
    assert entry.headers() == [("x-shopify-topic", "orders/create")]
    kept = b"".join(name + value for name, value in entry.raw_headers)
    assert b"c2lnbmF0dXJl" not in kept and b"v1,abc" not in kept and b"Bearer" not in kept


def test_filters_by_platform_outcome_and_shop() -> None:
    recorder = DeliveryRecorder(10)
    add(recorder, platform="square", shop="merchant-1")
    add(recorder, outcome="rejected", status=403, reason="bad_signature", shop="b.myshopify.com")
    add(recorder, shop="a.myshopify.com")
    assert len(recorder.newest(filters=Filters(platform="square"))) == 1
    assert [e.reason for e in recorder.newest(filters=Filters(outcome="rejected"))] == [
        "bad_signature"
    ]
    assert len(recorder.newest(filters=Filters(shop="myshopify"))) == 2


def test_counters_sum_the_last_hour_per_platform() -> None:
    recorder = DeliveryRecorder(2)
    for _ in range(4):
        add(recorder)
    add(recorder, outcome="rejected", status=403, reason="bad_signature")
    totals = recorder.counters.totals(recorder.newest()[0].at)
    assert totals == {"shopify": {"accepted": 4, "rejected:bad_signature": 1}}
    assert recorder.counters.totals(recorder.newest()[0].at + 3700) == {}


async def test_waiters_wake_when_a_delivery_is_recorded() -> None:
    recorder = DeliveryRecorder(10)
    waiter = asyncio.create_task(recorder.wait_newer(0, timeout=10))
    await asyncio.sleep(0)  # let it start waiting
    add(recorder)
    assert await waiter is True
    assert await recorder.wait_newer(1, timeout=0.01) is False


def _rejected(recorder: DeliveryRecorder, platform: str, shop: str, url: str = "") -> str:
    add(
        recorder,
        platform=platform,
        shop=shop,
        outcome="rejected",
        status=403,
        reason="bad_signature",
        request_url=url,
    )
    return hint(recorder.newest()[0], NAMES)


NAMES = SecretNames.of(
    bridge_settings(
        Path("/nonexistent"),
        "127.0.0.1:1",
        webhook_secret="fallback-value",
        shopify_webhook_secret="shopify-value",
        shop_secrets={"b.myshopify.com": {"shopify": ["shop-value"]}, "m-1": {"square": ["x"]}},
    )
)


def test_bad_signature_hint_names_the_variables_tried_never_values() -> None:
    recorder = DeliveryRecorder(10)
    text = _rejected(recorder, "shopify", "b.myshopify.com")
    assert text == (
        'Tried [secrets.shops."b.myshopify.com"] shopify, SHOPIFY_WEBHOOK_SECRET, '
        "WEBHOOK_SECRET; none matched the signature."
    )
    other = _rejected(recorder, "shopify", "a.myshopify.com")
    assert other.startswith("Tried SHOPIFY_WEBHOOK_SECRET, WEBHOOK_SECRET;")
    for value in ("fallback-value", "shopify-value", "shop-value"):
        assert value not in text + other


def test_square_bad_signature_hint_names_the_expected_url() -> None:
    recorder = DeliveryRecorder(10)
    text = _rejected(recorder, "square", "", url="http://127.0.0.1:8080/webhooks/square")
    assert text.startswith('Tried [secrets.shops."m-1"] square, WEBHOOK_SECRET;')
    assert "the expected URL was http://127.0.0.1:8080/webhooks/square (this request's URL)" in text


def test_kept_headers_are_bounded_in_count_and_size() -> None:
    recorder = DeliveryRecorder(10)
    raw = [(f"x-h{n}".encode(), b"v" * 5000) for n in range(50)]
    add(recorder, raw_headers=raw)
    (entry,) = recorder.newest()
    assert len(entry.raw_headers) == MAX_HEADERS
    assert all(len(value) == MAX_HEADER_CHARS for _, value in entry.raw_headers)
