"""The audit log's two keys, neither of which the database ever holds.

Someone who can write the audit table can drop its triggers, edit a row and recompute
every later hash; a plain SHA-256 chain then verifies as intact. So:

- every row's hash is an HMAC-SHA256 under OPSPORTAL_AUDIT_HMAC_KEY (from the
  environment): without the key an edited row cannot be given a hash that verifies;
- digests of the chain head are signed with the Ed25519 key in
  OPSPORTAL_AUDIT_SIGNING_KEY_FILE and kept outside the database (`audit.digests`): rows
  removed from the end, or a chain rebuilt wholesale, no longer match what was signed.

Rows written before a key was configured carry plain SHA-256 hashes; they still verify,
but only up to the first keyed row (`audit.verification`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings


def hmac_key() -> bytes | None:
    """The configured row key, or None where none is (legacy SHA-256 rows)."""
    key: str = settings.OPSPORTAL_AUDIT_HMAC_KEY
    return key.encode("utf-8") if key else None


def row_hash(text: str, *, key: bytes | None) -> str:
    """The hex hash of a row's canonical text: keyed when there is a key."""
    data = text.encode("utf-8")
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


@cache
def _private_key(path: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def signing_key() -> Ed25519PrivateKey | None:
    """The key digests are signed with (checked at start-up by the settings)."""
    path: str = settings.OPSPORTAL_AUDIT_SIGNING_KEY_FILE
    return _private_key(path) if path else None


def public_key_read(path: Path) -> Ed25519PublicKey:
    """The key digests are checked with, from a public or a private PEM file: an auditor
    needs only the public half. ValueError says what is wrong with the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    try:
        key: object = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError):
            raise ValueError(f"{path} is not a PEM key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return key


def sign(data: bytes, *, key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.sign(data)).decode("ascii")


def signature_valid(data: bytes, signature: str, *, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def fingerprint(key: Ed25519PublicKey) -> str:
    """Which key signed a digest, so a rotated key is named rather than guessed."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]
