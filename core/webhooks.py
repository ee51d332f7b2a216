"""Posting a JSON document to a notification service (a Slack-compatible webhook, the
PagerDuty Events API): one place for the request, its timeout and its refusal of anything
but http(s)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from django.conf import settings


def post_json(url: str, document: dict[str, Any]) -> int:
    """POST `document` to `url` within OPSPORTAL_WEBHOOK_TIMEOUT_SECONDS; the HTTP status.
    Raises OSError (urllib's errors are OSErrors) when it could not be delivered."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("Only http(s) URLs are posted to.")
    request = urllib.request.Request(
        url,
        data=json.dumps(document).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(
        request, timeout=settings.OPSPORTAL_WEBHOOK_TIMEOUT_SECONDS
    ) as response:
        response.read(1024)
        return int(response.status)
