"""A CloudTrail call's request parameters as a person reads them.

CloudTrail records each request as AWS's JSON (`desiredWeightsAndCapacities: [{"variantName":
"A", "desiredWeight": 0.5}]`). The API calls tab shows them as words and one line per item
("A: desired weight 0.5"), so who-changed-what reads at a glance; the event's page keeps the
JSON as it came.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Keys that name an item in a list, shown first and without their own label.
_NAME_KEYS = ("variantName", "VariantName", "name", "Name", "key", "Key")
_MAX_LINES = 10
_MAX_CHARS = 300


@dataclass(frozen=True)
class Parameter:
    label: str
    lines: list[str]


def words(key: str) -> str:
    """`desiredInstanceCount` → "desired instance count"; `KmsKeyId` → "kms key id"."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", key)
    return spaced.replace("_", " ").lower().strip() or key


def _short(text: str) -> str:
    return text if len(text) <= _MAX_CHARS else text[: _MAX_CHARS - 1] + "…"


def _scalar(value: object) -> str:
    """A value inside a line: nested objects in words too, in parentheses."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "–"
    if isinstance(value, dict):
        return "(" + ", ".join(f"{words(str(k))} {_scalar(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list):
        return ", ".join(_scalar(item) for item in value) or "none"
    return str(value)


def _mapping(value: dict[str, object]) -> str:
    """One item: its name first, then each other field as "words value"."""
    name = next((str(value[k]) for k in _NAME_KEYS if k in value), None)
    fields = ", ".join(
        f"{words(str(k))} {_scalar(v)}" for k, v in value.items() if k not in _NAME_KEYS
    )
    if name is None:
        return fields
    return f"{name}: {fields}" if fields else name


def _lines(value: object) -> list[str]:
    if isinstance(value, dict):
        return [_mapping(value)]
    if isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            return [", ".join(_scalar(item) for item in value)] if value else ["none"]
        lines = [_mapping(item) if isinstance(item, dict) else _scalar(item) for item in value]
        if len(lines) > _MAX_LINES:
            return lines[: _MAX_LINES - 1] + [f"… and {len(lines) - _MAX_LINES + 1} more"]
        return lines
    return [_scalar(value)]


def readable_parameters(params: object, *, leave_out: tuple[str, ...] = ()) -> list[Parameter]:
    """Each request parameter as a label and its lines, in the order AWS sent them;
    `leave_out` names parameters the page already shows (the endpoint's own name)."""
    if not isinstance(params, dict):
        return [Parameter(label="request", lines=[_short(_scalar(params))])] if params else []
    return [
        Parameter(label=words(str(key)), lines=[_short(line) for line in _lines(value)])
        for key, value in params.items()
        if key not in leave_out
    ]
