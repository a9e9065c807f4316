"""OpenAPI documentation of the webhook routes (raw ASGI routes Litestar cannot describe itself)."""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)

from bridge.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPES
from bridge.routes import WEBHOOK_PATHS

_OUTCOME = Schema(
    type=OpenAPIType.OBJECT,
    required=["status", "event_id"],
    properties={
        "status": Schema(type=OpenAPIType.STRING, enum=["accepted", "duplicate", "ignored"]),
        "event_id": Schema(
            one_of=[Schema(type=OpenAPIType.STRING), Schema(type=OpenAPIType.NULL)],
            description="The canonical event id (the first, for a delivery of several events).",
        ),
        "event_ids": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(type=OpenAPIType.STRING),
            description="Every event id, when the delivery carried several events.",
        ),
    },
)
_PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status", "detail", "reason"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, format=None),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "reason": Schema(type=OpenAPIType.STRING, description="Stable machine-readable code."),
        "errors": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING)),
    },
)
_SUMMARIES = {
    "/webhooks/shopify": "Receive a Shopify webhook (X-Shopify-Hmac-Sha256).",
    "/webhooks/square": "Receive a Square webhook (x-square-hmacsha256-signature).",
    "/webhooks/betterdata": "Receive a Better Data webhook (Standard Webhooks v1).",
    "/api/webhooks": "Receive a webhook of any platform, detected from its signature header.",
}


def _operation(path: str) -> Operation:
    responses: dict[str, OpenAPIResponse | Reference] = {
        "200": OpenAPIResponse(
            description="Durably stored (core or local outbox), a duplicate, or ignored.",
            content={"application/json": OpenAPIMediaType(schema=_OUTCOME)},
        )
    }
    for status, type_uri, title in sorted(PROBLEM_TYPES.values()):
        if status == 500:
            continue
        responses[str(status)] = OpenAPIResponse(
            description=f"{title} ({type_uri}).",
            content={PROBLEM_CONTENT_TYPE: OpenAPIMediaType(schema=_PROBLEM)},
        )
    return Operation(
        summary=_SUMMARIES[path],
        operation_id="receive_" + path.strip("/").replace("/", "_"),
        tags=["webhooks"],
        request_body=RequestBody(
            content={"application/json": OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT))},
            description="The platform's payload, byte for byte as signed.",
            required=True,
        ),
        responses=responses,
    )


def document_webhooks(app: Litestar) -> None:
    """Adds the webhook routes to the app's (cached) OpenAPI document."""
    schema = app.openapi_schema
    schema.paths = dict(schema.paths or {})
    for path in WEBHOOK_PATHS:
        schema.paths[path] = PathItem(post=_operation(path))
