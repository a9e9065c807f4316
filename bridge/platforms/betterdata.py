"""Better Data Cloud: Standard Webhooks v1/v1a verification, body models and translation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from commercegateway.v1 import events_pb2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bridge.platforms import betterdata_schema as schema
from bridge.platforms.betterdata_samples import sample
from bridge.platforms.common import (
    PayloadRejected,
    WebhookRejected,
    any_digest_matches,
    as_utc,
    decode_base64,
    encode_text,
    hmac_base64,
    require_header,
)
from bridge.platforms.delivery import (
    Envelope,
    Translation,
    make_event,
    parse_json,
    timestamp,
    translating,
    validate_document,
    validate_json,
)
from bridge.platforms.money import money_from_minor
from bridge.platforms.platform import Platform, SignRequest, VerifyOptions
from bridge.platforms.standard_webhooks_keys import (
    MAX_SIGNATURES,
    PRIVATE_KEY_PREFIX,
    PUBLIC_KEY_PREFIX,
    SIGNATURE_BYTES,
    any_signature_verifies,
    is_asymmetric,
    public_key,
    sign_base64,
)

DEFAULT_SHOP = "default"
"""The shop of a body without shop_id unless COMMERCE_GATEWAY_BETTERDATA_DEFAULT_SHOP says."""
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
_SECONDS = re.compile(r"[0-9]{1,15}", re.ASCII)


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret: base64-decoded after an optional `whsec_` prefix.

    A `whsec_` secret may omit the base64 padding, as the reference libraries accept. A
    secret that is not valid base64 (e.g. a shared WEBHOOK_SECRET) is used as UTF-8 bytes.
    """
    encoded = secret.removeprefix(SECRET_PREFIX)
    if encoded != secret and len(encoded) % 4 in (2, 3):
        encoded += "=" * (-len(encoded) % 4)
    return decode_base64(encoded) or encode_text(secret)


def signed_content(webhook_id: str, seconds: str, body: bytes) -> bytes:
    """The bytes Standard Webhooks signs: "{id}.{timestamp}.{body}"."""
    return encode_text(f"{webhook_id}.{seconds}.") + body


def _signatures(value: str) -> tuple[list[bytes], list[bytes]]:
    """The decoded `v1,<base64>` and `v1a,<base64>` entries of a webhook-signature header (space
    separated); entries of other versions or lengths are ignored.

    Raises:
        WebhookRejected: malformed_signature, more than MAX_SIGNATURES `v1a` entries.
    """
    digests: list[bytes] = []
    signatures: list[bytes] = []
    entries = value.split()
    if sum(entry.startswith("v1a,") for entry in entries) > MAX_SIGNATURES:
        raise WebhookRejected(
            "malformed_signature", f"webhook-signature has more than {MAX_SIGNATURES} v1a entries"
        )
    for entry in entries:
        version, _, encoded = entry.partition(",")
        if version not in ("v1", "v1a"):
            continue
        decoded = decode_base64(encoded)
        if version == "v1" and decoded is not None and len(decoded) == 32:
            digests.append(decoded)
        elif version == "v1a" and decoded is not None and len(decoded) == SIGNATURE_BYTES:
            signatures.append(decoded)
    return digests, signatures


def _public_keys(secrets: Sequence[str]) -> list[Ed25519PublicKey]:
    """The ed25519 public keys of the `whpk_`/`whsk_` entries; malformed ones never match
    (settings refuse them at start)."""
    keys = []
    for secret in secrets:
        if is_asymmetric(secret):
            try:
                keys.append(public_key(secret))
            except ValueError:
                continue
    return keys


