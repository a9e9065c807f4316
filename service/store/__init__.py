"""The core's storage: the EventStore protocol and its engines."""

from service.store.base import (
    CommitListener,
    CommittedRecord,
    EventStore,
    LevelPage,
    PublishOutcome,
    StoreError,
    StoreInfo,
    StoreRules,
)

__all__ = [
    "CommitListener",
    "CommittedRecord",
    "EventStore",
    "LevelPage",
    "PublishOutcome",
    "StoreError",
    "StoreInfo",
    "StoreRules",
]
