"""Failed and refused sign-ins in the audit log: counted, not written one entry each.

Anyone can send sign-in attempts and audit entries can never be removed, so the log must not
grow by an entry per attempt (or two: a failure and a refusal). It gets:

- `auth.login_failed`: the first failure of an account from an address within the cool-off.
  The next ones are counted by django-axes, and their number is in the lock's entry;
- `auth.locked_out`: once per lock, when a failure reaches one of the limits of
  core.login_limits, with the number of failures and until when sign-ins are refused;
- `auth.login_refused`: the attempts a lock refused, counted in `LoginLockTally`. An entry
  cannot be corrected later, so the total is written once it is final: when the lock has
  ended (the beat task running `login_lock_tallies_close` every minute, or the next lock of
  the same account or address if that comes first). A flood must show in the log while it
  lasts, though, so an entry is also written as the count reaches 10, 100, 1000, ...: a
  tenfold longer flood costs one entry more. 400 refusals: entries at 10 and at 100 while
  locked, and the total of 400 once the lock has ended.

Successful sign-ins and sign-outs keep one entry each (audit.receivers).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.models import LoginLockTally, Outcome
from audit.services import audit_record
from core.login_limits import LockScope, LoginLock

__all__ = [
    "login_failure_record",
    "login_lock_record",
    "login_lock_tallies_close",
    "login_refusal_count",
]


def _actor(request: HttpRequest | None) -> Any:
    """Whoever sent the attempt: anonymous, since they are not signed in."""
    return AnonymousUser() if request is None else getattr(request, "user", AnonymousUser())


def _user_target(username: str) -> str:
    return f"user:{username}"


def _target(*, scope: str, username: str, ip_address: str | None) -> str:
    return f"address:{ip_address or ''}" if scope == LockScope.ADDRESS else _user_target(username)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def _is_power_of_ten(count: int) -> bool:
    return count >= 10 and str(count) == "1" + "0" * (len(str(count)) - 1)


def login_failure_record(
    *, username: str, failures: int | None, request: HttpRequest | None
) -> None:
    """Record a failed sign-in if it is the account's first from this address within the
    cool-off. `failures` is axes' count for the pair, this one included; None when axes did
    not count the attempt (no request to count it by), which is recorded too."""
    if failures is not None and failures > 1:
        return
    audit_record(
        actor=None if request is None else getattr(request, "user", None),
        action="auth.login_failed",
        target=_user_target(username),
        after={"username": username, "failures": failures},
        outcome=Outcome.FAILED,
        error="wrong username or password",
        request=request,
    )


_LOCK_REASONS = {
    LockScope.ACCOUNT_FROM_ADDRESS: (
        "{failures} failed attempts for this account from this address: refused from it until "
    ),
    LockScope.ADDRESS: (
        "{failures} failed sign-ins from this address: every account refused from it until "
    ),
    LockScope.ACCOUNT: (
        "{failures} failed attempts for this account from any address: refused everywhere until "
    ),
}


def _lock_reason(lock: LoginLock) -> str:
    return _LOCK_REASONS[lock.scope].format(failures=lock.failures) + f"{lock.until:%H:%M} UTC"


def _lock_details(lock: LoginLock) -> dict[str, Any]:
    return {
        "lock": lock.scope.value,
        "address": lock.ip_address,
        "failures": lock.failures,
        "limit": lock.limit,
        "until": _time(lock.until),
    }


def _tally_fields(lock: LoginLock) -> dict[str, Any]:
    return {
        "scope": lock.scope.value,
        "username": lock.username,
        "source_ip": lock.ip_address or None,
        "failures": lock.failures,
        "locked_until": lock.until,
        "refusals": 0,
        "recorded": 0,
        "first_refused_at": None,
        "last_refused_at": None,
    }


def _record_refusals(
    tally: LoginLockTally, *, lock_ended: bool, request: HttpRequest | None = None
) -> None:
    audit_record(
        actor=_actor(request),
        action="auth.login_refused",
        target=_target(scope=tally.scope, username=tally.username, ip_address=tally.source_ip),
        after={
            "lock": tally.scope,
            "username": tally.username,
            "address": tally.source_ip or "",
            "refusals": tally.refusals,
            "first": _time(tally.first_refused_at),
            "last": _time(tally.last_refused_at),
            "locked_until": _time(tally.locked_until),
            "lock_ended": lock_ended,
        },
        outcome=Outcome.DENIED,
        error=f"{tally.refusals} sign-in attempts refused while locked"
        + ("" if lock_ended else " so far"),
        request=request,
    )


def _record_total(tally: LoginLockTally) -> None:
    """The final count of an ended lock, unless its last power of ten already said it."""
    if tally.refusals > tally.recorded:
        _record_refusals(tally, lock_ended=True)


def _tally_open(lock: LoginLock, *, now: datetime) -> tuple[LoginLockTally, bool]:
    """The tally of `lock`, row-locked until the caller's transaction ends, and whether this
    call opened it. A tally left by an earlier lock of the same subject, which has ended but
    not been swept yet, gets its total written and starts again for this lock."""
    tally, created = LoginLockTally.objects.select_for_update().get_or_create(
        lock=lock.key, defaults=_tally_fields(lock)
    )
    if created:
        return tally, True
    if tally.locked_until >= now:
        return tally, False
    _record_total(tally)
    for field, value in _tally_fields(lock).items():
        setattr(tally, field, value)
    tally.save()
    return tally, True


def login_lock_record(
    *, locks: Sequence[LoginLock], username: str, request: HttpRequest | None
) -> None:
    """A counted failure reached a limit: record the lock once (the broadest, when several
    were reached together) with its failures and end, and open its tally. Requests racing
    to the same lock write one entry between them."""
    if not locks:
        return
    lock, *others = locks
    with transaction.atomic():
        _, opened = _tally_open(lock, now=timezone.now())
        if not opened:
            return
        after: dict[str, Any] = {"username": username, **_lock_details(lock)}
        if others:
            after["also"] = [_lock_details(other) for other in others]
        audit_record(
            actor=_actor(request),
            action="auth.locked_out",
            target=_target(scope=lock.scope, username=username, ip_address=lock.ip_address),
            after=after,
            outcome=Outcome.DENIED,
            error=_lock_reason(lock),
            request=request,
        )


def login_refusal_count(*, locks: Sequence[LoginLock], request: HttpRequest | None) -> None:
    """Count a sign-in refused while locked, against the broadest lock refusing it; an
    entry only when the count reaches a power of ten (the total follows the lock's end)."""
    if not locks:
        # The lock ended between axes' check and this count: nothing left to add it to.
        return
    now = timezone.now()
    with transaction.atomic():
        tally, _ = _tally_open(locks[0], now=now)
        tally.refusals += 1
        tally.first_refused_at = tally.first_refused_at or now
        tally.last_refused_at = now
        if _is_power_of_ten(tally.refusals):
            _record_refusals(tally, lock_ended=False, request=request)
            tally.recorded = tally.refusals
        tally.save()


def login_lock_tallies_close(*, now: datetime) -> int:
    """Write the total of every lock that has ended by `now` and forget its tally; returns
    how many were closed."""
    closed = 0
    ended = LoginLockTally.objects.filter(locked_until__lt=now).values_list("pk", flat=True)
    for pk in list(ended):
        with transaction.atomic():
            tally = (
                LoginLockTally.objects.select_for_update()
                .filter(pk=pk, locked_until__lt=now)
                .first()
            )
            if tally is None:  # reopened by a new lock meanwhile
                continue
            _record_total(tally)
            tally.delete()
            closed += 1
    return closed
