"""Litestar's own 404 and 405 answers as RFC 9457 problems, like every other bridge error."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.types import ExceptionHandlersMap

from bridge.problems import PROBLEM_CONTENT_TYPE, ProblemError

logger = logging.getLogger("bridge.app")


def _answer(
    request: Request[Any, Any, Any], problem: ProblemError, headers: Any
) -> Response[bytes]:
    logger.warning(
        "request refused",
        extra={"status": problem.status, "reason": problem.reason, "method": request.method},
    )
    return Response(
        problem.body(request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=dict(headers or {}),
    )


def _not_found(request: Request[Any, Any, Any], error: NotFoundException) -> Response[bytes]:
    problem = ProblemError("not_found", "not_found", "Nothing is served at this path.")
    return _answer(request, problem, error.headers)


def _method_not_allowed(
    request: Request[Any, Any, Any], error: MethodNotAllowedException
) -> Response[bytes]:
    detail = f"{request.method} is not allowed here."
    allow = (error.headers or {}).get("allow")
    if allow:
        detail += f" Allowed: {allow}."
    problem = ProblemError("method", "method_not_allowed", detail)
    return _answer(request, problem, error.headers)


def problem_handlers() -> ExceptionHandlersMap:
    """Exception handlers answering 404 and 405 as application/problem+json."""
    return {NotFoundException: _not_found, MethodNotAllowedException: _method_not_allowed}
