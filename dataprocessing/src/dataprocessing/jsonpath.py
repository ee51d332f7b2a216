"""The JSONPath subset SageMaker batch transform accepts in InputFilter and OutputFilter.

SageMaker documents exactly these operators: ``$`` (the record), ``.name`` (a child),
``*`` (every element), ``['a','b']`` (several children), ``[i,j]`` (several indices, negative
counting from the end) and ``[start:end]`` (a slice). Its docs describe slices as
end-inclusive: ``$[1:4]`` is the second through fifth columns, which is how this engine reads
them. Anything else (recursive descent, filter expressions, slice steps) is refused with a
message naming the construct, and an expression may be at most 63 characters, as the API's
length limit says.

A CSV record is a JSON array of its column values, so only index paths make sense on it. A
path selecting several things keeps their container: names give an object with those keys,
indices, slices and ``*`` give an array. A single name or index gives the value itself.

One parser serves both sides: ``parse`` reads an expression for evaluation (``apply`` selects
from a record) and raises ``JsonPathError`` with a sentence naming the expression, as
CreateTransformJob answers; ``jsonpath_problem`` is the check a launch form makes before
anything is created: the expression parses, and for CSV input it is one index path. Its answer
is a phrase to show after the expression ("must start with $ (the record)."), because
anything refused here would otherwise be refused by CreateTransformJob or, worse, fail the job
after instances were paid for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 63

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"-?\d+")
_SLICE_STEP = re.compile(r"\[\s*-?\d*\s*:\s*-?\d*\s*:")


class JsonPathError(ValueError):
    """An expression outside the supported subset, or one that does not fit a record.

    ``str(error)`` is a sentence naming the expression. For an expression that does not parse,
    ``problem`` says the same as a phrase to show after the expression itself, as a form does
    beside the field ("must start with $ (the record)."); otherwise it is the sentence too.
    """

    def __init__(self, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem if problem is not None else message


@dataclass(frozen=True)
class Name:
    """``.name`` or ``['name']``: one child of an object."""

    name: str


@dataclass(frozen=True)
class Names:
    """``['a','b']``: an object holding just these children."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    """``[i]``: one element of an array."""

    index: int


@dataclass(frozen=True)
class Indices:
    """``[i,j]``: an array of these elements."""

    indices: tuple[int, ...]


@dataclass(frozen=True)
class Slice:
    """``[start:end]``, both ends included; either may be omitted."""

    start: int | None
    end: int | None


@dataclass(frozen=True)
class Wildcard:
    """``*`` or ``[*]``: every element of an array, or every value of an object.

    ``dotted`` records the ``.*`` spelling: a child step, so not one of the index paths a CSV
    record takes (``[*]`` is).
    """

    dotted: bool = False


Segment = Name | Names | Index | Indices | Slice | Wildcard


@dataclass(frozen=True)
class JsonPath:
    """A parsed expression; ``apply`` selects from one record."""

    expression: str
    segments: tuple[Segment, ...]

    @property
    def is_identity(self) -> bool:
        return not self.segments

    @property
    def index_only(self) -> bool:
        """Whether the path is written with index paths only (``[i,j]``, ``[start:end]``,
        ``[*]``), never naming a child: the only kind a CSV record (an array) takes."""
        return not any(
            isinstance(s, Name | Names) or (isinstance(s, Wildcard) and s.dotted)
            for s in self.segments
        )

    def apply(self, record: Any) -> Any:
        """The selection from ``record``; JsonPathError when the record lacks what is named."""
        return _select(record, self.segments, self.expression)


IDENTITY = JsonPath("$", ())


def jsonpath_problem(expression: str, *, csv: bool) -> str | None:
    """Why ``expression`` cannot be an InputFilter or OutputFilter, or None when it is fine.

    Empty means "not set" and is fine. ``csv`` says the records are CSV rows: arrays, so the
    path must be one index path. The answer is a phrase to follow the expression.
    """
    if not expression:
        return None
    try:
        path = parse(expression)
    except JsonPathError as error:
        return error.problem
    if csv and not path.index_only:
        return "selects by name, but CSV records are arrays: use index paths such as $[1:]."
    if csv and len(path.segments) > 1:
        return "nests index paths, but a CSV record is a flat array: use one, e.g. $[0,-1]."
    return None


def parse(expression: str) -> JsonPath:
    """Parse an InputFilter or OutputFilter, refusing anything SageMaker does not support."""
    if not isinstance(expression, str) or not expression:
        raise JsonPathError("A JSONPath expression cannot be empty; use $ for the whole record.")
    if len(expression) > MAX_LENGTH:
        raise JsonPathError(
            f"The JSONPath expression {expression!r} is {len(expression)} characters long; "
            f"the maximum is {MAX_LENGTH}.",
            f"is {len(expression)} characters; SageMaker allows at most {MAX_LENGTH}.",
        )
    if not expression.startswith("$"):
        raise JsonPathError(
            f"The JSONPath expression {expression!r} must start with $.",
            "must start with $ (the record).",
        )
    segments: list[Segment] = []
    position = 1
    while position < len(expression):
        char = expression[position]
        if expression.startswith("..", position):
            raise _unsupported(expression, position, "recursive descent (..)", segment=position)
        if char == ".":
            position, segment = _dotted(expression, position + 1)
        elif char == "[":
            position, segment = _bracketed(expression, position + 1)
        else:
            raise _unsupported(expression, position, f"the character {char!r}", segment=position)
        segments.append(segment)
    return JsonPath(expression, tuple(segments))


def _unsupported(expression: str, position: int, what: str, *, segment: int) -> JsonPathError:
    """The refusal of ``what`` at ``position``, in the segment starting at ``segment``."""
    return JsonPathError(
        f"The JSONPath expression {expression!r} uses {what} at position {position + 1}; "
        "SageMaker supports only $, .name, *, ['a','b'], [i,j] and [start:end].",
        _problem(expression, segment),
    )


def _problem(expression: str, segment: int) -> str:
    """What a form says of an expression that does not parse from the segment starting at
    ``segment`` (its ``.`` or ``[``) on. The constructs SageMaker leaves out are named
    wherever they appear, being the likelier reason the path was written as it is: recursive
    descent, then a filter or script (``?(...)``, ``(...)``, ``@``), then a slice step."""
    rest = expression[segment:]
    if ".." in expression:
        return "uses recursive descent (..), which SageMaker does not support."
    if "?" in expression or "@" in expression or "(" in expression:
        return "uses a filter or script expression, which SageMaker does not support."
    if _SLICE_STEP.match(rest):
        return "uses a slice step, which SageMaker does not support."
    return f"has an unsupported construct at {rest!r}."


def _dotted(expression: str, position: int) -> tuple[int, Segment]:
    if expression.startswith("*", position):
        return position + 1, Wildcard(dotted=True)
    match = _IDENTIFIER.match(expression, position)
    if match is None:
        raise _unsupported(expression, position, "a '.' without a child name", segment=position - 1)
    return match.end(), Name(match.group())


def _bracketed(expression: str, position: int) -> tuple[int, Segment]:
    opening = position - 1
    close = expression.find("]", position)
    if close < 0:
        raise JsonPathError(
            f"The JSONPath expression {expression!r} has an unclosed '['.",
            _problem(expression, opening),
        )
    body = expression[position:close].strip()
    after = close + 1
    if body == "*":
        return after, Wildcard()
    if body.startswith(("?", "(")):
        raise _unsupported(expression, position, "a filter or script expression", segment=opening)
    if body.startswith(("'", '"')):
        return after, _names(expression, position, body)
    if ":" in body:
        return after, _slice(expression, position, body)
    parts = [part.strip() for part in body.split(",")]
    if not all(_INTEGER.fullmatch(part) for part in parts):
        raise _unsupported(expression, position, f"the subscript [{body}]", segment=opening)
    indices = tuple(int(part) for part in parts)
    return after, Index(indices[0]) if len(indices) == 1 else Indices(indices)


def _names(expression: str, position: int, body: str) -> Segment:
    names: list[str] = []
    rest = body
    while True:
        quote = rest[:1]
        end = rest.find(quote, 1) if quote in ("'", '"') else -1
        if end < 0:
            raise _unsupported(
                expression, position, f"the subscript [{body}]", segment=position - 1
            )
        names.append(rest[1:end])
        rest = rest[end + 1 :].strip()
        if not rest:
            break
        if not rest.startswith(","):
            raise _unsupported(
                expression, position, f"the subscript [{body}]", segment=position - 1
            )
        rest = rest[1:].strip()
    return Name(names[0]) if len(names) == 1 else Names(tuple(names))


def _slice(expression: str, position: int, body: str) -> Slice:
    parts = [part.strip() for part in body.split(":")]
    if len(parts) > 2:
        raise _unsupported(expression, position, "a slice step", segment=position - 1)
    bounds = []
    for part in parts:
        if part and not _INTEGER.fullmatch(part):
            raise _unsupported(expression, position, f"the slice [{body}]", segment=position - 1)
        bounds.append(int(part) if part else None)
    return Slice(bounds[0], bounds[1])


def _select(value: Any, segments: Sequence[Segment], expression: str) -> Any:
    if not segments:
        return value
    segment, rest = segments[0], segments[1:]
    if isinstance(segment, Name | Names):
        if not isinstance(value, dict):
            raise JsonPathError(
                f"{expression} selects a field by name, but the record is "
                f"{_kind(value)}; CSV records are arrays, so use index paths such as $[0]."
            )
        if isinstance(segment, Name):
            return _select(_child(value, segment.name, expression), rest, expression)
        return {n: _select(_child(value, n, expression), rest, expression) for n in segment.names}
    if isinstance(segment, Wildcard):
        if isinstance(value, dict):
            return [_select(v, rest, expression) for v in value.values()]
        if isinstance(value, list):
            return [_select(v, rest, expression) for v in value]
        raise JsonPathError(f"{expression} applies * to {_kind(value)}.")
    if not isinstance(value, list):
        raise JsonPathError(f"{expression} selects by index, but the record is {_kind(value)}.")
    if isinstance(segment, Index):
        return _select(_element(value, segment.index, expression), rest, expression)
    if isinstance(segment, Indices):
        picked = [_element(value, i, expression) for i in segment.indices]
    else:
        picked = value[_inclusive(segment, len(value))]
    # The common CSV filters end here; skip a no-op call per element on wide rows.
    return [_select(v, rest, expression) for v in picked] if rest else picked


def _inclusive(segment: Slice, length: int) -> slice:
    """The Python slice for an end-inclusive [start:end] over ``length`` elements."""
    start = segment.start
    if start is not None and start < 0:
        start = max(0, start + length)
    if segment.end is None:
        return slice(start, None)
    end = segment.end + length if segment.end < 0 else segment.end
    return slice(start, max(0, end + 1))


def _child(value: dict[str, Any], name: str, expression: str) -> Any:
    if name not in value:
        raise JsonPathError(f"{expression} selects the field {name!r}, which the record lacks.")
    return value[name]


def _element(value: list[Any], index: int, expression: str) -> Any:
    if not -len(value) <= index < len(value):
        raise JsonPathError(
            f"{expression} selects index {index}, but the record has {len(value)} values."
        )
    return value[index]


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__} value"
