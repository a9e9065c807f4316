"""Domain values of the core's state: frozen dataclasses shared by the rules and the stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

AlertKind = Literal["OUT_OF_STOCK", "BACK_IN_STOCK", "LOW_STOCK"]
BindingKind = Literal["cart_token", "checkout_id", "order_id"]
SessionStateName = Literal["active", "completed"]
RetractionName = Literal["cancelled", "refunded"]


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What an inventory item is: its product, variant and SKU in one shop."""

    shop: str
    inventory_item_id: str
    product_id: str
    variant_id: str
    sku: str


@dataclass(frozen=True, slots=True)
class InventoryUpdate:
    """An inventory event's content: the new available quantity of one item at one location."""

    shop: str
    inventory_item_id: str
    location_id: str
    available: Decimal
    update_time: datetime | None = None
    product_id: str = ""
    variant_id: str = ""
    sku: str = ""
    receive_time: datetime | None = None
    future_dated: bool = False


@dataclass(frozen=True, slots=True)
class InventoryLevel:
    """The stored available quantity of one item at one location."""

    shop: str
    inventory_item_id: str
    location_id: str
    available: Decimal
    update_time: datetime | None
    product_id: str
    variant_id: str
    sku: str
    sequence: int
    disconnected: bool = False
    """True when the item is disconnected from (no longer stocked at) the location: updates
    change nothing and derive no alert until it is connected again."""


@dataclass(frozen=True, slots=True)
class InventoryChange:
    """The outcome of an applied inventory update: the new level and at most one alert."""

    level: InventoryLevel
    previous: Decimal | None
    alert: AlertKind | None


@dataclass(frozen=True, slots=True)
class Binding:
    """A key that names a session: a cart token, checkout id or order id."""

    kind: BindingKind
    value: str


@dataclass(frozen=True, slots=True)
class Session:
    """A conversational session of a gateway."""

    session_id: str
    shop: str
    state: SessionStateName = "active"
    bindings: tuple[Binding, ...] = ()
    order_id: str = ""
    complete_time: datetime | None = None
    completion_sequence: int = 0


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What an order or checkout event says about an order, for the session rules."""

    shop: str
    order_id: str
    completed: bool
    version: int = 0
    session_id: str = ""
    keys: tuple[Binding, ...] = ()
    closed: RetractionName | None = None
    """Set when the event says the order was cancelled or fully refunded."""


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """What the core remembers of an order: newest version, completion, its session."""

    shop: str
    order_id: str
    version: int
    completed: bool
    session_id: str
    closed: bool = False
    """True once the order was cancelled or fully refunded: it never completes again."""


@dataclass(frozen=True, slots=True)
class OrderChange:
    """The outcome of an applied order event: `completion_session_id` is the session of the
    completion (or retraction, when `retraction` is set) it derives, None for none."""

    order: OrderRecord
    session: Session | None
    completion_session_id: str | None
    retraction: RetractionName | None = None
