"""Standard Webhooks asymmetric keys: `whpk_` public and `whsk_` private ed25519 keys (`v1a`).

The specification (standard-webhooks/standard-webhooks, spec/standard-webhooks.md, "Signature
scheme") serializes a standard ed25519 key pair as base64 prefixed with `whpk_` (public key)
or `whsk_` (secret key), and identifies its signatures as `v1a`: base64 of the 64-byte ed25519
signature of `{msg_id}.{timestamp}.{body}`. A public key is the 32 raw bytes (RFC 8032); a
secret key is the 32-byte RFC 8032 seed, or the 64-byte seed||public form of libsodium.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PUBLIC_KEY_PREFIX = "whpk_"
PRIVATE_KEY_PREFIX = "whsk_"
SIGNATURE_BYTES = 64
"""The length of a decoded `v1a` signature (ed25519)."""
MAX_SIGNATURES = 8
"""The most `v1a` entries one webhook-signature header may carry (each costs an ed25519
verification per public key, on the event loop); more is `malformed_signature`."""


def is_asymmetric(secret: str) -> bool:
    """Whether a configured secret is an ed25519 key (`whpk_`/`whsk_`) rather than a secret."""
    return secret.startswith((PUBLIC_KEY_PREFIX, PRIVATE_KEY_PREFIX))


def _decode(text: str) -> bytes | None:
    """Strict base64, padding optional; None when `text` is not base64."""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def private_key(secret: str) -> Ed25519PrivateKey:
    """The ed25519 private key of a `whsk_` secret.

    Raises:
        ValueError: the secret is not `whsk_` + base64 of a 32-byte seed or of a 64-byte
            seed||public key whose public half matches the seed (the message names no key bytes).
    """
    raw = _decode(secret.removeprefix(PRIVATE_KEY_PREFIX))
    if not secret.startswith(PRIVATE_KEY_PREFIX) or raw is None or len(raw) not in (32, 64):
        raise ValueError("a whsk_ key must be whsk_ + base64 of a 32- or 64-byte ed25519 key")
    key = Ed25519PrivateKey.from_private_bytes(raw[:32])
    if len(raw) == 64 and _raw_public(key.public_key()) != raw[32:]:
        raise ValueError("a 64-byte whsk_ key must end with the public key of its first 32 bytes")
    return key


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key(secret: str) -> Ed25519PublicKey:
    """The ed25519 public key of a `whpk_` key (or of a `whsk_` key's pair).

    Raises:
        ValueError: `whpk_` is not followed by base64 of exactly 32 bytes, or a malformed whsk_.
    """
    if secret.startswith(PRIVATE_KEY_PREFIX):
        return private_key(secret).public_key()
    raw = _decode(secret.removeprefix(PUBLIC_KEY_PREFIX))
    if not secret.startswith(PUBLIC_KEY_PREFIX) or raw is None or len(raw) != 32:
        raise ValueError("a whpk_ key must be whpk_ + base64 of a 32-byte ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


def check_secrets(secrets: list[str] | tuple[str, ...]) -> None:
    """Checks every `whpk_`/`whsk_` entry of a secret list; others are left alone.

    Raises:
        ValueError: naming the 1-based position of the first malformed key (never its value).
    """
    for position, secret in enumerate(secrets, start=1):
        if is_asymmetric(secret):
            try:
                public_key(secret)
            except ValueError as error:
                raise ValueError(f"entry {position}: {error}") from None


def refuse_keys(secrets: list[str] | tuple[str, ...]) -> None:
    """Refuses `whpk_`/`whsk_` entries in a secret list that is not Better Data's own.

    Another platform (or the fallback WEBHOOK_SECRET, which every platform uses) would take the
    key as an HMAC secret, and a public key is not secret: anyone could sign with it.

    Raises:
        ValueError: naming the 1-based position of the first such entry (never its value).
    """
    for position, secret in enumerate(secrets, start=1):
        if is_asymmetric(secret):
            raise ValueError(
                f"entry {position}: a whpk_/whsk_ key is valid only in BETTERDATA_WEBHOOK_SECRET "
                "or a shop's betterdata list (elsewhere it would be an HMAC secret, and a public "
                "key is not secret)"
            )


def any_signature_verifies(
    keys: list[Ed25519PublicKey], message: bytes, signatures: list[bytes]
) -> bool:
    """True when one of `signatures` is a valid ed25519 signature of `message` by one of `keys`.

    Public keys and signatures are not secret, so the first valid pair ends the search.
    """
    for key in keys:
        for signature in signatures:
            try:
                key.verify(signature, message)
            except InvalidSignature:
                continue
            return True
    return False


def sign_base64(secret: str, message: bytes) -> str:
    """The base64 ed25519 signature of `message` by the `whsk_` key `secret` (a `v1a` value)."""
    return base64.b64encode(private_key(secret).sign(message)).decode("ascii")
