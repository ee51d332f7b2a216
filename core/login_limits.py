"""How many failed sign-ins the portal allows, and which limits refuse a sign-in now.

Failures count while they are younger than the cool-off (AXES_COOLOFF_TIME), three ways:

- an account from one address (OPSPORTAL_LOGIN_FAILURE_LIMIT, 5): the quick lock that stops
  guessing from one place, while the same person still signs in from anywhere else;
- one address, whatever usernames it tries (OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT, 30):
  stops a password spray from one address;
- an account, all addresses together (OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT, 100): stops a
  brute force spread over many addresses, yet is out of reach of an attacker on a few
  addresses (each of them is stopped by its own limits first), so nobody can lock every
  Approver out during an incident by typing wrong passwords at the portal.

django-axes records the failures (one AccessAttempt row per username, address and browser,
kept while its latest failure is within the cool-off) and refuses a sign-in when the count
over AXES_LOCKOUT_PARAMETERS reaches AXES_FAILURE_LIMIT. It has one limit for every
parameter, so the portal gives it the (account, address) pair as the parameter and
`pair_failure_limit` as the limit. Attempts refused while locked are not counted
(AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off), so a lock ends one cool-off after the
failures that caused it, whatever the attacker keeps sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.helpers import get_client_ip_address, get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone


class LockScope(StrEnum):
    """Whose failures a limit counts (the values appear in audit entries)."""

    ACCOUNT = "account"
    ADDRESS = "address"
    ACCOUNT_FROM_ADDRESS = "account_from_address"


@dataclass(frozen=True)
class LoginLock:
    """A limit that refuses sign-ins now: whose failures reached it, and until when."""

    scope: LockScope
    username: str  # "" when the scope is the address alone
    ip_address: str  # "" when the scope is the account alone
    failures: int
    limit: int
    until: datetime

    @property
    def key(self) -> str:
        """The same for every sign-in this lock refuses, and for a later lock of the same
        account and/or address (an address never contains "@")."""
        return f"{self.scope}:{self.username}@{self.ip_address}"


def _limits() -> dict[LockScope, int]:
    """Broadest first: when several limits refuse a sign-in, the first one is named."""
    return {
        LockScope.ACCOUNT: settings.OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT,
        LockScope.ADDRESS: settings.OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT,
        LockScope.ACCOUNT_FROM_ADDRESS: settings.OPSPORTAL_LOGIN_FAILURE_LIMIT,
    }


def _attempts(
    scope: LockScope, *, username: str, ip_address: str, since: datetime
) -> QuerySet[Any] | None:
    """The recorded failures a scope counts, or None when the sign-in has no such subject
    (no username, or no address)."""
    needs_username = scope in (LockScope.ACCOUNT, LockScope.ACCOUNT_FROM_ADDRESS)
    needs_address = scope in (LockScope.ADDRESS, LockScope.ACCOUNT_FROM_ADDRESS)
    if (needs_username and not username) or (needs_address and not ip_address):
        return None
    attempts = AccessAttempt.objects.filter(attempt_time__gte=since)
    if needs_username:
        attempts = attempts.filter(username=username)
    if needs_address:
        attempts = attempts.filter(ip_address=ip_address)
    return attempts


def _failures(attempts: QuerySet[Any]) -> int:
    return int(attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0)


def _locked_until(attempts: QuerySet[Any], *, limit: int, cool_off: timedelta) -> datetime:
    """The lock holds while the failures younger than the cool-off still add up to the
    limit: until the row that reaches it, counting from the newest, is a cool-off old.
    Each row holds at least one failure, so that row is among the newest `limit`."""
    total = 0
    newest = attempts.order_by("-attempt_time").values_list("failures_since_start", "attempt_time")
    for failures, at in newest[:limit]:
        total += failures
        if total >= limit:
            return at + cool_off
    return timezone.now() + cool_off  # the rows changed under us: assume a full cool-off


def login_locks(*, username: str | None, ip_address: str | None, now: datetime) -> list[LoginLock]:
    """Every limit that refuses this account from this address at `now`, broadest first;
    empty when it may sign in."""
    cool_off: timedelta = settings.AXES_COOLOFF_TIME
    locks = []
    for scope, limit in _limits().items():
        attempts = _attempts(
            scope, username=username or "", ip_address=ip_address or "", since=now - cool_off
        )
        if attempts is None:
            continue
        failures = _failures(attempts)
        if failures >= limit:
            locks.append(
                LoginLock(
                    scope=scope,
                    username="" if scope == LockScope.ADDRESS else username or "",
                    ip_address="" if scope == LockScope.ACCOUNT else ip_address or "",
                    failures=failures,
                    limit=limit,
                    until=_locked_until(attempts, limit=limit, cool_off=cool_off),
                )
            )
    return locks


def request_login_locks(*, request: HttpRequest, username: str | None) -> list[LoginLock]:
    """`login_locks` for a sign-in request, at the address and time axes stamped on it."""
    return login_locks(
        username=username,
        ip_address=getattr(request, "axes_ip_address", None) or get_client_ip_address(request),
        now=getattr(request, "axes_attempt_time", None) or timezone.now(),
    )


def pair_failure_limit(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """AXES_FAILURE_LIMIT: how many failures this account may have from this address.

    axes compares the pair's failures with this number (AXES_LOCKOUT_PARAMETERS is the
    pair). It is the pair's own limit while the address and the account are each under
    theirs, and 0, so that the pair is refused at once, when either has reached its limit.
    """
    username = get_client_username(request, credentials) or ""
    ip_address = getattr(request, "axes_ip_address", None) or ""
    since = get_cool_off_threshold(request)
    for scope in (LockScope.ADDRESS, LockScope.ACCOUNT):
        attempts = _attempts(scope, username=username, ip_address=ip_address, since=since)
        if attempts is not None and _failures(attempts) >= _limits()[scope]:
            return 0
    return int(settings.OPSPORTAL_LOGIN_FAILURE_LIMIT)
