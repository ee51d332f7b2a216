"""CloudTrail for the sandbox: every management call recorded, and LookupEvents to read them.

The middleware hands each call it served to ``EventStore.record`` (an append to an
in-memory deque per account and region, no I/O, because tests and benchmarks push tens of
thousands of requests through the sandbox). LookupEvents is answered here with CloudTrail's
real limits, since the portal's ingestion is built around them: one lookup attribute, 50
events a page, a NextToken valid only for the same query, newest first, 90 days, a
delivery lag before a call becomes visible, and ThrottlingException above 2 requests per
second per account and region.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse, json_response
from sandbox.cloudtrail_records import Call, Resource, build_record, iso_time
from sandbox.listing import timestamp_param

MAX_EVENTS_PER_REGION = 200_000
RETENTION_SECONDS = 90 * 86400
MAX_RESULTS = 50
LOOKUP_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)


@dataclass(frozen=True)
class StoredEvent:
    """A record plus the fields LookupEvents filters on, extracted once at recording."""

    seq: int
    time: float
    backfilled: bool
    record: dict[str, Any]
    username: str
    access_key: str
    resources: tuple[Resource, ...]

    def matches(self, key: str, value: str) -> bool:
        record = self.record
        if key == "EventId":
            return bool(record["eventID"] == value)
        if key == "EventName":
            return bool(record["eventName"] == value)
        if key == "EventSource":
            return bool(record["eventSource"] == value)
        if key == "ReadOnly":
            return str(record["readOnly"]).lower() == value.lower()
        if key == "Username":
            return self.username == value
        if key == "AccessKeyId":
            return self.access_key == value
        if key == "ResourceType":
            return any(r.type == value for r in self.resources)
        return any(value in (r.name, r.arn) for r in self.resources)  # ResourceName

    def lookup_entry(self) -> dict[str, Any]:
        """One item of LookupEvents' ``Events``."""
        record = self.record
        entry: dict[str, Any] = {
            "EventId": record["eventID"],
            "EventName": record["eventName"],
            "ReadOnly": "true" if record["readOnly"] else "false",
            "EventTime": float(int(self.time)),
            "EventSource": record["eventSource"],
            "Username": self.username,
            "Resources": [{"ResourceType": r.type, "ResourceName": r.name} for r in self.resources],
            "CloudTrailEvent": json.dumps(record, separators=(",", ":")),
        }
        if self.access_key:
            entry["AccessKeyId"] = self.access_key
        return entry


class EventStore:
    """Recorded events per (account, region), in recording order, capped per region."""

    def __init__(self, lag_seconds: float = 0.0, cap: int = MAX_EVENTS_PER_REGION) -> None:
        self.lag_seconds = lag_seconds
        self.cap = cap
        self._events: dict[tuple[str, str], deque[StoredEvent]] = {}
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, call: Call, resources: list[Resource], *, backfill: bool = False) -> None:
        """Keep a call; a backfilled one is visible at once, a live one after the lag.

        The lag is applied when reading, so changing it affects calls already recorded.
        """
        record = build_record(call, resources)
        key = (call.account_id, call.region)
        with self._lock:
            event = StoredEvent(
                seq=next(self._seq),
                time=call.time,
                backfilled=backfill,
                record=record,
                username=call.identity.username,
                access_key=call.access_key or "",
                resources=tuple(resources),
            )
            events = self._events.get(key)
            if events is None:
                events = self._events[key] = deque(maxlen=self.cap)
            events.append(event)

    def retime(self, account_id: str, region: str, times: dict[str, float]) -> int:
        """Move recorded events (by eventID) to the times they stand for, as backfilled
        events: a seeded world's own calls, which happened before the sandbox started
        (``sandbox/creation_story.py``). Returns how many moved."""
        moved = 0
        with self._lock:
            events = self._events.get((account_id, region), deque())
            for index, event in enumerate(events):
                when = times.get(event.record["eventID"])
                if when is None:
                    continue
                record = dict(event.record, eventTime=iso_time(when))
                session = record["userIdentity"].get("sessionContext")
                if session is not None:  # a session that began for the call began then too
                    attributes = dict(session["attributes"], creationDate=iso_time(when))
                    record["userIdentity"] = dict(
                        record["userIdentity"], sessionContext=dict(session, attributes=attributes)
                    )
                events[index] = dataclasses.replace(
                    event, time=when, backfilled=True, record=record
                )
                moved += 1
        return moved

    def events(self, account_id: str, region: str) -> list[StoredEvent]:
        with self._lock:
            return list(self._events.get((account_id, region), ()))

    def regions(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._events)

    def since(self, account_id: str, region: str, seq: int) -> list[StoredEvent]:
        """Events recorded after sequence number ``seq``, for trail delivery."""
        return [e for e in self.events(account_id, region) if e.seq > seq]

    def last_seq(self) -> int:
        with self._lock:
            return max((q[-1].seq for q in self._events.values() if q), default=0)

    def count(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._events.values())

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


