"""Validation of InputFilter/OutputFilter against the JSONPath subset SageMaker accepts.

SageMaker documents `$`, `.name`, `*`, `['a','b']`, `[i,j]` (negative indices allowed) and
`[start:end]`, at most 63 characters. Anything else is refused by CreateTransformJob or,
worse, fails the job after instances were paid for, so the form refuses it first. CSV
records are JSON arrays, so for CSV only index paths (`$`, `[i,j]`, `[start:end]`, `[*]`)
make sense.
"""

from __future__ import annotations

import re

MAX_LENGTH = 63

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_QUOTED = r"'[^'\\]+'"
_INT = r"-?\d+"
_SEGMENTS = {
    "child": re.compile(rf"\.({_NAME}|\*)"),
    "names": re.compile(rf"\[\s*{_QUOTED}(\s*,\s*{_QUOTED})*\s*\]"),
    "wildcard": re.compile(r"\[\s*\*\s*\]"),
    "indices": re.compile(rf"\[\s*{_INT}(\s*,\s*{_INT})*\s*\]"),
    "slice": re.compile(rf"\[\s*({_INT})?\s*:\s*({_INT})?\s*\]"),
}
_INDEX_KINDS = {"wildcard", "indices", "slice"}


def jsonpath_problem(expression: str, *, csv: bool) -> str | None:
    """Why `expression` is outside the supported subset, or None when it is fine."""
    if not expression:
        return None
    if len(expression) > MAX_LENGTH:
        return f"is {len(expression)} characters; SageMaker allows at most {MAX_LENGTH}."
    if not expression.startswith("$"):
        return "must start with $ (the record)."
    if ".." in expression:
        return "uses recursive descent (..), which SageMaker does not support."
    if "?" in expression or "@" in expression or "(" in expression:
        return "uses a filter or script expression, which SageMaker does not support."
    position = 1
    kinds: list[str] = []
    while position < len(expression):
        for kind, pattern in _SEGMENTS.items():
            match = pattern.match(expression, position)
            if match:
                kinds.append(kind)
                position = match.end()
                break
        else:
            rest = expression[position:]
            if re.match(r"\[\s*-?\d*\s*:\s*-?\d*\s*:", rest):
                return "uses a slice step, which SageMaker does not support."
            return f"has an unsupported construct at {rest!r}."
    if csv and any(kind not in _INDEX_KINDS for kind in kinds):
        return "selects by name, but CSV records are arrays: use index paths such as $[1:]."
    if csv and len(kinds) > 1:
        return "nests index paths, but a CSV record is a flat array: use one, e.g. $[0,-1]."
    return None
