"""Python client of the commerce-gateway core: typed calls, resumable subscriptions, consumer
groups, callbacks."""

import logging

from commercegateway.callbacks import CATALOG_KINDS, run_callbacks
from commercegateway.client import CoreClient
from commercegateway.config import BackoffPolicy, TlsConfig
from commercegateway.consumer import Delivery, GroupConsumer
from commercegateway.cursor import CursorFile, CursorFileError
from commercegateway.errors import CoreError, CursorExpiredError, Reason
from commercegateway.subscriptions import ReconnectedInfo, ReconnectInfo, Subscription

# A library logs, the application decides where: no output unless the caller configures logging.
logging.getLogger("commercegateway").addHandler(logging.NullHandler())

__all__ = [
    "CATALOG_KINDS",
    "BackoffPolicy",
    "CoreClient",
    "CoreError",
    "CursorExpiredError",
    "CursorFile",
    "CursorFileError",
    "Delivery",
    "GroupConsumer",
    "Reason",
    "ReconnectInfo",
    "ReconnectedInfo",
    "Subscription",
    "TlsConfig",
    "run_callbacks",
]
