"""Reads for the API tokens page."""

from __future__ import annotations

from typing import Any

from tokens.models import ApiToken


def tokens_of(*, user: Any) -> list[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones included."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))
