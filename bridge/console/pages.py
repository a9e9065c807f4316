"""The console's routes under /console: pages, the live stream, login and the POST actions."""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from litestar import Request, Response, Router, get, post
from litestar.enums import MediaType
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, ServerSentEvent
from litestar.static_files import create_static_files_router

from bridge.console.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    ConsoleAccess,
    csrf_valid,
    new_csrf_token,
    same_origin,
)
from bridge.console.core_reader import CoreReader
from bridge.console.hints import SecretNames
from bridge.console.parked import ParkedOutbox
from bridge.console.quarantined import MAX_PAYLOAD_SHOWN, QuarantineActions
from bridge.console.recorder import OUTCOMES, DeliveryRecorder, Filters
from bridge.console.sse import LiveStreams
from bridge.console.views import chart_bars, delivery_row
from bridge.platforms import REGISTRY
from bridge.problems import PROBLEM_CONTENT_TYPE
from bridge.settings import BridgeSettings

logger = logging.getLogger("bridge.console")

PREFIX = "/console"
MAX_FORM_BYTES = 16_384
"""A console form (login, action) larger than this is refused (413)."""
MAX_FILTER_CHARS = 100
"""Filter and search fields are clipped to this many characters."""
NOTICE_COOKIE = "cg_console_notice"
_HERE = Path(__file__).parent
_PUBLIC = frozenset({f"{PREFIX}/login"})
_SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
}
_URN = "urn:commerce-gateway:problem:"


def problem(
    request: Request[Any, Any, Any], status: int, reason: str, detail: str
) -> Response[Any]:
    """An RFC 9457 problem answer of the console, logged (never with a secret)."""
    logger.warning(
        "console request refused",
        extra={"path": request.url.path, "status": status, "reason": reason},
    )
    titles = {
        401: "Console login required",
        403: "Console request refused",
        400: "Bad console request",
        404: "Not found",
        405: "Method not allowed",
        413: "Request body too large",
        503: "Console busy",
    }
    body = {
        "type": _URN + "console-" + reason.replace("_", "-"),
        "title": titles.get(status, "Console error"),
        "status": status,
        "detail": detail,
        "reason": reason,
        "instance": request.url.path,
    }
    return Response(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE)


