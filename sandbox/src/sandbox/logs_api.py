"""CloudWatch Logs reads: the containers' lines written first, and FilterLogEvents as AWS has it.

moto stores log events and answers most CloudWatch Logs operations. The sandbox adds:

- before every read (FilterLogEvents, GetLogEvents, DescribeLogStreams, DescribeLogGroups)
  the containers' buffered lines are written (``ContainerLogs.flush``), so a caller reads
  what its invocations caused, as it would a few seconds later on AWS; moto then answers
  all but FilterLogEvents;
- FilterLogEvents itself, where moto is not AWS. AWS returns the events of all searched
  streams interleaved in time order, oldest first (the ``interleaved`` flag is deprecated
  and ignored), honours ``logStreamNamePrefix``, and matches filter patterns; moto ignores
  the prefix, concatenates the streams unless asked to interleave, and returns every event
  for a pattern it cannot parse. Here events come in (timestamp, eventId) order, ``limit``
  (1-10,000, default 10,000) per page, with an opaque ``nextToken`` that stays valid while
  new events arrive.

Filter patterns: terms and quoted phrases, each of which must occur in the message
(case-sensitive), ``?term`` (at least one of those must occur) and ``-term`` (must not).
JSON (``{ ... }``), space-delimited (``[ ... ]``) and regex (``%...%``) patterns are valid on
AWS but not supported here: they are refused with InvalidParameterException rather than
answered with every event.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox import moto_bridge
from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse, json_response
from sandbox.container_logs import ContainerLogs

Handler = Callable[[AwsRequest], WsgiResponse | None]

# CloudWatch Logs' SigV4 signing name.
LOGS = "logs"
MAX_LIMIT = 10_000
MAX_STREAM_NAMES = 100
MAX_PATTERN_LENGTH = 1024
_READS = ("GetLogEvents", "DescribeLogStreams", "DescribeLogGroups")
_TERM = re.compile(r'\s*([?-]?)(?:"([^"]*)"|([^\s"]+))')


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


@dataclass(frozen=True)
class FilterPattern:
    """A parsed term pattern: what must, may (one of) and must not occur in a message."""

    required: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    def matches(self, message: str) -> bool:
        return (
            all(term in message for term in self.required)
            and (not self.any_of or any(term in message for term in self.any_of))
            and not any(term in message for term in self.excluded)
        )


def parse_filter_pattern(pattern: str) -> FilterPattern:
    """The pattern's terms, or InvalidParameterException for one the sandbox cannot read."""
    text = pattern.strip()
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise _invalid(f"filterPattern must be at most {MAX_PATTERN_LENGTH} characters long.")
    if text[:1] in ("{", "[", "%"):
        raise _invalid(
            "The sandbox supports term and quoted-phrase filter patterns only, not JSON, "
            "space-delimited or regex ones."
        )
    required: list[str] = []
    any_of: list[str] = []
    excluded: list[str] = []
    position = 0
    while position < len(text):
        match = _TERM.match(text, position)
        if match is None or match.end() == position:
            raise _invalid(f"Invalid filter pattern: {pattern!r} (an unclosed quote?).")
        sign, quoted, bare = match.groups()
        term = quoted if quoted is not None else bare
        {"": required, "?": any_of, "-": excluded}[sign].append(term)
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return FilterPattern(tuple(required), tuple(any_of), tuple(excluded))


def _token(timestamp: int, event_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1/{timestamp}/{event_id}".encode()).decode()


def _after(token: Any) -> tuple[int, int]:
    """The (timestamp, eventId) a nextToken continues after."""
    try:
        version, timestamp, event_id = (
            base64.urlsafe_b64decode(str(token).encode()).decode().split("/")
        )
        if version != "v1":
            raise ValueError(version)
        return int(timestamp), int(event_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise _invalid("The specified nextToken is invalid.") from None


def _millis(document: dict[str, Any], name: str) -> int | None:
    value = document.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(f"{name} must be a non-negative number of milliseconds since the epoch.")
    return value


def _group_name(document: dict[str, Any]) -> str:
    """logGroupName, or the name inside logGroupIdentifier (a name or an ARN)."""
    name = document.get("logGroupName")
    identifier = document.get("logGroupIdentifier")
    if name and identifier:
        raise _invalid("Specify logGroupName or logGroupIdentifier, not both.")
    if identifier:
        text = str(identifier)
        if text.startswith("arn:"):
            text = text.split(":log-group:", 1)[-1].removesuffix(":*")
        return text
    if not name or not isinstance(name, str):
        raise _invalid("logGroupName or logGroupIdentifier is required.")
    return name


class LogsApi:
    """FilterLogEvents of its own, and the containers' lines written before every read."""

    def __init__(self, container_logs: ContainerLogs) -> None:
        self.container_logs = container_logs

    def operations(self) -> dict[str, Handler]:
        handlers: dict[str, Handler] = {"FilterLogEvents": self.filter_log_events}
        for operation in _READS:
            handlers[operation] = self._flushed_then_moto
        return handlers

    def _flushed_then_moto(self, _request: AwsRequest) -> WsgiResponse | None:
        self.container_logs.flush()
        return None

    def filter_log_events(self, request: AwsRequest) -> WsgiResponse:
        document = request.json_body()
        group = _group_name(document)
        names = document.get("logStreamNames")
        prefix = document.get("logStreamNamePrefix")
        if names is not None and prefix is not None:
            raise _invalid("Specify logStreamNames or logStreamNamePrefix, not both.")
        if names is not None and (
            not isinstance(names, list)
            or not 1 <= len(names) <= MAX_STREAM_NAMES
            or not all(isinstance(n, str) for n in names)
        ):
            raise _invalid(f"logStreamNames must list 1 to {MAX_STREAM_NAMES} stream names.")
        limit = document.get("limit", MAX_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise _invalid(f"limit must be between 1 and {MAX_LIMIT}.")
        start, end = _millis(document, "startTime"), _millis(document, "endTime")
        if start is not None and end is not None and end < start:
            raise _invalid("endTime must not be before startTime.")
        pattern = parse_filter_pattern(str(document.get("filterPattern") or ""))
        after = _after(document["nextToken"]) if document.get("nextToken") else None
        self.container_logs.flush()
        found = moto_bridge.log_events(
            request.account_id,
            request.region,
            group,
            streams=names,
            stream_prefix=str(prefix or ""),
            start=start,
            end=end,
        )
        if found is None:
            raise AwsError("ResourceNotFoundException", "The specified log group does not exist.")
        searched, events = found
        page = []
        more = False
        for event in events:
            if after is not None and (event.timestamp, event.event_id) <= after:
                continue
            if not pattern.matches(event.message):
                continue
            if len(page) == limit:
                more = True
                break
            page.append(event)
        answer: dict[str, Any] = {
            "events": [
                {
                    "logStreamName": event.stream,
                    "timestamp": event.timestamp,
                    "message": event.message,
                    "ingestionTime": event.ingestion_time,
                    "eventId": str(event.event_id),
                }
                for event in page
            ],
            "searchedLogStreams": [
                {"logStreamName": name, "searchedCompletely": True} for name in searched
            ],
        }
        if more:
            answer["nextToken"] = _token(page[-1].timestamp, page[-1].event_id)
        return json_response(request, answer)
