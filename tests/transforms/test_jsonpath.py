"""The InputFilter/OutputFilter validator accepts SageMaker's JSONPath subset only."""

from __future__ import annotations

import pytest

from transforms.jsonpath import jsonpath_problem


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