def _http_problem(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    """Litestar's own refusals on console routes (bad path value, body too large, ...) as
    problem+json too."""
    reason = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    return problem(request, error.status_code, reason, str(error.detail)[:200])


def _text(request: Request[Any, Any, Any], name: str) -> str:
    return str(request.query_params.get(name, "")).strip()[:MAX_FILTER_CHARS]


class ConsolePages:
    """Builds the console's router from its collaborators."""

    def __init__(
        self,
        *,
        settings: BridgeSettings,
        recorder: DeliveryRecorder,
        access: ConsoleAccess,
        names: SecretNames,
        core: CoreReader,
        parked: ParkedOutbox,
        quarantine: QuarantineActions,
    ) -> None:
        """Serves the console with these collaborators."""
        self._settings = settings
        self._recorder = recorder
        self._access = access
        self._names = names
        self._core = core
        self._parked = parked
        self._quarantine = quarantine
        self._streams = LiveStreams(recorder)
        self._templates = JinjaTemplateEngine(directory=_HERE / "templates")

    # --- rendering ----------------------------------------------------------------------

    def _page(
        self, request: Request[Any, Any, Any], template: str, **context: Any
    ) -> Response[Any]:
        csrf = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        notice = unquote(request.cookies.get(NOTICE_COOKIE, ""))[:300]
        html = self._templates.get_template(template).render(
            csrf=csrf,
            notice=notice,
            login_required=self._access.login_required,
            prefix=PREFIX,
            **context,
        )
        response: Response[Any] = Response(
            html, media_type=MediaType.HTML, headers=_SECURITY_HEADERS
        )
        secure = request.url.scheme == "https"
        if request.cookies.get(CSRF_COOKIE) != csrf:
            response.set_cookie(
                CSRF_COOKIE, csrf, path=PREFIX, httponly=True, samesite="strict", secure=secure
            )
        if notice:
            response.delete_cookie(NOTICE_COOKIE, path=PREFIX)
        return response

    @staticmethod
    def _back(request: Request[Any, Any, Any], to: str, notice: str) -> Response[Any]:
        response: Response[Any] = Redirect(f"{PREFIX}{to}", status_code=303)
        secure = request.url.scheme == "https"
        response.set_cookie(
            NOTICE_COOKIE,
            quote(notice[:300]),
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=secure,
        )
        return response

    # --- access -------------------------------------------------------------------------

    async def _guard(self, request: Request[Any, Any, Any]) -> Response[Any] | None:
        """Refuses requests without a session (when a token is set) and unsafe ones without
        a valid CSRF token or from another origin."""
        path = request.url.path
        if request.method == "POST":
            if not same_origin(request.headers):
                return problem(request, 403, "cross_origin", "The request came from another site.")
            form = await request.form()
            if not csrf_valid(request.cookies.get(CSRF_COOKIE), str(form.get("csrf", ""))):
                return problem(
                    request, 403, "csrf", "The form is stale or forged: reload the page."
                )
        if path in _PUBLIC or self._access.session_valid(request.cookies.get(SESSION_COOKIE)):
            return None
        if request.method == "GET" and request.headers.get("accept", "").startswith("text/html"):
            return Redirect(f"{PREFIX}/login", status_code=303)
        return problem(
            request, 401, "login_required", "Log in at /console/login with the console token."
        )

    # --- routes -------------------------------------------------------------------------

    def router(self) -> Router:
        """The /console router (pages, stream, actions) and its static files."""
        handlers: list[Any] = [
            self._deliveries_page(),
            self._deliveries_json(),
            self._events(),
            *self._quarantine_routes(),
            *self._parked_routes(),
            self._core_page(),
            *self._login_routes(),
        ]
        static = create_static_files_router(
            path=f"{PREFIX}/static",
            directories=[_HERE / "static"],
            include_in_schema=False,
        )

        async def guard(request: Request[Any, Any, Any]) -> Response[Any] | None:
            return await self._guard(request)  # a function: Litestar deep-copies routers

        guarded = Router(
            path="/",
            route_handlers=handlers,
            before_request=guard,
            include_in_schema=False,
            request_max_body_size=MAX_FORM_BYTES,
            exception_handlers={HTTPException: _http_problem},
        )
        return Router(path="/", route_handlers=[guarded, static], include_in_schema=False)

    def _filters(self, request: Request[Any, Any, Any]) -> Filters:
        platform, outcome = _text(request, "platform"), _text(request, "outcome")
        return Filters(
            platform if platform in REGISTRY else "",
            outcome if outcome in OUTCOMES else "",
            _text(request, "shop"),
        )

    def _deliveries_page(self) -> Any:
        @get(PREFIX, sync_to_thread=False)
        def deliveries(request: Request[Any, Any, Any]) -> Response[Any]:
            """The deliveries, newest first, live; filters; the last hour's chart."""
            filters = self._filters(request)
            rows = [
                delivery_row(entry, self._names)
                for entry in self._recorder.newest(limit=200, filters=filters)
            ]
            now = time.time()
            return self._page(
                request,
                "deliveries.html",
                view="deliveries",
                rows=rows,
                filters=filters,
                platforms=list(REGISTRY),
                outcomes=OUTCOMES,
                last_id=self._recorder.last_id,
                capacity=self._recorder.capacity,
                bars=chart_bars(self._recorder.counters.totals(now)),
            )

        return deliveries

    def _deliveries_json(self) -> Any:
        @get(f"{PREFIX}/api/deliveries", sync_to_thread=False)
        def deliveries_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
            """The kept deliveries matching the filters, newest first, as JSON."""
            found = self._recorder.newest(
                limit=self._recorder.capacity, filters=self._filters(request)
            )
            return {"deliveries": [delivery_row(entry, self._names) for entry in found]}

        return deliveries_json

    def _events(self) -> Any:
        @get(f"{PREFIX}/events", sync_to_thread=False)
        def events(request: Request[Any, Any, Any]) -> Response[Any]:
            """Server-sent events: each delivery recorded from now on (or after a cursor)."""
            if self._streams.full():
                return problem(request, 503, "too_many_streams", "Too many live views are open.")
            given = request.headers.get("last-event-id") or _text(request, "after")
            after = int(given) if given.isdigit() else self._recorder.last_id
            messages = self._streams.messages(
                after, self._filters(request), lambda entry: delivery_row(entry, self._names)
            )
            return ServerSentEvent(messages, headers={"cache-control": "no-store"})

        return events

    def _quarantine_routes(self) -> list[Any]:
        @get(f"{PREFIX}/quarantine")
        async def quarantine_page(request: Request[Any, Any, Any]) -> Response[Any]:
            """Quarantined deliveries, newest first, with re-drive and drop."""
            entries, total = await self._quarantine.list()
            return self._page(
                request, "quarantine.html", view="quarantine", entries=entries, total=total
            )

        @get(f"{PREFIX}/quarantine/{{entry_id:int}}")
        async def quarantine_entry(
            request: Request[Any, Any, Any], entry_id: FromPath[int]
        ) -> Response[Any]:
            """One quarantined delivery with its payload (shown only on this request)."""
            entry = await self._quarantine.get(entry_id)
            if entry is None:
                return problem(request, 404, "no_such_entry", f"No quarantine entry {entry_id}.")
            payload = entry.body[:MAX_PAYLOAD_SHOWN].decode("utf-8", "replace")
            return self._page(
                request,
                "quarantine_entry.html",
                view="quarantine",
                entry=entry,
                payload=payload,
                clipped=len(entry.body) > MAX_PAYLOAD_SHOWN,
            )

        @post(f"{PREFIX}/quarantine/{{entry_id:int}}/redrive", status_code=303)
        async def quarantine_redrive(
            request: Request[Any, Any, Any], entry_id: FromPath[int]
        ) -> Response[Any]:
            """Re-drives one quarantined delivery to the core."""
            outcome = await self._quarantine.redrive(entry_id)
            logger.info("console re-drive", extra={"entry": entry_id, "result": outcome.result})
            notice = f"Quarantine entry {entry_id}: {outcome.result} ({outcome.detail})"
            return self._back(request, "/quarantine", notice)

        @post(f"{PREFIX}/quarantine/{{entry_id:int}}/drop", status_code=303)
        async def quarantine_drop(
            request: Request[Any, Any, Any], entry_id: FromPath[int]
        ) -> Response[Any]:
            """Drops one quarantined delivery for good."""
            outcome = await self._quarantine.drop(entry_id)
            logger.info("console drop", extra={"entry": entry_id, "result": outcome.result})
            return self._back(
                request, "/quarantine", f"Quarantine entry {entry_id}: {outcome.result}"
            )

        return [quarantine_page, quarantine_entry, quarantine_redrive, quarantine_drop]

    def _parked_routes(self) -> list[Any]:
        @get(f"{PREFIX}/parked")
        async def parked_page(request: Request[Any, Any, Any]) -> Response[Any]:
            """Parked outbox entries (refused by the core as invalid) with re-drive and drop."""
            entries, total = await self._parked.list()
            return self._page(request, "parked.html", view="parked", entries=entries, total=total)

        @post(f"{PREFIX}/parked/{{entry_id:int}}/redrive", status_code=303)
        async def parked_redrive(
            request: Request[Any, Any, Any], entry_id: FromPath[int]
        ) -> Response[Any]:
            """Publishes one parked entry to the core again."""
            settings = self._settings
            outcome = await self._parked.redrive(
                entry_id, settings.core, settings.publisher_token, settings.core_credentials()
            )
            logger.info(
                "console parked re-drive", extra={"entry": entry_id, "result": outcome.result}
            )
            notice = f"Parked entry {entry_id}: {outcome.result} ({outcome.detail})"
            return self._back(request, "/parked", notice)

        @post(f"{PREFIX}/parked/{{entry_id:int}}/drop", status_code=303)
        async def parked_drop(
            request: Request[Any, Any, Any], entry_id: FromPath[int]
        ) -> Response[Any]:
            """Deletes one parked entry for good."""
            outcome = await self._parked.drop(entry_id)
            logger.info("console parked drop", extra={"entry": entry_id, "result": outcome.result})
            return self._back(request, "/parked", f"Parked entry {entry_id}: {outcome.result}")

        return [parked_page, parked_redrive, parked_drop]

    def _core_page(self) -> Any:
        @get(f"{PREFIX}/core")
        async def core_page(request: Request[Any, Any, Any]) -> Response[Any]:
            """The core: head sequence, subscribers and their lag, consumer groups, inventory
            level search."""
            shop, item = _text(request, "shop"), _text(request, "item")
            search = await self._core.search_levels(shop, item) if shop else None
            return self._page(
                request,
                "core.html",
                view="core",
                core=await self._core.status(),
                groups=await self._core.groups(),
                target=self._core.target,
                shop=shop,
                item=item,
                search=search,
            )

        return core_page

    def _login_routes(self) -> list[Any]:
        @get(f"{PREFIX}/login", sync_to_thread=False)
        def login_page(request: Request[Any, Any, Any]) -> Response[Any]:
            """The login form (the console token)."""
            return self._page(request, "login.html", view="login", failed=False)

        @post(f"{PREFIX}/login", status_code=303)
        async def login(request: Request[Any, Any, Any]) -> Response[Any]:
            """Checks the token; sets the HttpOnly session cookie on success."""
            form = await request.form()
            if not self._access.token_matches(str(form.get("token", ""))):
                logger.warning("console login failed", extra={"path": request.url.path})
                response = self._page(request, "login.html", view="login", failed=True)
                response.status_code = 401
                return response
            response = Redirect(PREFIX, status_code=303)
            response.set_cookie(
                SESSION_COOKIE,
                self._access.new_session(),
                path=PREFIX,
                max_age=SESSION_SECONDS,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
            logger.info("console login", extra={"path": request.url.path})
            return response

        @post(f"{PREFIX}/logout", status_code=303)
        async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
            """Forgets the session cookie."""
            response: Response[Any] = Redirect(f"{PREFIX}/login", status_code=303)
            response.delete_cookie(SESSION_COOKIE, path=PREFIX)
            return response

        return [login_page, login, logout]
