"""The portal's REST API over HTTP: authentication, retries and errors said in one line.

Every failure becomes a `Failure` carrying the one line a person reads (the problem+json
``detail`` the portal wrote, or what went wrong on the way there), so no command shows a
traceback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

# Attempts per request. Reads are always safe to send again; a POST only when it carries an
# Idempotency-Key, so that a retry after a lost answer never creates a second change.
ATTEMPTS = 3
# Statuses worth another attempt: throttled, or a proxy or server between deploys.
TRANSIENT = frozenset({429, 502, 503, 504})
# Longest wait honoured from a Retry-After header, and the pause between other retries.
MAX_RETRY_AFTER = 30.0
BACKOFF = 1.0
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "opsportal-cli/0.1"


class Failure(Exception):
    """A failure to report as one line on stderr, with the exit status it ends with."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ApiError(Failure):
    """The portal answered with an error status; `detail` is its own sentence."""

    def __init__(
        self, status: int, title: str, detail: str, errors: dict[str, list[str]] | None = None
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or {}
        super().__init__(problem_line(status, title, detail, self.errors))


class Unreachable(Failure):
    """No HTTP answer at all: refused, timed out, unknown host, broken TLS."""


def problem_line(status: int, title: str, detail: str, errors: dict[str, list[str]]) -> str:
    """``403 Forbidden: You cannot approve your own change request.`` and, when the portal
    names the fields at fault, ``(weights: …; reason: …)`` after it."""
    line = f"{status} {title}".rstrip()
    if detail and detail != title:
        line = f"{line}: {detail}"
    if errors:
        said = "; ".join(
            f"{field}: {' '.join(str(m) for m in messages)}" if field else " ".join(messages)
            for field, messages in errors.items()
        )
        line = f"{line} ({said})"
    return one_line(line)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def error_from(response: httpx.Response) -> ApiError:
    """The error the response describes, from its problem+json body when it has one and
    from the status alone when it does not (a proxy's HTML page, an empty body)."""
    status = response.status_code
    reason = response.reason_phrase or httpx.codes.get_reason_phrase(status)
    body: Any = None
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            body = None
    if not isinstance(body, dict):
        return ApiError(status, reason, "")
    title = body.get("title")
    detail = body.get("detail")
    errors = body.get("errors")
    fields: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for field, messages in errors.items():
            listed = messages if isinstance(messages, list) else [messages]
            fields[str(field)] = [one_line(str(m)) for m in listed]
    return ApiError(
        status,
        title if isinstance(title, str) and title else reason,
        detail if isinstance(detail, str) else "",
        fields,
    )


def unreachable(base_url: str, error: httpx.TransportError) -> Unreachable:
    """``cannot reach http://…: connection refused``, in words rather than errno numbers."""
    said = str(error) or type(error).__name__
    lowered = said.lower()
    if isinstance(error, httpx.TimeoutException):
        said = "timed out"
    elif "connection refused" in lowered:
        said = "connection refused"
    elif "name or service not known" in lowered or "nodename nor servname" in lowered:
        said = "unknown host"
    elif said.startswith("[Errno") and "] " in said:
        said = said.split("] ", 1)[1]
    return Unreachable(f"cannot reach {base_url}: {one_line(said)}")


def retry_after(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait before the next attempt: the server's Retry-After (in seconds) when
    it says, else a growing pause."""
    header = response.headers.get("retry-after", "")
    try:
        return min(max(float(header), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return BACKOFF * attempt


class Api:
    """One base URL and token; JSON in and out; `Failure` on anything but success."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(
            base_url=f"{self.base_url}/api/v1/",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=TIMEOUT,
            # Connection attempts that failed sent nothing, so they are retried for any method.
            transport=httpx.HTTPTransport(retries=2),
        )

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        return self._send("GET", path, params=query, retry=True)

    def post(self, path: str, body: dict[str, Any], *, idempotency_key: str = "") -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._send("POST", path, json=body, headers=headers, retry=bool(idempotency_key))

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a list, following ``next_cursor``."""
        query = dict(params)
        seen: set[str] = set()
        while True:
            page = self.get(path, query)
            yield page
            cursor = page.get("next_cursor") if isinstance(page, dict) else None
            # A cursor seen before would go round for ever.
            if not cursor or cursor in seen:
                return
            seen.add(cursor)
            query["cursor"] = cursor

    def _send(self, method: str, path: str, *, retry: bool, **kwargs: Any) -> Any:
        """Send, and send again when that is safe: `retry` for any transient failure, and
        for every request after a 429 (the portal refused it before doing anything)."""
        for attempt in range(1, ATTEMPTS + 1):
            last = attempt == ATTEMPTS
            try:
                response = self.http.request(method, path.lstrip("/"), **kwargs)
            except httpx.TransportError as error:
                # The transport has already retried failed connections (nothing was sent).
                final = isinstance(error, httpx.ConnectError | httpx.UnsupportedProtocol)
                if last or final or not retry:
                    raise unreachable(self.base_url, error) from None
                time.sleep(BACKOFF * attempt)
                continue
            again = retry or response.status_code == 429
            if response.status_code in TRANSIENT and again and not last:
                time.sleep(retry_after(response, attempt))
                continue
            if response.is_error:
                raise error_from(response)
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise Failure(
                    f"{response.status_code} from {response.url} is not JSON: is "
                    f"{self.base_url} the portal?"
                ) from None
        raise AssertionError("unreachable: the last attempt returns or raises")
