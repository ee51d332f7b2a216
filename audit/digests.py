"""Signed digests of the audit chain's head, kept outside the database.

Like CloudTrail's digest files: every OPSPORTAL_AUDIT_DIGEST_SECONDS (when the log has
grown) the head entry's id and hash and the number of entries up to it are signed with
the Ed25519 key and written to the digest store. Each digest names the one before it and
that file's SHA-256, so digests form a chain of their own: one removed from the middle or
altered is found, and entries removed from the end of the log since a digest no longer
reach the head it signed. Writing a digest is not itself audited: the entry would move
the head and the next run would have to sign again, for ever.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.digest_store import MAX_DIGEST_BYTES, DigestStore, configured_store
from audit.models import AuditDigest, AuditEntry, canonical_time
from audit.signing import fingerprint, hmac_key, sign, signature_valid, signing_key

VERSION = 1


@dataclass(frozen=True)
class Digest:
    name: str
    signed_at: str
    head_id: int
    head_hash: str
    entries: int
    keyed: bool


@dataclass(frozen=True)
class DigestChain:
    """The digests of a store that verify, oldest first, and the first that does not."""

    location: str
    digests: tuple[Digest, ...]
    problem: str | None


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def digest_name(*, signed_at: datetime, head_id: int) -> str:
    """Names sort in signing order: the time, then the head for two in one second."""
    return f"audit-digest-{signed_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{head_id:012d}.json"


def audit_digest_write(*, now: datetime) -> AuditDigest | None:
    """Sign the current head and write its digest; nothing when digests are not
    configured, the log is empty, or nothing was appended since the last digest."""
    store = configured_store()
    key = signing_key()
    if store is None or key is None:
        return None
    head = AuditEntry.objects.order_by("-id").values("id", "hash").first()
    if head is None:
        return None
    last = AuditDigest.objects.order_by("-id").first()
    if last is not None and last.head_id == head["id"]:
        return None
    body = {
        "version": VERSION,
        "signed_at": canonical_time(now),
        "head_id": head["id"],
        "head_hash": head["hash"],
        "entries": AuditEntry.objects.filter(id__lte=head["id"]).count(),
        "keyed": hmac_key() is not None,
        "previous": None if last is None else {"name": last.name, "sha256": last.sha256},
        "key": fingerprint(key.public_key()),
    }
    document = json.dumps(
        {"digest": body, "signature": sign(_canonical(body), key=key)}, indent=2, sort_keys=True
    ).encode("utf-8")
    name = digest_name(signed_at=now, head_id=head["id"])
    store.put(name, document)
    return AuditDigest.objects.create(
        name=name,
        signed_at=now,
        head_id=head["id"],
        head_hash=head["hash"],
        sha256=hashlib.sha256(document).hexdigest(),
    )


def _parsed(name: str, document: bytes, *, key: Ed25519PublicKey) -> tuple[Digest, Any] | str:
    """The digest and its `previous` link, or why the file is not a valid digest."""
    if len(document) > MAX_DIGEST_BYTES:
        return f"Digest {name} is larger than any digest the portal writes"
    try:
        outer = json.loads(document)
        body = outer["digest"]
        signature = outer["signature"]
        digest = Digest(
            name=name,
            signed_at=str(body["signed_at"]),
            head_id=int(body["head_id"]),
            head_hash=str(body["head_hash"]),
            entries=int(body["entries"]),
            keyed=bool(body["keyed"]),
        )
    except (ValueError, KeyError, TypeError):
        return f"Digest {name} is not a digest file"
    if not isinstance(signature, str) or not signature_valid(_canonical(body), signature, key=key):
        return (
            f"Digest {name}: the signature does not verify (the file was altered, or signed "
            "with another key)"
        )
    return digest, body.get("previous")


def digests_read(*, store: DigestStore, key: Ed25519PublicKey) -> DigestChain:
    """Every digest in the store, checked: signed by `key`, each linking to the file
    before it as it is now, heads never going back."""
    found: list[Digest] = []
    previous_name: str | None = None
    previous_sha256: str | None = None
    for name in store.names():
        document = store.get(name)
        parsed = _parsed(name, document, key=key)
        if isinstance(parsed, str):
            return DigestChain(store.location, tuple(found), parsed)
        digest, link = parsed
        problem = None
        if previous_name is None and link is not None:
            problem = (
                f"Digest {name} follows {link.get('name')!r}, which is missing from "
                f"{store.location}: digests were removed"
            )
        elif previous_name is not None and (
            not isinstance(link, dict) or link.get("name") != previous_name
        ):
            expected = link.get("name") if isinstance(link, dict) else None
            problem = (
                f"Digest {name} follows {expected!r}, not {previous_name}: digests were "
                "removed or replaced"
            )
        elif previous_name is not None and link.get("sha256") != previous_sha256:
            problem = f"Digest {previous_name} was changed after {name} was signed"
        elif found and digest.head_id < found[-1].head_id:
            problem = f"Digest {name} covers less of the log than {found[-1].name}"
        if problem:
            return DigestChain(store.location, tuple(found), problem)
        found.append(digest)
        previous_name = name
        previous_sha256 = hashlib.sha256(document).hexdigest()
    return DigestChain(store.location, tuple(found), None)
