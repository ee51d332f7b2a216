"""Sign-in events into the audit log. Django's auth signals and django-axes' lockout
signal are the only hooks that see every attempt, whichever view made it."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from audit.models import Outcome
from audit.services import audit_record


def _user_target(username: str) -> str:
    return f"user:{username}"


def _attempted_username(credentials: dict[str, Any] | None) -> str:
    field = get_user_model().USERNAME_FIELD
    return str((credentials or {}).get(field) or (credentials or {}).get("username") or "")


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
    # `credentials` holds the (masked) password too: only the username is kept.
    username = _attempted_username(credentials)
    locked = getattr(request, "axes_locked_out", False)
    audit_record(
        actor=None if request is None else getattr(request, "user", None),
        action="auth.login_failed",
        target=_user_target(username),
        after={
            "username": username,
            "failures": getattr(request, "axes_failures_since_start", None),
        },
        outcome=Outcome.FAILED,
        error="account locked out" if locked else "wrong username or password",
        request=request,
    )


def on_locked_out(
    sender: Any, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any
) -> None:
    audit_record(
        actor=None if request is None else getattr(request, "user", None),
        action="auth.locked_out",
        target=_user_target(username or ""),
        after={"username": username or ""},
        outcome=Outcome.DENIED,
        error="too many failed attempts",
        request=request,
    )


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="audit.auth.login")
    user_logged_out.connect(on_logged_out, dispatch_uid="audit.auth.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit.auth.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit.auth.locked_out")
