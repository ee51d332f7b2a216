"""`Idempotency-Key` on POSTs: the first response under a key is kept (in the cache, a
day) and a retry with the same key and body gets it again without running the service,
so a client that lost the answer to "propose" or "launch" can retry safely. The same key
with another body is refused (422); a retry while the first is still running gets 409."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from core.api.problems import problem

HEADER = "Idempotency-Key"
KEEP_SECONDS = 24 * 3600
RUNNING_SECONDS = 120
MAX_KEY = 255


def _fingerprint(request: HttpRequest) -> str:
    return hashlib.sha256(
        (request.method or "").encode() + request.path.encode() + request.body
    ).hexdigest()


def idempotent(request: HttpRequest, run: Callable[[], HttpResponse]) -> HttpResponse:
    """Run `run` once per (user, key); without the header, just run it."""
    key = request.headers.get(HEADER, "")
    if not key:
        return run()
    if len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        return problem(
            400,
            f"The Idempotency-Key must be at most {MAX_KEY} printable ASCII characters.",
            errors={HEADER: ["Use a UUID or another short unique string."]},
        )
    user_id = getattr(request.user, "pk", None)
    scope = hashlib.sha256(f"{user_id}:{key}".encode()).hexdigest()
    stored_key, running_key = f"api-idem:{scope}", f"api-idem-running:{scope}"
    fingerprint = _fingerprint(request)
    stored = cache.get(stored_key)
    if stored is None:
        if not cache.add(running_key, fingerprint, timeout=RUNNING_SECONDS):
            return problem(409, "A request with this Idempotency-Key is still being processed.")
        try:
            response = run()
            if response.status_code < 500:
                cache.set(
                    stored_key,
                    {
                        "fingerprint": fingerprint,
                        "status": response.status_code,
                        "content_type": response["Content-Type"],
                        "body": response.content.decode(),
                    },
                    timeout=KEEP_SECONDS,
                )
            return response
        finally:
            cache.delete(running_key)
    if stored["fingerprint"] != fingerprint:
        return problem(
            422,
            "This Idempotency-Key was used with a different request; use a new key.",
            errors={HEADER: ["Already used for another request body."]},
        )
    replay = HttpResponse(
        stored["body"].encode(), status=stored["status"], content_type=stored["content_type"]
    )
    replay["Idempotent-Replayed"] = "true"
    return replay


def json_response(body: object, *, status: int = 200) -> HttpResponse:
    """The JSON a route answers with, as a response the idempotency store can keep."""
    return HttpResponse(
        json.dumps(body, default=str), status=status, content_type="application/json"
    )


# The header as the OpenAPI schema shows it on each POST that honours it.
OPENAPI_EXTRA = {
    "parameters": [
        {
            "name": HEADER,
            "in": "header",
            "required": False,
            "description": "Retrying with the same key and body returns the first response.",
            "schema": {"type": "string", "maxLength": MAX_KEY},
        }
    ]
}
