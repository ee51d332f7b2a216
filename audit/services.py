"""Writes to the audit log. Every other app records its state changes through
`audit_record` (and refusals through `enforce`, with an `Outcome`); nothing else
inserts audit rows."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditEntry, Outcome
from audit.signing import hmac_key, row_hash
from core.client_address import client_address
from core.errors import Refused
from core.redaction import REDACTED, is_secret_name

__all__ = ["Outcome", "audit_denied", "audit_record", "audit_refusal", "enforce"]

# Any constant will do, as long as nothing else in the database uses it: it names the
# PostgreSQL advisory lock that serializes appends to the chain.
CHAIN_LOCK_KEY = 0x415544495443  # "AUDITC"
SYSTEM_ACTOR = "system"
ANONYMOUS_ACTOR = "anonymous"
_MAX_LENGTHS = {
    "username": 150,
    "action": 100,
    "target": 512,
    "request_id": 64,
    "user_agent": 512,
}


def _text(value: str, field: str | None = None) -> str:
    """PostgreSQL refuses NUL in text, and over-long values must not make the write fail."""
    value = str(value).replace("\x00", "")
    return value[: _MAX_LENGTHS[field]] if field in _MAX_LENGTHS else value


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if is_secret_name(key) else _redact(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item) for item in value]
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, float) and abs(value) >= 1e16:
        # PostgreSQL's jsonb prints such floats as integers; storing the integer keeps the
        # hash identical after the round trip.
        return int(value)
    return value


def _json(value: dict[str, Any] | None) -> Any:
    """The exact JSON that reads back from the database, so the stored hash verifies."""
    if value is None:
        return None
    plain = json.loads(json.dumps(value, cls=DjangoJSONEncoder, allow_nan=False))
    return _redact(plain)


def _actor(actor: Any) -> tuple[int | None, str]:
    if actor is None:
        return None, SYSTEM_ACTOR
    if not getattr(actor, "is_authenticated", False):
        return None, ANONYMOUS_ACTOR
    return actor.pk, actor.get_username()


def _source_ip(request: HttpRequest | None) -> str | None:
    return client_address(request) if request is not None else None


def _lock_chain() -> None:
    """Serialize appenders until the caller's transaction ends, so each new row links to
    the row committed just before it. SQLite needs nothing: transaction_mode=IMMEDIATE
    already holds the database write lock from BEGIN."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    elif connection.vendor != "sqlite":
        list(AuditEntry.objects.select_for_update().order_by("-id")[:1])


def audit_record(
    *,
    actor: Any,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    outcome: str = Outcome.OK,
    error: str = "",
    request: HttpRequest | None = None,
) -> AuditEntry:
    """Append one entry to the chain inside the caller's transaction.

    `actor` is a User, an AnonymousUser, or None for the system (Celery, commands). Keys
    that look like secrets in `before`/`after` are stored as "[redacted]".
    """
    if outcome not in Outcome.values:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    actor_id, username = _actor(actor)
    entry = AuditEntry(
        actor_id=actor_id,
        username=_text(username, "username"),
        action=_text(action, "action"),
        target=_text(target, "target"),
        before=_json(before),
        after=_json(after),
        outcome=outcome,
        error=_text(error),
        request_id=_text(getattr(request, "request_id", ""), "request_id"),
        source_ip=_source_ip(request),
        user_agent=_text(
            request.META.get("HTTP_USER_AGENT", "") if request is not None else "",
            "user_agent",
        ),
    )
    with transaction.atomic():
        _lock_chain()
        head = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        entry.prev_hash = head or GENESIS_HASH
        entry.time = timezone.now()
        entry.hash = row_hash(entry.canonical_text(), key=hmac_key())
        entry.save(force_insert=True)
    return entry


def audit_denied(*, request: HttpRequest, reason: str) -> AuditEntry:
    """Record a refused request: who tried which page, and why it was refused."""
    return audit_record(
        actor=getattr(request, "user", None),
        action="access.denied",
        target=request.path,
        after={"method": request.method},
        outcome=Outcome.DENIED,
        error=reason,
        request=request,
    )


def enforce(
    refusal: str | None,
    *,
    actor: Any,
    action: str,
    target: str,
    request: HttpRequest | None = None,
) -> None:
    """Raise `Refused` (audited) when the policy gave a reason to refuse, else nothing.

    Call it before opening the write's transaction: the refusal's entry then commits on
    its own. `refusal` is what the app's `policy.refusal_for(...)` returned."""
    if refusal:
        raise audit_refusal(actor=actor, action=action, target=target, why=refusal, request=request)


def audit_refusal(
    *,
    actor: Any,
    action: str,
    target: str,
    why: str,
    request: HttpRequest | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Refused:
    """Record a refused attempt and return the `Refused` for the caller to raise.

    The entry is written in the caller's transaction: raise the returned error only after
    that transaction has committed (or outside any), so the record of the refusal survives.
    """
    audit_record(
        actor=actor,
        action=action,
        target=target,
        before=before,
        after=after,
        outcome=Outcome.DENIED,
        error=why,
        request=request,
    )
    return Refused(why)
