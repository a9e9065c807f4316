"""The HTTP bridge: verifies platform webhooks and turns them into canonical events."""

from bridge.handler import create_webhook_handler
from bridge.verify import PlatformName, RejectReason, WebhookRejected, verify_webhook

__all__ = [
    "PlatformName",
    "RejectReason",
    "WebhookRejected",
    "create_webhook_handler",
    "verify_webhook",
]
