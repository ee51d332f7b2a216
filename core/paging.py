"""Keyset pagination, newest first: any page costs one indexed query however deep it is,
and no page counts the whole match (a count over a million rows is what makes a search
slow). Pages link to each other with `?before=` and `?after=` cursors that name the last
row seen; the template partial `partials/_keyset_pager.html` draws the links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet

T = TypeVar("T", bound=Model)
Position = tuple[datetime | None, int]
_MAX_MICROS_DIGITS = 17  # year 5138: anything longer is not a cursor this portal wrote
# ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    items: list[T]
    newer_than: str | None  # pass as ?after= to see the newer page, if any
    older_than: str | None  # pass as ?before= to see the older page, if any


@dataclass(frozen=True)
class Keyset:
    """Newest-first order on an optional time column, ties broken by the primary key.

    A cursor is the row's time in microseconds and its id (`1764000000000000_42`), or the
    id alone when there is no time column (`42`), so links stay short and readable.
    """

    time_field: str | None = None

    def cursor(self, row: Any) -> str:
        if self.time_field is None:
            return str(row.pk)
        moment: datetime = getattr(row, self.time_field)
        return f"{int(moment.timestamp() * 1_000_000)}_{row.pk}"

    def parse(self, text: str) -> Position | None:
        """The position a cursor names, or None for anything this class did not write."""
        if self.time_field is None:
            return (None, int(text)) if _DIGITS.fullmatch(text) and len(text) < 19 else None
        micros, _, pk = text.partition("_")
        if not (_DIGITS.fullmatch(micros) and _DIGITS.fullmatch(pk)):
            return None
        if len(micros) > _MAX_MICROS_DIGITS:
            return None
        if len(pk) >= 19:
            return None
        return datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC), int(pk)

    def _beyond(self, position: Position, *, older: bool) -> Q:
        moment, pk = position
        op = "lt" if older else "gt"
        if self.time_field is None or moment is None:
            return Q(**{f"pk__{op}": pk})
        return Q(**{f"{self.time_field}__{op}": moment}) | Q(
            **{self.time_field: moment, f"pk__{op}": pk}
        )

    def _order(self, *, newest_first: bool) -> list[str]:
        keys = [self.time_field, "pk"] if self.time_field else ["pk"]
        return [f"-{k}" if newest_first else k for k in keys]

    def page(
        self,
        queryset: QuerySet[T],
        *,
        before: Position | None = None,
        after: Position | None = None,
        size: int = 50,
    ) -> KeysetPage[T]:
        """One page, newest first: `before` walks towards older rows, `after` back
        towards newer ones (fetched oldest first, then turned round)."""
        if after is not None:
            rows = list(
                queryset.filter(self._beyond(after, older=False)).order_by(
                    *self._order(newest_first=False)
                )[: size + 1]
            )
            has_newer = len(rows) > size
            items = rows[:size][::-1]
            has_older = True
        else:
            if before is not None:
                queryset = queryset.filter(self._beyond(before, older=True))
            rows = list(queryset.order_by(*self._order(newest_first=True))[: size + 1])
            has_older = len(rows) > size
            items = rows[:size]
            has_newer = before is not None
        return KeysetPage(
            items=items,
            newer_than=self.cursor(items[0]) if items and has_newer else None,
            older_than=self.cursor(items[-1]) if items and has_older else None,
        )
