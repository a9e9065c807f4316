"""OpenAPI documentation of the webhook routes (raw ASGI routes Litestar cannot describe itself)."""

from __future__ import annotations

from litestar import Litestar
from litestar.enums import ParamType
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
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


# (header, required on its own route, description): what each platform sends and we read.
_SHOPIFY_HEADERS = (
    ("X-Shopify-Hmac-Sha256", True, "base64 HMAC-SHA256 of the raw body (signature)."),
    ("X-Shopify-Topic", True, "The topic, e.g. orders/create."),
    ("X-Shopify-Shop-Domain", True, "The shop, e.g. example.myshopify.com."),
    ("X-Shopify-API-Version", True, "The API version of the payload."),
    ("X-Shopify-Webhook-Id", True, "The delivery id (dedup key; retries repeat it)."),
    ("X-Shopify-Triggered-At", False, "When the event happened (replay window)."),
)
_SQUARE_HEADERS = (
    ("x-square-hmacsha256-signature", True, "base64 HMAC-SHA256 of URL + body (signature)."),
    (
        "x-square-signature",
        False,
        "Legacy base64 HMAC-SHA1 of URL + body, accepted only with "
        "COMMERCE_GATEWAY_SQUARE_LEGACY_SHA1.",
    ),
    ("square-initial-delivery-timestamp", False, "First delivery attempt (replay window)."),
)
_BETTERDATA_HEADERS = (
    ("webhook-id", True, "The delivery id (dedup key), signed."),
    ("webhook-timestamp", True, "Unix seconds, signed; within the tolerance of now."),
    ("webhook-signature", True, "Standard Webhooks v1 signature(s) of id.timestamp.body."),
)
_HEADERS_BY_PATH = {
    "/webhooks/shopify": _SHOPIFY_HEADERS,
    "/webhooks/square": _SQUARE_HEADERS,
    "/webhooks/betterdata": _BETTERDATA_HEADERS,
}


def _header_parameters(path: str) -> list[Parameter | Reference]:
    """The headers of the route's platform; on /api/webhooks every platform's, none required
    alone (the signature header present names the platform, whose headers are then required)."""
    named = _HEADERS_BY_PATH.get(path)
    rows = named or _SHOPIFY_HEADERS + _SQUARE_HEADERS + _BETTERDATA_HEADERS
    parameters: list[Parameter | Reference] = []
    for name, required, text in rows:
        also = name.removeprefix("X-").lower() if name.startswith("X-Shopify-") else None
        description = f"{text} Also accepted as {also}." if also else text
        parameters.append(
            Parameter(
                name=name,
                param_in=ParamType.HEADER,
                schema=Schema(type=OpenAPIType.STRING),
                required=required and named is not None,
                description=description,
            )
        )
    return parameters


def _problem_responses() -> dict[str, OpenAPIResponse | Reference]:
    """One response per problem status (kinds sharing a status are listed together)."""
    titles: dict[int, list[str]] = {}
    for status, type_uri, title in sorted(PROBLEM_TYPES.values()):
        if status not in (404, 500):  # the webhook routes exist; 500 is the embedded handler's
            titles.setdefault(status, []).append(f"{title} ({type_uri}).")
    return {
        str(status): OpenAPIResponse(
            description=" ".join(texts),
            content={PROBLEM_CONTENT_TYPE: OpenAPIMediaType(schema=_PROBLEM)},
        )
        for status, texts in titles.items()
    }


def _operation(path: str) -> Operation:
    responses: dict[str, OpenAPIResponse | Reference] = {
        "200": OpenAPIResponse(
            description="Durably stored (core or local outbox), a duplicate, or ignored.",
            content={"application/json": OpenAPIMediaType(schema=_OUTCOME)},
        ),
        **_problem_responses(),
    }
    return Operation(
        summary=_SUMMARIES[path],
        operation_id="receive_" + path.strip("/").replace("/", "_"),
        tags=["webhooks"],
        parameters=_header_parameters(path),
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
