"""Chooses the EventStore engine from the settings' store URL."""

from __future__ import annotations

import importlib

from service.settings import CoreSettings, SettingsError
from service.store.base import EventStore, StoreRules
from service.store.sqlite import SqliteEventStore

SQLITE_FILE = "events.sqlite3"


def create_store(settings: CoreSettings) -> EventStore:
    """The engine the settings name: empty = SQLite file in the data dir, sqlite:///PATH,
    or postgres://... (when the PostgreSQL engine is installed)."""
    rules = StoreRules(settings.low_stock_threshold, settings.session_attribute)
    url = settings.store
    if not url:
        return SqliteEventStore(settings.data_dir / SQLITE_FILE, rules)
    if url.startswith("sqlite:///"):
        from pathlib import Path

        return SqliteEventStore(Path(url.removeprefix("sqlite:///")), rules)
    if url.startswith(("postgres://", "postgresql://")):
        try:  # imported here so that SQLite users never load asyncpg
            module = importlib.import_module("service.store.postgres")
        except ImportError:
            raise SettingsError(
                "COMMERCE_GATEWAY_STORE: the PostgreSQL engine needs asyncpg installed"
            ) from None
        store: EventStore = module.PostgresEventStore(url, rules)
        return store
    raise SettingsError("COMMERCE_GATEWAY_STORE: expected empty, sqlite:///PATH or postgres://...")
