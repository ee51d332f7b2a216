"""The JSONPath subset of SageMaker's DataProcessing: operators, indices, slices, refusals,
and the validation a launch form makes with the same parser."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dataprocessing.jsonpath import JsonPathError, jsonpath_problem, parse

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


# --- validation: the launch form's InputFilter/OutputFilter check ------------------------------


@pytest.mark.parametrize(
    "expression",
    ["", "$", "$[1:]", "$[0,-1]", "$[-1]", "$[1:4]", "$[:3]", "$[*]", "$[ 0 , -2 ]"],
)
def test_index_paths_are_accepted_for_csv(expression):
    assert jsonpath_problem(expression, csv=True) is None


@pytest.mark.parametrize(
    "expression", ["$.features", "$.a.b", "$.*", "$['id','features']", "$.data[0]", "$[0,1]"]
)
def test_json_paths_are_accepted_for_json(expression):
    assert jsonpath_problem(expression, csv=False) is None


@pytest.mark.parametrize(
    ("expression", "csv", "why"),
    [
        ("$..id", False, "recursive descent"),
        ("$[?(@.a > 1)]", False, "filter"),
        ("$[1:4:2]", True, "slice step"),
        ("features", False, "must start with $"),
        ("$[x]", True, "unsupported construct"),
        ("$.id", True, "CSV records are arrays"),
        ("$['id']", True, "CSV records are arrays"),
        ("$[0][1]", True, "flat array"),
        ("$[" + ",".join(["1"] * 40) + "]", True, "at most 63"),
        ("$.a b", False, "unsupported construct"),
    ],
)
def test_expressions_outside_the_subset_are_refused(expression, csv, why):
    problem = jsonpath_problem(expression, csv=csv)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    ("expression", "csv", "problem"),
    [
        ("features", False, "must start with $ (the record)."),
        ("$[x]", True, "has an unsupported construct at '[x]'."),
        ("$.a b", False, "has an unsupported construct at ' b'."),
        ("$[0", False, "has an unsupported construct at '[0'."),
        ("$.", False, "has an unsupported construct at '.'."),
        ("$[0]..a", False, "uses recursive descent (..), which SageMaker does not support."),
        ("$.a(b)", False, "uses a filter or script expression, which SageMaker does not support."),
        ("$[0:10:2]", True, "uses a slice step, which SageMaker does not support."),
        ("$" + "[0]" * 21, False, "is 64 characters; SageMaker allows at most 63."),
        (
            "$.*",
            True,
            "selects by name, but CSV records are arrays: use index paths such as $[1:].",
        ),
        (
            "$[1:][0]",
            True,
            "nests index paths, but a CSV record is a flat array: use one, e.g. $[0,-1].",
        ),
    ],
)
def test_the_form_says_why_in_a_phrase_after_the_expression(
    expression: str, csv: bool, problem: str
) -> None:
    assert jsonpath_problem(expression, csv=csv) == problem


@pytest.mark.parametrize(
    "expression",
    ["$", "$[0,-1]", "$[1:4]", "$.features[1:]", "$['id','features']", '$["meta"]', "$[*].day"],
)
def test_the_form_accepts_what_a_transform_runs(expression: str) -> None:
    assert jsonpath_problem(expression, csv=False) is None
    assert parse(expression).expression == expression


@pytest.mark.parametrize("expression", ["$..price", "$[?(@.a > 1)]", "$[0:10:2]", "$[a]", "$["])
def test_what_a_transform_refuses_the_form_refuses_with_the_same_reason(expression: str) -> None:
    with pytest.raises(JsonPathError) as raised:
        parse(expression)
    assert jsonpath_problem(expression, csv=False) == raised.value.problem


def test_a_dotted_wildcard_is_a_child_step_so_not_an_index_path() -> None:
    assert not parse("$.*").index_only
    assert parse("$[*]").index_only
    assert parse("$.*").apply(["a", "b"]) == parse("$[*]").apply(["a", "b"]) == ["a", "b"]
