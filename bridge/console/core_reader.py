"""What the console reads from the core: its status (head, subscribers, lag), its consumer
groups and stock levels."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from commercegateway.v1 import core_service_pb2 as api
from commercegateway.v1 import events_pb2 as ev

from bridge.core_channel import bearer_metadata, open_core_channel
from bridge.drain import core_stub

CORE_TIMEOUT = 2.0
"""Each console call to the core gives up after this many seconds."""
MAX_LEVELS_SCANNED = 5000
"""An inventory search reads at most this many levels of the shop."""
MAX_LEVELS_SHOWN = 100
"""An inventory search shows at most this many matching levels."""
_PAGE = 1000


@dataclass(frozen=True)
class CoreView:
    """The core's status as the console shows it, or why it could not be read."""

    status: api.GetCoreStatusResponse | None
    error: str = ""


@dataclass(frozen=True)
class GroupRow:
    """One consumer group as the console lists it."""

    name: str
    filter: str
    acked_through: int
    lag: int
    in_flight: int
    parked: int
    members: list[str]


@dataclass(frozen=True)
class GroupsView:
    """The core's consumer groups (ListGroups), or why they could not be read."""

    groups: list[GroupRow] = field(default_factory=list)
    error: str = ""


def group_row(group: api.ConsumerGroup) -> GroupRow:
    """The console's row of a group: its filter in words and each member's peer and load."""
    kinds = ", ".join(
        ev.EventKind.Name(kind).removeprefix("EVENT_KIND_").lower() for kind in group.kinds
    )
    shop = group.shop or "every shop"
    return GroupRow(
        name=group.name,
        filter=f"{shop}; {kinds or 'every kind'}",
        acked_through=group.acked_through_sequence,
        lag=group.lag,
        in_flight=group.in_flight,
        parked=group.parked,
        members=[f"{m.peer} ({m.in_flight}/{m.max_unacked})" for m in group.members],
    )


@dataclass(frozen=True)
class LevelSearch:
    """Matching levels (at most MAX_LEVELS_SHOWN), whether more were left out, or an error."""

    levels: list[api.InventoryLevel] = field(default_factory=list)
    truncated: bool = False
    error: str = ""


def _explain(error: grpc.aio.AioRpcError, target: str, what: str = "its status") -> str:
    code = error.code()
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return f"this core does not report {what} (an older version)"
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return f"the core at {target} does not answer ({code.name})"
    return f"the core at {target} answered {code.name}"


class CoreReader:
    """Reads from the core over its own channel (opened on first use, closed by `close`)."""

    def __init__(
        self, target: str, token: str, credentials: grpc.ChannelCredentials | None
    ) -> None:
        """Talks to `target` with `token` (the bridge's publisher token, which may read)."""
        self.target = target
        self._metadata = bearer_metadata(token)
        self._credentials = credentials
        self._channel: grpc.aio.Channel | None = None

    async def status(self) -> CoreView:
        """GetCoreStatus, or a one-line reason it failed."""
        stub = core_stub(self._open())
        try:
            status = await stub.GetCoreStatus(
                api.GetCoreStatusRequest(), metadata=self._metadata, timeout=CORE_TIMEOUT
            )
        except grpc.aio.AioRpcError as error:
            return CoreView(None, _explain(error, self.target))
        return CoreView(status)

    async def groups(self) -> GroupsView:
        """ListGroups as console rows, or a one-line reason it failed."""
        stub = core_stub(self._open())
        try:
            listed = await stub.ListGroups(
                api.ListGroupsRequest(), metadata=self._metadata, timeout=CORE_TIMEOUT
            )
        except grpc.aio.AioRpcError as error:
            return GroupsView(error=_explain(error, self.target, "consumer groups"))
        return GroupsView([group_row(group) for group in listed.groups])

    async def search_levels(self, shop: str, item: str) -> LevelSearch:
        """The stored levels of `shop` whose item id, SKU or product id contains `item`."""
        stub = core_stub(self._open())
        found: list[api.InventoryLevel] = []
        token, scanned = "", 0
        try:
            while scanned < MAX_LEVELS_SCANNED:
                request = api.ListInventoryLevelsRequest(
                    shop=shop, page_size=_PAGE, page_token=token
                )
                page = await stub.ListInventoryLevels(
                    request, metadata=self._metadata, timeout=CORE_TIMEOUT
                )
                scanned += len(page.levels)
                found.extend(level for level in page.levels if _matches(level, item))
                token = page.next_page_token
                if not token or len(found) > MAX_LEVELS_SHOWN:
                    break
        except grpc.aio.AioRpcError as error:
            return LevelSearch(error=_explain(error, self.target))
        truncated = len(found) > MAX_LEVELS_SHOWN or bool(token)
        return LevelSearch(found[:MAX_LEVELS_SHOWN], truncated)

    def _open(self) -> grpc.aio.Channel:
        if self._channel is None:
            self._channel = open_core_channel(self.target, self._credentials)
        return self._channel

    async def close(self) -> None:
        """Closes the channel (app shutdown)."""
        if self._channel is not None:
            await self._channel.close(grace=None)
            self._channel = None


def _matches(level: api.InventoryLevel, item: str) -> bool:
    if not item:
        return True
    return any(item in value for value in (level.inventory_item_id, level.sku, level.product_id))