class RateLimiter:
    """A token bucket per key: ``rate`` requests a second, bursts of up to ``rate``."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: tuple[str, str]) -> bool:
        if self.rate <= 0:
            return True
        now = self._clock()
        capacity = max(1.0, self.rate)
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


def _error(code: str, message: str) -> AwsError:
    return AwsError(code, message)


class LookupEventsApi:
    """LookupEvents, which moto lacks, answered from the sandbox's event store."""

    def __init__(self, store: EventStore, limiter: RateLimiter) -> None:
        self.store = store
        self.limiter = limiter

    def operations(self) -> dict[str, Callable[[AwsRequest], WsgiResponse]]:
        return {"LookupEvents": self.lookup_events}

    def lookup_events(self, request: AwsRequest) -> WsgiResponse:
        if not self.limiter.allow((request.account_id, request.region)):
            raise AwsError("ThrottlingException", "Rate exceeded")
        params = request.json_body()
        attribute = _lookup_attribute(params.get("LookupAttributes"))
        now = time.time()
        start = timestamp_param(params, "StartTime")
        end = timestamp_param(params, "EndTime")
        if start is not None and end is not None and start > end:
            raise _error(
                "InvalidTimeRangeException", "Start time must be less than or equal to end time."
            )
        max_results = params.get("MaxResults", MAX_RESULTS)
        if (
            isinstance(max_results, bool)
            or not isinstance(max_results, int)
            or not 1 <= max_results <= MAX_RESULTS
        ):
            raise _error(
                "InvalidMaxResultsException",
                f"MaxResults must be between 1 and {MAX_RESULTS}, got {max_results}.",
            )
        category = params.get("EventCategory")
        if category not in (None, "insight"):
            raise _error("InvalidEventCategoryException", "EventCategory must be insight.")
        fingerprint = _fingerprint(request, params)
        after = _decode_token(params.get("NextToken"), fingerprint)
        visible_until = now - self.store.lag_seconds
        floor = max(now - RETENTION_SECONDS, start if start is not None else float("-inf"))
        ceiling = end if end is not None else float("inf")
        matching = (
            []
            if category == "insight"
            else [
                e
                for e in self.store.events(request.account_id, request.region)
                if (e.backfilled or e.time <= visible_until)
                and floor <= e.time <= ceiling
                and (attribute is None or e.matches(*attribute))
                and (after is None or (e.time, e.seq) < after)
            ]
        )
        matching.sort(key=lambda e: (e.time, e.seq), reverse=True)
        page = matching[:max_results]
        payload: dict[str, Any] = {"Events": [e.lookup_entry() for e in page]}
        if len(matching) > max_results:
            payload["NextToken"] = _encode_token((page[-1].time, page[-1].seq), fingerprint)
        return json_response(request, payload)


def _lookup_attribute(value: Any) -> tuple[str, str] | None:
    """The one attribute to filter on; none at all means every event, as on AWS."""
    if value is None or value == []:
        return None
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
        raise _error(
            "InvalidLookupAttributesException",
            "LookupAttributes must contain exactly one attribute.",
        )
    key, text = value[0].get("AttributeKey"), value[0].get("AttributeValue")
    if key not in LOOKUP_KEYS:
        raise _error(
            "InvalidLookupAttributesException",
            f"AttributeKey {key!r} is not one of {', '.join(LOOKUP_KEYS)}.",
        )
    if not isinstance(text, str) or not 1 <= len(text) <= 2000:
        raise _error(
            "InvalidLookupAttributesException",
            "AttributeValue must be a string of 1 to 2000 characters.",
        )
    return key, text


def _fingerprint(request: AwsRequest, params: dict[str, Any]) -> str:
    identity = {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}
    identity["@"] = [request.account_id, request.region]
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def _encode_token(after: tuple[float, int], fingerprint: str) -> str:
    document = json.dumps({"q": fingerprint, "t": after[0], "s": after[1]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode()


def _decode_token(token: Any, fingerprint: str) -> tuple[float, int] | None:
    if token is None or token == "":
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        if document["q"] == fingerprint:
            return float(document["t"]), int(document["s"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    raise _error(
        "InvalidNextTokenException", "The NextToken is invalid or was issued for another query."
    )
