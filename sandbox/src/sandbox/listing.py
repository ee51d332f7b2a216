"""SageMaker's List* semantics: filters, sort order and NextToken paging.

moto pages with a default of 100 items, sorts ascending by default and accepts any
MaxResults; SageMaker defaults to 10, sorts newest first and rejects MaxResults above 100.
A portal that pages 1,000 endpoints 100 at a time must see every name exactly once, so the
token records the sort key of the last item returned (keyset paging) rather than an offset:
endpoints created or deleted between two pages cannot shift a later page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sandbox.aws_protocol import AwsError, validation_error

T = TypeVar("T")
SortValue = str | float
DEFAULT_MAX_RESULTS = 10
MAX_MAX_RESULTS = 100


@dataclass(frozen=True)
class ListQuery:
    """The validated common List* parameters."""

    sort_by: str
    descending: bool
    max_results: int
    next_token: str | None
    name_contains: str | None
    fingerprint: str


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str | None


def enum_error(value: Any, member: str, allowed: Sequence[str]) -> AwsError:
    return validation_error(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
    )


def parse_list_query(
    params: Mapping[str, Any], *, sort_fields: Sequence[str], default_sort: str = "CreationTime"
) -> ListQuery:
    """Validate SortBy, SortOrder, MaxResults and NameContains as SageMaker does."""
    sort_by = params.get("SortBy") or default_sort
    if sort_by not in sort_fields:
        raise enum_error(sort_by, "sortBy", sort_fields)
    sort_order = params.get("SortOrder") or "Descending"
    if sort_order not in ("Ascending", "Descending"):
        raise enum_error(sort_order, "sortOrder", ("Ascending", "Descending"))
    max_results = params.get("MaxResults", DEFAULT_MAX_RESULTS)
    if isinstance(max_results, bool) or not isinstance(max_results, int):
        raise validation_error("MaxResults must be an integer.")
    if max_results < 1:
        raise validation_error(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1"
        )
    if max_results > MAX_MAX_RESULTS:
        raise validation_error(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to "
            f"satisfy constraint: Member must have value less than or equal to {MAX_MAX_RESULTS}"
        )
    identity = {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}
    fingerprint = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    return ListQuery(
        sort_by=sort_by,
        descending=sort_order == "Descending",
        max_results=max_results,
        next_token=params.get("NextToken") or None,
        name_contains=params.get("NameContains") or None,
        fingerprint=fingerprint,
    )


def timestamp_param(params: Mapping[str, Any], name: str) -> float | None:
    """A timestamp parameter: botocore sends epoch seconds; ISO strings are accepted too."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise validation_error(f"Value '{value}' at '{name[0].lower() + name[1:]}' is not a timestamp.")


@dataclass(frozen=True)
class TimeBounds:
    """The CreationTime/LastModifiedTime Before/After filters SageMaker's List* calls share
    (each bound exclusive, as on AWS)."""

    created_before: float | None
    created_after: float | None
    modified_before: float | None
    modified_after: float | None

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> TimeBounds:
        return cls(
            created_before=timestamp_param(params, "CreationTimeBefore"),
            created_after=timestamp_param(params, "CreationTimeAfter"),
            modified_before=timestamp_param(params, "LastModifiedTimeBefore"),
            modified_after=timestamp_param(params, "LastModifiedTimeAfter"),
        )

    def admit(self, *, created: float, modified: float | None = None) -> bool:
        """Whether a resource created (and last modified) then passes every bound given."""
        checks = [(created, self.created_before, self.created_after)]
        if modified is not None:
            checks.append((modified, self.modified_before, self.modified_after))
        return all(
            (before is None or value < before) and (after is None or value > after)
            for value, before, after in checks
        )


def page_answer(
    member: str, page: Page[T], render: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """A List* answer: the page's items, rendered, under `member`, and NextToken when more
    follow (AWS leaves the member out on the last page)."""
    answer: dict[str, Any] = {member: [render(item) for item in page.items]}
    if page.next_token:
        answer["NextToken"] = page.next_token
    return answer


def paginate(
    items: Sequence[T],
    query: ListQuery,
    *,
    sort_value: Callable[[T], SortValue],
    name: Callable[[T], str],
) -> Page[T]:
    """One page in the requested order, ties broken by name so the order is total."""

    def key(item: T) -> tuple[SortValue, str]:
        return (sort_value(item), name(item))

    ordered = sorted(items, key=key, reverse=query.descending)
    if query.next_token is not None:
        after = _decode_token(query.next_token, query.fingerprint)
        if query.descending:
            ordered = [item for item in ordered if _less(key(item), after)]
        else:
            ordered = [item for item in ordered if _less(after, key(item))]
    page = ordered[: query.max_results]
    more = len(ordered) > query.max_results
    token = _encode_token(key(page[-1]), query.fingerprint) if more and page else None
    return Page(items=page, next_token=token)


def _less(left: tuple[SortValue, str], right: tuple[SortValue, str]) -> bool:
    try:
        return left < right
    except TypeError:
        # A token from another sort field; compare as text rather than crash.
        return (str(left[0]), left[1]) < (str(right[0]), right[1])


def _encode_token(key: tuple[SortValue, str], fingerprint: str) -> str:
    document = json.dumps({"q": fingerprint, "k": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode()


def _decode_token(token: str, fingerprint: str) -> tuple[SortValue, str]:
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode()))
        sort_value, last_name = document["k"]
        matches = document["q"] == fingerprint
    except (ValueError, KeyError, TypeError, binascii.Error):
        matches = False
    if not matches:
        raise validation_error("The NextToken is invalid or does not belong to this request.")
    return (sort_value, str(last_name))
