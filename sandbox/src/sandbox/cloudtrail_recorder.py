"""Turning one served HTTP exchange into a CloudTrail event.

The middleware calls ``Recorder.wrap`` for every AWS request. Calls CloudTrail would not log
pass through untouched; for the rest the response is buffered (they are all small control
plane answers), its status and body read, and the event appended to the store. The response
the caller gets is byte for byte what it would have been without recording.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from sandbox.assume_role import caller_identity, trail_copies
from sandbox.aws_protocol import AwsRequest, StartResponse
from sandbox.cloudtrail import EventStore
from sandbox.cloudtrail_records import Call, CallKind, classify, error_from_body, resources_named

logger = logging.getLogger(__name__)
_LOOPBACK = ("127.", "::1", "::ffff:127.")
_REQUEST_ID_HEADERS = ("x-amzn-requestid", "x-amz-request-id")


def source_ip(environ: dict[str, Any]) -> str:
    """The caller's address; a proxy's X-Forwarded-For is believed only from this machine."""
    remote = str(environ.get("REMOTE_ADDR") or "127.0.0.1")
    forwarded = str(environ.get("HTTP_X_FORWARDED_FOR") or "").split(",")[0].strip()
    if forwarded and remote.startswith(_LOOPBACK):
        return forwarded
    return remote


def request_parameters(request: AwsRequest) -> dict[str, Any] | None:
    """The call's parameters as sent (still PascalCase; the record renames them)."""
    if request.service == "s3":
        bucket = request.path.strip("/").split("/", 1)[0]
        return {"bucketName": bucket, "Host": request.headers.get("host", "")}
    if request.protocol == "query":
        form = parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        merged = {**request.query, **form}
        return {k: v[0] for k, v in merged.items() if k not in ("Action", "Version")} or None
    try:
        document = json.loads(request.body) if request.body else {}
    except ValueError:
        return None
    return document if isinstance(document, dict) and document else None


class Recorder:
    """Records the management calls among the requests the middleware serves."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def wrap(
        self,
        request: AwsRequest,
        environ: dict[str, Any],
        start_response: StartResponse,
        serve: Callable[[StartResponse], Iterable[bytes]],
    ) -> Iterable[bytes]:
        """Serve the request, recording it when CloudTrail would."""
        kind = classify(
            request.service, request.operation, request.method, request.path, dict(request.query)
        )
        if kind is None:
            return serve(start_response)
        started = time.time()
        seen: dict[str, Any] = {}

        def observe(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return (
                start_response(status, headers, exc_info)
                if exc_info
                else start_response(status, headers)
            )

        answer = serve(observe)
        try:
            body = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        try:
            self._record(request, environ, kind, started, seen, body)
        except Exception:
            logger.exception("Recording %s for CloudTrail failed", request.operation)
        return [body]

    def _record(
        self,
        request: AwsRequest,
        environ: dict[str, Any],
        kind: CallKind,
        started: float,
        seen: dict[str, Any],
        body: bytes,
    ) -> None:
        status = int(str(seen.get("status", "500")).split(" ", 1)[0])
        headers = {k.lower(): v for k, v in seen.get("headers", [])}
        request_id = next(
            (headers[h] for h in _REQUEST_ID_HEADERS if h in headers), request.request_id
        )
        params = request_parameters(request)
        error_code = error_message = None
        response_elements = None
        if status >= 400:
            error_code, error_message = error_from_body(body)
        elif not kind.read_only and request.protocol in ("json", "rest-json") and body:
            try:
                document = json.loads(body)
            except ValueError:
                document = None
            response_elements = document if isinstance(document, dict) and document else None
        call = Call(
            kind=kind,
            time=started,
            region=request.region,
            account_id=request.account_id,
            access_key=request.access_key,
            identity=caller_identity(request.access_key, request.account_id),
            source_ip=source_ip(environ),
            user_agent=request.headers.get("user-agent", ""),
            request_parameters=params,
            response_elements=response_elements,
            error_code=error_code,
            error_message=error_message,
            request_id=request_id,
        )
        resources = resources_named(
            kind.service, params or {}, request.region, request.account_id, request.path
        )
        for event, named in trail_copies(call, resources, body):
            self.store.record(event, named)
