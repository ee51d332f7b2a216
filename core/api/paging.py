"""Cursor pages for API lists, over `core.paging` keyset paging: `next_cursor` is the
opaque position of the last item; a deep page costs the same one indexed query."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from ninja import Schema

from core.errors import Invalid
from core.paging import Keyset

T = TypeVar("T", bound=Model)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageQuery(Schema):
    """`cursor` from the previous page's `next_cursor`; `limit` items (1 to 200)."""

    cursor: str = ""
    limit: int = DEFAULT_LIMIT


def cursor_page(
    queryset: QuerySet[T], *, keyset: Keyset, cursor: str, limit: int
) -> tuple[list[T], str | None]:
    """One page newest first and the cursor of the next, None on the last page."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(errors={"limit": [f"Ask for 1 to {MAX_LIMIT} items."]})
    position = keyset.parse(cursor) if cursor else None
    if cursor and position is None:
        raise Invalid(errors={"cursor": ["Pass the next_cursor of a previous page."]})
    page = keyset.page(queryset, before=position, size=limit)
    return page.items, page.older_than


def page_body(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


MAX_OFFSET = 10**9


def offset_page(queryset: QuerySet[T], *, cursor: str, limit: int) -> tuple[list[T], str | None]:
    """For lists with no keyset (a UUID key, a nullable time): the cursor is a position in
    the list's fixed order."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(errors={"limit": [f"Ask for 1 to {MAX_LIMIT} items."]})
    if cursor and not (cursor.isascii() and cursor.isdigit() and int(cursor) <= MAX_OFFSET):
        raise Invalid(errors={"cursor": ["Pass the next_cursor of a previous page."]})
    start = int(cursor or 0)
    rows = list(queryset[start : start + limit + 1])
    return rows[:limit], str(start + limit) if len(rows) > limit else None