def verify(
    body: bytes,
    headers: Mapping[Any, Any],
    secrets: Sequence[str],
    *,
    now: datetime | None = None,
    tolerance: timedelta = timedelta(minutes=5),
) -> None:
    """Checks a Standard Webhooks signature and that its timestamp is within `tolerance`.

    A `v1` entry (HMAC-SHA256) is checked only against symmetric secrets, a `v1a` entry
    (ed25519) only against `whpk_` public keys (or the public half of `whsk_` keys); one
    matching entry of the space-separated header suffices.
    """
    keys = [secret_key(secret) for secret in secrets if secret and not is_asymmetric(secret)]
    public_keys = _public_keys(secrets)
    if not keys and not public_keys:
        raise WebhookRejected("no_secret_configured")
    webhook_id = require_header(headers, ID_HEADER)
    seconds = require_header(headers, TIMESTAMP_HEADER)
    signature = require_header(headers, SIGNATURE_HEADER)
    if not _SECONDS.fullmatch(seconds):
        raise WebhookRejected("malformed_timestamp", "webhook-timestamp is not Unix seconds")
    if not body:
        raise WebhookRejected("empty_body")
    digests, signatures = _signatures(signature)
    if not digests and not signatures:
        raise WebhookRejected("malformed_signature", "webhook-signature has no v1 or v1a signature")
    content = signed_content(webhook_id, seconds, body)
    symmetric = any_digest_matches(keys, content, digests)  # constant time over every pair
    if not symmetric and not any_signature_verifies(public_keys, content, signatures):
        raise WebhookRejected(
            "bad_signature", "no v1 or v1a signature matches a configured secret or public key"
        )
    age = int(as_utc(now).timestamp()) - int(seconds)
    if age > tolerance.total_seconds():
        raise WebhookRejected("stale_timestamp", "webhook-timestamp is older than the tolerance")
    if -age > tolerance.total_seconds():
        raise WebhookRejected("future_timestamp", "webhook-timestamp is too far in the future")


def _inventory(envelope: Envelope, document: Any, occur: datetime) -> list[events_pb2.Event]:
    data = validate_document(schema.InventoryUpdated, document).data
    payload = events_pb2.InventoryUpdated(
        inventory_item_id=data.variant_id or data.product_id,
        location_id=data.location_id or "",
        available=data.available,
        update_time=timestamp(occur),
        product_id=data.product_id,
        variant_id=data.variant_id or "",
        sku=data.sku or "",
    )
    return [make_event(envelope, "inventory_updated", payload, occur_time=occur)]


def _order(envelope: Envelope, document: Any, occur: datetime) -> list[events_pb2.Event]:
    data = validate_document(schema.OrderCreated, document).data
    payload = events_pb2.OrderCreated(
        order_id=data.order_id,
        state=events_pb2.ORDER_STATE_COMPLETED,
        total=translating("data.currency", money_from_minor, data.total_minor, data.currency),
        session_id=data.session_id or "",
        update_time=timestamp(occur),
    )
    return [make_event(envelope, "order_created", payload, occur_time=occur)]


def _product(envelope: Envelope, document: Any, occur: datetime) -> list[events_pb2.Event]:
    data = validate_document(schema.ProductUpdated, document).data
    if data.deleted:
        deleted = events_pb2.ProductDeleted(product_id=data.product_id)
        return [make_event(envelope, "product_deleted", deleted, occur_time=occur)]
    payload = events_pb2.ProductUpdated(
        product_id=data.product_id, title=data.title or "", update_time=timestamp(occur)
    )
    return [make_event(envelope, "product_updated", payload, occur_time=occur)]


def _checkout(envelope: Envelope, document: Any, occur: datetime) -> list[events_pb2.Event]:
    data = validate_document(schema.CheckoutCompleted, document).data
    payload = events_pb2.CheckoutCompleted(session_id=data.session_id, order_id=data.order_id)
    if data.total_minor is not None and data.currency is not None:
        money = translating("data.currency", money_from_minor, data.total_minor, data.currency)
        payload.total.CopyFrom(money)
    return [make_event(envelope, "checkout_completed", payload, occur_time=occur)]


