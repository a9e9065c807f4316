"""The HTTP bridge: verifies platform webhooks and turns them into canonical events."""

from bridge.verify import PlatformName, RejectReason, WebhookRejected, verify_webhook

__all__ = ["PlatformName", "RejectReason", "WebhookRejected", "verify_webhook"]
