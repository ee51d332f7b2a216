"""Sign-in events into the audit log. Django's auth signals and django-axes' lockout
signal are the only hooks that see every attempt, whichever view made it. Failures and
refusals are counted rather than written one entry each (audit.login_refusals says how).

django-axes handles each signal before these receivers (its app is installed first), and
leaves on the request what it found: `axes_failures_since_start` is the (account, address)
pair's count including this attempt, or None when the attempt was refused without being
counted; `axes_locked_out` is set when the attempt was refused or reached a limit."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from audit.login_refusals import login_failure_record, login_lock_record, login_refusal_count
from audit.services import audit_record
from core.login_limits import request_login_locks


def _user_target(username: str) -> str:
    return f"user:{username}"


def _attempted_username(credentials: dict[str, Any] | None) -> str:
    field = get_user_model().USERNAME_FIELD
    return str((credentials or {}).get(field) or (credentials or {}).get("username") or "")


def _counted_failures(request: HttpRequest | None) -> int | None:
    return getattr(request, "axes_failures_since_start", None)


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(
        actor=user,
        action="auth.login",
        target=_user_target(user.get_username()),
        request=request,
    )


def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    audit_record(
        actor=user,
        action="auth.logout",
        target=_user_target(user.get_username()),
        request=request,
    )


def on_login_failed(
    sender: Any,
    credentials: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    # A refusal, or the failure that reached a limit, is on_locked_out's to record.
    if getattr(request, "axes_locked_out", False):
        return
    # `credentials` holds the (masked) password too: only the username is kept.
    login_failure_record(
        username=_attempted_username(credentials),
        failures=_counted_failures(request),
        request=request,
    )


def on_locked_out(
    sender: Any, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any
) -> None:
    if request is None:
        return
    locks = request_login_locks(request=request, username=username)
    if _counted_failures(request) is None:
        login_refusal_count(locks=locks, request=request)
    else:
        login_lock_record(locks=locks, username=username or "", request=request)


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="audit.auth.login")
    user_logged_out.connect(on_logged_out, dispatch_uid="audit.auth.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit.auth.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit.auth.locked_out")
