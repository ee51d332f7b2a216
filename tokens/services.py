"""Creating, revoking and checking API tokens. Creation and revocation are audited; a
check records when the token was last used (at most once a minute, so a busy client does
not write on every call)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record, enforce
from core.errors import Conflict, Invalid
from core.policy import role_refusal
from core.roles import Role
from tokens.models import ApiToken

TOKEN_MARK = "opt"
PREFIX_LENGTH = 12
MAX_NAME = 100
MAX_EXPIRY_DAYS = 366
LAST_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its secret, which exists only here: the database keeps its digest."""

    token: ApiToken
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(
    *,
    actor: Any,
    name: str,
    expires_days: int,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """A new token for `actor` (any role: it can never do more than its owner), valid for
    `expires_days` days. The secret is `opt_<prefix>_<random>`, 256 bits of randomness."""
    now = now or timezone.now()
    enforce(
        role_refusal(actor, Role.VIEWER, "Creating an API token"),
        actor=actor,
        action="token.create",
        target="api-token",
        request=request,
    )
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the token a name that says where it is used."]
    elif len(name) > MAX_NAME or not name.isprintable():
        errors["name"] = [f"Use at most {MAX_NAME} printable characters."]
    if not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        errors["expires_days"] = [f"A token lasts 1 to {MAX_EXPIRY_DAYS} days."]
    if errors:
        raise Invalid(errors=errors)
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    secret = f"{TOKEN_MARK}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor,
            name=name,
            prefix=prefix,
            digest=_digest(secret),
            created_at=now,
            expires_at=now + timedelta(days=expires_days),
        )
        audit_record(
            actor=actor,
            action="token.create",
            target=f"api-token:{token.pk}",
            after={"name": name, "prefix": prefix, "expires_at": token.expires_at},
            request=request,
        )
    return IssuedToken(token=token, secret=secret)


def token_revoke(
    *, actor: Any, token_id: int, request: HttpRequest | None = None, now: datetime | None = None
) -> ApiToken:
    """Revoke one of the actor's own tokens; it stops working at once."""
    now = now or timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=actor).first()
        if token is None:
            raise Invalid("No such token of yours.")
        if token.revoked_at is not None:
            raise Conflict(f"Token {token.name} was already revoked.")
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="token.revoke",
            target=f"api-token:{token.pk}",
            before={"name": token.name, "prefix": token.prefix},
            after={"revoked_at": now},
            request=request,
        )
    return token


def token_authenticate(*, secret: str, now: datetime | None = None) -> Any | None:
    """The active user a presented token belongs to, or None (unknown, malformed, expired,
    revoked, or the user deactivated). The role is not checked here: a user whose role was
    taken away still authenticates and is refused (403) by every route."""
    now = now or timezone.now()
    mark, _, rest = secret.partition("_")
    prefix, _, _random = rest.partition("_")
    if mark != TOKEN_MARK or len(prefix) != PREFIX_LENGTH or not secret.isascii():
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(secret)):
        return None
    if not token.is_live(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.user.api_token_id = token.pk  # type: ignore[attr-defined]
    return token.user
