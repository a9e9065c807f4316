"""`commerce-gateway send`: sign a sample or given payload as a platform does and post it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import httpx

from bridge.platforms import REGISTRY
from bridge.platforms.common import PlatformName
from bridge.samples import sample_body
from bridge.settings import SettingsError, load_bridge_settings
from bridge.signing import signed_headers

DEFAULT_URL = "http://127.0.0.1:8080"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares the `send` flags."""
    parser.add_argument("platform", choices=sorted(REGISTRY), help="The platform to sign as.")
    parser.add_argument(
        "--topic",
        metavar="T",
        help="Topic or event type (default: the platform's first handled topic); "
        "without --file a built-in sample of this topic is sent.",
    )
    parser.add_argument("--file", metavar="F", help="Send this file's bytes instead of a sample.")
    parser.add_argument(
        "--url",
        metavar="BASE_URL",
        default=DEFAULT_URL,
        help=f"Bridge base URL (default {DEFAULT_URL}).",
    )
    parser.add_argument(
        "--shop",
        metavar="S",
        help="Shop: as the platform names it, in a header or in the built-in sample's body.",
    )


def _body(platform: PlatformName, topic: str, file: str | None, shop: str) -> bytes:
    if file is not None:
        return Path(file).read_bytes()
    return sample_body(platform, topic, shop=shop)


def main(args: argparse.Namespace) -> int:
    """Signs and posts; prints the status and body; 0 on 2xx, 1 otherwise, 2 on bad input."""
    platform: PlatformName = args.platform
    found = REGISTRY[platform]
    topic: str = args.topic or found.handled_topics[0]
    base = args.url.rstrip("/")
    url = base + found.path
    shop: str = args.shop or found.sample_shop
    try:
        settings = load_bridge_settings()
        secret = settings.first_secret(platform)
        if secret is None:
            raise SettingsError(
                f"no secret for {platform}: set {found.secret_variable} or WEBHOOK_SECRET"
            )
        body = _body(platform, topic, args.file, shop)
        headers = signed_headers(
            platform,
            body,
            secret,
            topic=topic,
            shop=shop,
            notification_url=settings.square_notification_url or url,
        )  # ValueError: e.g. a whpk_ public key configured first cannot sign
    except (SettingsError, ValueError, OSError) as error:
        print(f"commerce-gateway send: {error}", file=sys.stderr)
        return 2
    headers["Content-Type"] = "application/json"
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=10.0)
    except httpx.HTTPError as error:
        print(f"commerce-gateway send: cannot post to {url}: {error}", file=sys.stderr)
        return 1
    print(response.status_code)
    print(response.text)
    return 0 if response.is_success else 1
