"""What every log line carries besides its message: the id of the request it was written
for, and, with OPSPORTAL_LOG_FORMAT=json, one JSON object per line.

The request id is the one `RequestIdMiddleware` gives each request and echoes in
`X-Request-ID`; it lives in a context variable, so a line logged deep in a service (or
in a thread the request started with the context copied) still names its request, and
a user's report, the log line and the audit row can be matched. Lines written outside a
request (Celery, commands) carry "-".
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

NO_REQUEST = "-"

request_id_var: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)


class RequestIdFilter(logging.Filter):
    """Puts the request id on every record as `request_id` (handlers' filter). Django logs
    a 4xx or 5xx answer after the middleware has returned, with the request attached: its
    id is taken from there."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, request_id,
    and whatever `extra` a call passed; an exception's traceback as `exc_info`."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )
