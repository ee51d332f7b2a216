"""Values under secret-looking names (a password, a token, an API key in a batch job's
environment or a CloudTrail request) are never shown, searched or audited as they are."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"

SECRET_NAME = re.compile(
    r"passw(or)?d|passphrase|secret|token|credential|authorization|api_?key|private_?key",
    re.IGNORECASE,
)


def is_secret_name(name: object) -> bool:
    return bool(SECRET_NAME.search(str(name)))


def redact(value: Any) -> Any:
    """A copy of `value` in which every mapping entry under a secret-looking key reads
    REDACTED, at any depth."""
    if isinstance(value, dict):
        return {
            key: REDACTED if is_secret_name(key) else redact(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value
