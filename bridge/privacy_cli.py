"""`commerce-gateway privacy export --shop S --customer ID`: everything held about one customer,
as JSON, to answer a Shopify customers/data_request: what the core holds (its ExportCustomerData
RPC: events, order ids, sessions) and what this bridge's data dir holds (quarantined bodies and
outbox events of the customer)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from datetime import UTC, datetime
from typing import Any

import grpc
from commercegateway.v1 import core_service_pb2, events_pb2
from google.protobuf import json_format

from bridge.core_channel import bearer_metadata, open_core_channel
from bridge.drain import core_stub
from bridge.outbox import Outbox
from bridge.privacy import Redaction, mentions
from bridge.quarantine import Quarantine
from bridge.settings import BridgeSettings, SettingsError, load_bridge_settings
from common.redaction import Subject, concerns

MAX_ORDERS = 1000
"""At most this many --order flags (the core's ExportCustomerData limit)."""
EXPORT_TIMEOUT_S = 60.0
"""How long the core's export may take before the command gives up (exit 1)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares the `privacy` actions and flags."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser(
        "export",
        help="Print as JSON everything held about one customer (Shopify customers/data_request).",
        description="Print as JSON everything the core and this bridge's data dir hold about "
        "one customer of a shop: the core's events naming the customer or its orders, the "
        "orders' sessions, and quarantined or outbox deliveries of the customer.",
    )
    export.add_argument("--shop", required=True, help="The shop, e.g. example.myshopify.com.")
    export.add_argument("--customer", required=True, metavar="ID", help="The customer id.")
    export.add_argument(
        "--order",
        action="append",
        default=[],
        metavar="ID",
        help="An order to include besides the customer's own (repeatable; the request's "
        "orders_requested).",
    )
    export.add_argument("--email", default="", help="Also match kept bodies by this e-mail.")
    export.add_argument("--phone", default="", help="Also match kept bodies by this phone.")
    export.add_argument(
        "--core", metavar="HOST:PORT", help="Core gRPC target (env COMMERCE_GATEWAY_CORE)."
    )
    export.add_argument(
        "--data-dir",
        metavar="DIR",
        help="The bridge's data dir holding quarantine.sqlite3 and outbox.sqlite3 (env "
        "COMMERCE_GATEWAY_DATA_DIR, default ./.commerce-gateway).",
    )


def _message(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


async def _from_core(settings: BridgeSettings, args: argparse.Namespace) -> dict[str, Any]:
    request = core_service_pb2.ExportCustomerDataRequest(
        shop=args.shop, customer_id=args.customer, order_ids=args.order
    )
    metadata = bearer_metadata(settings.publisher_token)
    async with open_core_channel(settings.core, settings.core_credentials()) as channel:
        response = await core_stub(channel).ExportCustomerData(
            request, metadata=metadata, timeout=EXPORT_TIMEOUT_S
        )
    return {
        "events": [_message(event) for event in response.events],
        "order_ids": list(response.order_ids),
        "sessions": [_message(session) for session in response.sessions],
        "truncated": response.truncated,
    }


def _body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def from_quarantine(data: Quarantine, redaction: Redaction) -> list[dict[str, Any]]:
    """The kept deliveries of the customer (the bridge.privacy matching), with their bodies."""
    found = []
    for summary in data.summaries():  # then one body at a time (each up to the body limit)
        entry = data.get(summary.entry_id) if summary.platform == redaction.platform else None
        if entry is None:
            continue
        if entry.headers.get("x-shopify-shop-domain", "") != redaction.subject.shop:
            continue
        document = _body(entry.body)
        if not mentions(document, entry.topic, redaction):
            continue
        found.append(
            {
                "entry_id": entry.entry_id,
                "topic": entry.topic,
                "delivery_id": entry.delivery_id,
                "reason": entry.reason,
                "received_at": entry.received_at.isoformat(),
                "body": document,
            }
        )
    return found


def from_outbox(outbox: Outbox, subject: Subject) -> list[dict[str, Any]]:
    """The outbox events (waiting or parked) concerning the customer."""

    def _select(connection: sqlite3.Connection) -> list[tuple[int, bytes, int, float]]:
        query = "SELECT id, event, parked, created_at FROM outbox WHERE shop = ? OR shop IS NULL"
        return list(connection.execute(query, (subject.shop,)).fetchall())

    found = []
    for entry_id, blob, parked, created in outbox.db.call(_select):
        event = events_pb2.Event.FromString(bytes(blob))
        if concerns(event, subject):
            found.append(
                {
                    "entry_id": int(entry_id),
                    "state": "parked" if parked else "waiting",
                    "created_at": datetime.fromtimestamp(float(created), UTC).isoformat(),
                    "event": _message(event),
                }
            )
    return found


def main(args: argparse.Namespace) -> int:
    """Prints the export; 0 on success, 1 when the core cannot answer, 2 on bad input."""
    try:
        settings = load_bridge_settings(data_dir=args.data_dir, core=args.core)
        if len(args.order) > MAX_ORDERS:
            raise SettingsError(f"at most {MAX_ORDERS} --order flags")
        if not args.shop.strip():
            raise SettingsError("--shop must name the shop (e.g. example.myshopify.com)")
        if not args.customer.strip() and not args.order:
            raise SettingsError("--customer must name the customer id (or pass --order)")
        if not settings.data_dir.is_dir():
            raise SettingsError(
                f"no bridge data dir at {settings.data_dir}: run this where the bridge keeps its"
                " data, or pass --data-dir"
            )
    except SettingsError as error:
        print(f"commerce-gateway privacy: {error}", file=sys.stderr)
        return 2
    subject = Subject(events_pb2.PLATFORM_SHOPIFY, args.shop, args.customer, frozenset(args.order))
    redaction = Redaction(subject, "shopify", args.email, args.phone)
    try:
        core = asyncio.run(_from_core(settings, args))
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
            print(f"commerce-gateway privacy: {error.details()}", file=sys.stderr)
            return 2
        print(
            f"commerce-gateway privacy: the core at {settings.core} did not answer:"
            f" {error.code().name}: {error.details()}",
            file=sys.stderr,
        )
        return 1
    quarantine, outbox = Quarantine(settings.data_dir), Outbox(settings.data_dir)
    try:
        document = {
            "shop": args.shop,
            "customer_id": args.customer,
            "exported_at": datetime.now(UTC).isoformat(),
            "core": core,
            "quarantine": from_quarantine(quarantine, redaction),
            "outbox": from_outbox(outbox, subject),
        }
    finally:
        quarantine.close()
        outbox.close()
    print(json.dumps(document, indent=2, ensure_ascii=False))
    return 0
