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

from bridge.platforms import REGISTRY
from bridge.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPES
from bridge.webhook_endpoint import webhook_paths

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


def _summary(path: str) -> str:
    platform = next((p for p in REGISTRY.values() if p.path == path), None)
    if platform is None:  # /api/webhooks
        return "Receive a webhook of any platform, detected from its signature header."
    return f"Receive a {platform.title} webhook ({platform.signature_scheme})."


def _header_parameters(path: str) -> list[Parameter | Reference]:
    """The headers of the route's platform; on /api/webhooks every platform's, none required
    alone (the signature header present names the platform, whose headers are then required)."""
    named = next((p.header_docs for p in REGISTRY.values() if p.path == path), None)
    rows = named or tuple(row for p in REGISTRY.values() for row in p.header_docs)
    parameters: list[Parameter | Reference] = []
    for name, required, description in rows:
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
        summary=_summary(path),
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
    for path in webhook_paths():
        schema.paths[path] = PathItem(post=_operation(path))
