"""The JSONPath subset of SageMaker's DataProcessing: operators, indices, slices, refusals."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandbox.jsonpath import JsonPathError, parse

ROW = ["id-7", "a", "b", "c", "d", "e", "0.93"]
DOCUMENT = {"id": 7, "features": [1.0, 2.0, 3.0], "meta": {"source": "web", "day": 3}}


@pytest.mark.parametrize(
    ("expression", "record", "expected"),
    [
        ("$", ROW, ROW),
        ("$[0]", ROW, "id-7"),
        ("$[0,-1]", ROW, ["id-7", "0.93"]),
        ("$[-1]", ROW, "0.93"),
        ("$[-2,-1]", ROW, ["e", "0.93"]),
        ("$[1:]", ROW, ROW[1:]),
        ("$[1:4]", ROW, ["a", "b", "c", "d"]),
        ("$[:1]", ROW, ["id-7", "a"]),
        ("$[-3:-1]", ROW, ["d", "e", "0.93"]),
        ("$[2:2]", ROW, ["b"]),
        ("$[5:100]", ROW, ["e", "0.93"]),
        ("$[*]", ROW, ROW),
        ("$.id", DOCUMENT, 7),
        ("$.features[0]", DOCUMENT, 1.0),
        ("$.features[1:]", DOCUMENT, [2.0, 3.0]),
        ("$['id','features']", DOCUMENT, {"id": 7, "features": [1.0, 2.0, 3.0]}),
        ('$["meta"]', DOCUMENT, {"source": "web", "day": 3}),
        ("$.meta.*", DOCUMENT, ["web", 3]),
        ("$[*].day", [{"day": 1}, {"day": 2}], [1, 2]),
    ],
)
def test_supported_operators(expression: str, record: Any, expected: Any) -> None:
    assert parse(expression).apply(record) == expected


def test_slices_include_their_end_as_the_docs_describe() -> None:
    columns = [f"c{i}" for i in range(1, 11)]
    assert parse("$[1:4]").apply(columns) == ["c2", "c3", "c4", "c5"]


@pytest.mark.parametrize(
    ("expression", "complaint"),
    [
        ("", "empty"),
        ("features", "must start with $"),
        ("$..price", "recursive descent"),
        ("$[?(@.a > 1)]", "filter or script"),
        ("$[(@.length-1)]", "filter or script"),
        ("$[0:10:2]", "slice step"),
        ("$[a]", "subscript"),
        ("$[0", "unclosed"),
        ("$.", "without a child name"),
        ("$ [0]", "character ' '"),
        ("$['a'", "unclosed"),
        ("$['" + "a" * 59 + "']", "64 characters long; the maximum is 63"),
    ],
)
def test_anything_else_is_refused_with_a_reason(expression: str, complaint: str) -> None:
    with pytest.raises(JsonPathError, match="(?i)" + re.escape(complaint)):
        parse(expression)


def test_63_characters_is_still_allowed() -> None:
    name = "a" * 58
    path = parse(f"$['{name}']")
    assert len(path.expression) == 63
    assert path.apply({name: 1}) == 1


def test_names_need_an_object_and_indices_need_an_array() -> None:
    with pytest.raises(JsonPathError, match="CSV records are arrays"):
        parse("$.id").apply(ROW)
    with pytest.raises(JsonPathError, match="by index"):
        parse("$[0]").apply(DOCUMENT)
    with pytest.raises(JsonPathError, match="index 9, but the record has 7 values"):
        parse("$[0,9]").apply(ROW)
    with pytest.raises(JsonPathError, match="lacks"):
        parse("$.missing").apply(DOCUMENT)


def test_index_only_paths_are_the_ones_csv_accepts() -> None:
    assert parse("$[1:]").index_only
    assert parse("$[0,-1]").index_only
    assert not parse("$.features").index_only
