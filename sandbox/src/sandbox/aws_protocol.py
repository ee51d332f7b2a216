"""Reading AWS requests and writing AWS responses at the WSGI level.

The middleware must decide, before moto sees a request, whether the sandbox owns the
operation; that needs the service (from the SigV4 credential scope), the operation (from the
JSON target header or the query ``Action``) and the wire protocol, because an error has to be
serialised in the protocol the caller's SDK parses, or botocore reports garbage or retries.
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

Protocol = Literal["json", "query", "rest-json", "rest-xml"]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_QUERY_XMLNS = "https://sandbox.local/doc/2010-05-15/"
# JSON services that spoke query before (botocore's ``awsQueryCompatible``), by signing name:
# their errors keep their query codes in the x-amzn-query-error header.
_QUERY_COMPATIBLE = frozenset({"monitoring"})
# The namespace AWS's JSON front end puts before the codes of errors it raises itself.
_CORAL = "com.amazon.coral.service"


class AwsError(Exception):
    """An error answered in AWS's shape: the code botocore maps to an exception class.

    ``fields`` are the error's modeled members besides the message (ModelError carries
    OriginalStatusCode, OriginalMessage and LogStreamArn); JSON protocols put them in the body.
    ``query_code`` is the code a JSON service that used to speak query (CloudWatch) still
    reports in its ``x-amzn-query-error`` header, which botocore prefers to the body's.
    ``wire_type`` is the ``__type`` a JSON body carries when AWS sends more than the code
    (a namespace: botocore reports what follows the ``#``); an empty message is left out,
    as AWS leaves it out of some errors.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        fields: Mapping[str, Any] | None = None,
        *,
        query_code: str | None = None,
        wire_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = dict(fields or {})
        self.query_code = query_code
        self.wire_type = wire_type


def validation_error(message: str) -> AwsError:
    """SageMaker reports nearly every bad request as ValidationException."""
    return AwsError("ValidationException", message)


@dataclass(frozen=True)
class AwsRequest:
    """What the sandbox needs to know about one incoming AWS API call."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    service: str | None
    region: str
    access_key: str | None
    operation: str | None
    protocol: Protocol
    account_id: str = "123456789012"
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def json_body(self) -> dict[str, Any]:
        """The JSON request document, or the SerializationException AWS answers for bad JSON."""
        if not self.body:
            return {}
        try:
            document = json.loads(self.body)
        except ValueError:
            raise AwsError(
                "SerializationException", "The request body is not valid JSON."
            ) from None
        if not isinstance(document, dict):
            raise AwsError("SerializationException", "The request body must be a JSON object.")
        return document


@dataclass(frozen=True)
class WsgiResponse:
    """A fully buffered response; the sandbox's own answers are all small."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def send(self, start_response: StartResponse) -> list[bytes]:
        start_response(
            status_line(self.status), [*self.headers, ("Content-Length", str(len(self.body)))]
        )
        return [self.body]


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back, so moto can still read it after the sandbox."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def parse_request(environ: dict[str, Any]) -> AwsRequest:
    """Identify service, region, caller and operation the way AWS's front door does."""
    body = read_body(environ)
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    service, region, access_key = _credential_scope(headers.get("authorization", ""))
    target = headers.get("x-amz-target")
    operation: str | None = None
    protocol: Protocol
    if target:
        protocol = "json"
        operation = target.rsplit(".", 1)[-1]
    else:
        form = _form_fields(headers.get("content-type", ""), body)
        action = (form.get("Action") or query.get("Action") or [None])[0]
        if action:
            protocol, operation = "query", action
        elif service == "s3":
            protocol = "rest-xml"
        else:
            protocol = "rest-json"
    return AwsRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        path=str(environ.get("PATH_INFO", "")),
        query=query,
        headers=headers,
        body=body,
        service=service,
        region=region,
        access_key=access_key,
        operation=operation,
        protocol=protocol,
    )


def _credential_scope(authorization: str) -> tuple[str | None, str, str | None]:
    match = _CREDENTIAL.search(authorization)
    if not match:
        return None, "us-east-1", None
    access_key, _date, region, service = match.groups()
    return service.lower(), region, access_key


def _form_fields(content_type: str, body: bytes) -> dict[str, list[str]]:
    if not content_type.startswith("application/x-www-form-urlencoded") or not body:
        return {}
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}


def json_response(
    request: AwsRequest, payload: Mapping[str, Any], status: int = 200
) -> WsgiResponse:
    """A JSON-protocol answer with the content type version the caller used."""
    content_type = request.headers.get("content-type") or "application/x-amz-json-1.1"
    if not content_type.startswith("application/x-amz-json"):
        content_type = "application/json"
    return WsgiResponse(
        status=status,
        headers=[
            ("Content-Type", content_type),
            ("x-amzn-RequestId", request.request_id),
        ],
        body=json.dumps(payload, separators=(",", ":")).encode(),
    )