_Handler = Callable[[Envelope, Any, datetime], list[events_pb2.Event]]
HANDLERS: dict[str, _Handler] = {
    "inventory.updated": _inventory,
    "order.created": _order,
    "product.updated": _product,
    "checkout.completed": _checkout,
}
HANDLED_TOPICS: tuple[str, ...] = tuple(HANDLERS)


def parse(body: bytes, headers: Mapping[Any, Any], received_at: datetime) -> Translation:
    """Reads an authentic Better Data delivery into canonical events, routing on `type`."""
    document = parse_json(body)  # once: every model below validates this document
    head = validate_document(schema.Envelope, document)
    envelope = Envelope(
        wire=events_pb2.PLATFORM_BETTERDATA,
        platform="betterdata",
        topic=head.type,
        delivery_id=require_header(headers, ID_HEADER),
        shop=head.shop_id or "",
        received_at=received_at,
    )
    handler = HANDLERS.get(head.type)
    if handler is None:
        return Translation(envelope, (), handled=False, payload_time=None)
    occur = validate_document(schema.Stamped, document).timestamp
    events = translating("body", handler, envelope, document, occur)
    return Translation(envelope, tuple(events), handled=True, payload_time=occur)


def shop_of(body: bytes) -> str | None:
    """The shop_id of an authentic body, or None when it has none."""
    try:
        return validate_json(schema.Envelope, body).shop_id
    except PayloadRejected:
        return None


def sign(body: bytes, secret: str, request: SignRequest) -> dict[str, str]:
    """Every header Better Data sends with `body`: Standard Webhooks signed with `secret`, `v1`
    for a symmetric secret, `v1a` for a `whsk_` private key (a fresh webhook-id when the
    request names none).

    Raises:
        ValueError: `secret` is a `whpk_` public key (it cannot sign) or a malformed `whsk_`.
    """
    if secret.startswith(PUBLIC_KEY_PREFIX):
        raise ValueError(
            "a whpk_ public key cannot sign: configure a whsk_ private key or a whsec_ secret"
        )
    delivery_id = request.delivery_id or f"msg_{uuid.uuid4().hex}"
    seconds = str(int(as_utc(request.now).timestamp()))
    content = signed_content(delivery_id, seconds, body)
    return {
        "Content-Type": "application/json",
        ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: seconds,
        SIGNATURE_HEADER: _signature(secret, content),
    }


def _signature(secret: str, content: bytes) -> str:
    if secret.startswith(PRIVATE_KEY_PREFIX):
        return "v1a," + sign_base64(secret, content)
    return "v1," + hmac_base64(secret_key(secret), content)


def _verify(
    body: bytes, headers: Mapping[str, str], secrets: Sequence[str], options: VerifyOptions
) -> None:
    verify(body, headers, secrets, now=options.now, tolerance=options.tolerance)


PLATFORM = Platform(
    name="betterdata",
    wire=events_pb2.PLATFORM_BETTERDATA,
    title="Better Data",
    verify=_verify,
    parse=parse,
    sign=sign,
    sample=sample,
    handled_topics=HANDLED_TOPICS,
    body_shop=shop_of,
    signature_headers=(SIGNATURE_HEADER,),
    secret_variable="BETTERDATA_WEBHOOK_SECRET",
    sample_shop="shop_example",
    delivery_id_headers=(ID_HEADER,),
    topic_field="type",
    default_shop_allowed=True,
    signature_scheme="Standard Webhooks v1 / v1a",
    header_docs=(
        (ID_HEADER, True, "The delivery id (dedup key), signed."),
        (TIMESTAMP_HEADER, True, "Unix seconds, signed; within the tolerance of now."),
        (
            SIGNATURE_HEADER,
            True,
            "Standard Webhooks v1 (HMAC) / v1a (ed25519) signature(s) of id.timestamp.body.",
        ),
    ),
)
"""Better Data Cloud, as the bridge knows it."""
