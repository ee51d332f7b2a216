"""The chain check behind `manage.py verify_audit`.

It walks the log in id order and stops at the first entry that does not hold: a broken
link, a hash that is neither the keyed hash nor (before the first keyed entry) the legacy
SHA-256, a plain SHA-256 hash after keyed entries began (the re-hash of someone without
the key), an entry that differs from what a signed digest says, or a log that ends before
the newest digest's head (entries removed from the end).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from audit.digests import Digest
from audit.models import GENESIS_HASH, AuditEntry
from audit.signing import row_hash


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int | None
    message: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    keyed: int
    legacy: int
    last_id: int | None
    first_break: ChainBreak | None


def _entries_in_order(*, batch_size: int) -> Iterator[AuditEntry]:
    """Keyset batches rather than one long cursor: constant memory, and no server-side
    cursor to lose behind a transaction-pooling proxy."""
    last_id = 0
    while True:
        batch = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id


def _hash_kind(entry: AuditEntry, *, key: bytes | None) -> str | None:
    """ "keyed" or "plain" for the hash the entry carries, None when it is neither."""
    text = entry.canonical_text()
    if key is not None and row_hash(text, key=key) == entry.hash:
        return "keyed"
    if row_hash(text, key=None) == entry.hash:
        return "plain"
    return None


def _hash_problem(entry: AuditEntry, kind: str | None, *, keyed_from: int | None) -> str | None:
    if kind == "keyed" or (kind == "plain" and keyed_from is None):
        return None
    if kind == "plain":
        return (
            f"Audit entry #{entry.id} ({entry.action} {entry.target}): hashed without the HMAC "
            f"key although keyed entries began at #{keyed_from}: it was re-hashed by someone "
            "who does not have the key"
        )
    return (
        f"Audit entry #{entry.id} ({entry.action} {entry.target}): hash mismatch "
        f"(stored {entry.hash[:12]}…)"
    )


def _digest_problem(entry: AuditEntry, digest: Digest, *, position: int) -> str | None:
    if digest.head_hash != entry.hash:
        return (
            f"Audit entry #{entry.id} is not the entry the digest {digest.name} signed at "
            f"{digest.signed_at}: the log was rewritten up to here"
        )
    if digest.entries != position:
        return (
            f"The digest {digest.name} counted {digest.entries} entries up to #{entry.id}; "
            f"the log now has {position}"
        )
    return None


def audit_chain_verify(
    *, key: bytes | None, digests: Sequence[Digest] = (), batch_size: int = 1000
) -> ChainReport:
    """Walk the chain from the first entry; stop at the first thing that does not hold."""
    by_head: dict[int, list[Digest]] = defaultdict(list)
    for digest in digests:
        by_head[digest.head_id].append(digest)
    expected_prev = GENESIS_HASH
    previous_id: int | None = None
    keyed_from: int | None = None
    checked = legacy = 0

    def report(problem: ChainBreak | None) -> ChainReport:
        return ChainReport(
            checked=checked,
            keyed=checked - legacy,
            legacy=legacy,
            last_id=previous_id,
            first_break=problem,
        )

    for entry in _entries_in_order(batch_size=batch_size):
        if entry.prev_hash != expected_prev:
            if previous_id is None:
                message = f"Audit entry #{entry.id}: prev_hash is not the genesis hash"
            else:
                message = f"Audit entry #{entry.id}: prev_hash does not match #{previous_id}"
            return report(ChainBreak(entry.id, message))
        kind = _hash_kind(entry, key=key)
        problem = _hash_problem(entry, kind, keyed_from=keyed_from)
        if problem is None:
            for digest in by_head.pop(entry.id, ()):
                problem = _digest_problem(entry, digest, position=checked + 1)
                if problem:
                    break
        if problem:
            return report(ChainBreak(entry.id, problem))
        if kind == "keyed":
            keyed_from = keyed_from or entry.id
        else:
            legacy += 1
        checked += 1
        expected_prev = entry.hash
        previous_id = entry.id
    if by_head:
        digest = by_head[max(by_head)][0]
        end = f"#{previous_id}" if previous_id is not None else "nothing"
        return report(
            ChainBreak(
                None,
                f"The log ends at {end}, but the digest {digest.name} signed at "
                f"{digest.signed_at} covers entries up to #{digest.head_id}: entries were "
                "removed from the end",
            )
        )
    return report(None)