def answer_headers(request: AwsRequest, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Another backend's response headers as AWS sends them for the caller's protocol.

    Every AWS answer names its request id (``x-amz-request-id`` and ``x-amz-id-2`` for S3,
    ``x-amzn-RequestId`` elsewhere), which botocore reports as the RequestId and CloudTrail
    records as the call's requestID; a JSON answer is ``application/x-amz-json-1.x`` and a
    query answer ``text/xml``, whatever content type the backend put on it.
    """
    present = {name.lower() for name, _ in headers}
    fixed = list(headers)
    if request.protocol == "rest-xml":
        # S3 sends no x-amzn-RequestId, and botocore would prefer it to S3's own header.
        fixed = [(n, v) for n, v in fixed if n.lower() != "x-amzn-requestid"]
        return fixed + [h for h in s3_request_id_headers(request) if h[0] not in present]
    if "x-amzn-requestid" not in present:
        fixed.append(("x-amzn-RequestId", request.request_id))
    expected = {"json": _json_content_type(request), "query": "text/xml"}.get(request.protocol)
    if expected is not None:
        fixed = [(n, v) for n, v in fixed if n.lower() != "content-type"]
        fixed.append(("Content-Type", expected))
    return fixed


def s3_request_id_headers(request: AwsRequest) -> list[tuple[str, str]]:
    """S3's request id (16 upper-case hex digits) and extended request id headers."""
    return [
        ("x-amz-request-id", request.request_id.replace("-", "").upper()[:16]),
        ("x-amz-id-2", base64.b64encode(request.request_id.encode()).decode()),
    ]


def _json_content_type(request: AwsRequest) -> str:
    """The JSON protocol version the caller spoke, which AWS answers in."""
    sent = request.headers.get("content-type", "")
    return sent if sent.startswith("application/x-amz-json") else "application/x-amz-json-1.1"


def error_response(request: AwsRequest, error: AwsError) -> WsgiResponse:
    """Serialise an error so that botocore raises ClientError with the right code and message."""
    if request.protocol in ("json", "rest-json"):
        document: dict[str, Any] = {"__type": error.wire_type or error.code}
        if error.message:
            document["message"] = error.message
        response = json_response(request, {**document, **error.fields}, status=error.status)
        response.headers.append(("x-amzn-ErrorType", error.code))
        if error.query_code and request.protocol == "json":
            side = "Sender" if error.status < 500 else "Receiver"
            response.headers.append(("x-amzn-query-error", f"{error.query_code};{side}"))
        return response
    message = escape(error.message)
    if request.protocol == "query":
        sender = "Sender" if error.status < 500 else "Receiver"
        body = (
            f'<ErrorResponse xmlns="{_QUERY_XMLNS}"><Error><Type>{sender}</Type>'
            f"<Code>{escape(error.code)}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request.request_id}</RequestId></ErrorResponse>"
        )
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request.request_id)]
    else:
        headers = [("Content-Type", "application/xml"), *s3_request_id_headers(request)]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(error.code)}</Code><Message>{message}</Message>"
            f"<RequestId>{headers[1][1]}</RequestId></Error>"
        )
    return WsgiResponse(status=error.status, headers=headers, body=body.encode())


def unknown_operation(request: AwsRequest) -> AwsError:
    """What AWS answers for an operation it does not route, in the caller's protocol.

    AWS's JSON front end (the one behind every ``X-Amz-Target`` service) answers a target it
    does not know with HTTP 400 and nothing but ``{"__type":
    "com.amazon.coral.service#UnknownOperationException"}``: SDK issues show exactly this from
    CloudWatch Logs, Identity Store, OpsWorks and AppSync, and botocore reports it as
    UnknownOperationException. AWS's "common errors" pages name InvalidAction instead, but
    that is the query protocol's answer (``Action=`` unknown), which query services keep.
    REST-JSON services answer a path they do not route with 404 and the same code in
    ``x-amzn-ErrorType``; S3 answers NotImplemented (501), which botocore does not retry.
    Any 4xx matters: botocore retries a 500, so an unimplemented call would stall the caller
    through every retry before failing with a misleading InternalError. The body carries no
    message, as AWS's does not; the sandbox logs the operation it lacks instead.
    """
    name = request.operation or f"{request.method} {request.path}"
    if request.protocol == "query":
        return AwsError("InvalidAction", f"Could not find operation {name}.")
    if request.protocol == "rest-xml":
        return AwsError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented.",
            status=501,
        )
    status = 404 if request.protocol == "rest-json" else 400
    return AwsError(
        "UnknownOperationException", "", status, wire_type=f"{_CORAL}#UnknownOperationException"
    )


def throttling_error(request: AwsRequest) -> AwsError:
    """The throttling error of the caller's protocol, a code botocore's retries recognise.

    JSON services answer ThrottlingException (400); query services and CloudWatch, which
    keeps its query codes, Throttling (400); S3 answers SlowDown with a 503.
    """
    if request.protocol == "rest-xml":
        return AwsError("SlowDown", "Please reduce your request rate.", 503)
    if request.protocol == "query":
        return AwsError("Throttling", "Rate exceeded", 400)
    query_code = "Throttling" if request.service in _QUERY_COMPATIBLE else None
    return AwsError("ThrottlingException", "Rate exceeded", 400, query_code=query_code)


def server_error(request: AwsRequest) -> AwsError:
    """A 500 from the service itself: S3's InternalError, everyone else's InternalFailure."""
    if request.protocol == "rest-xml":
        return AwsError("InternalError", "We encountered an internal error. Please try again.", 500)
    query_code = "InternalFailure" if request.service in _QUERY_COMPATIBLE else None
    return AwsError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
        query_code=query_code,
    )
