"""The data-quality engine: Model Monitor's documents, checks, distances and capture files."""

from __future__ import annotations

import base64
import json
import random
import tracemalloc
from collections.abc import Iterator

import pytest

import dataquality as quality
from dataquality import (
    BASELINE_DRIFT_CHECK,
    CATEGORICAL_VALUES_CHECK,
    COMPLETENESS_CHECK,
    DATA_TYPE_CHECK,
    EXTRA_COLUMN_CHECK,
    MISSING_COLUMN_CHECK,
    CaptureCounts,
    Violation,
    baseline_from_csv,
    check,
    compare_distribution,
    drift_metrics,
    feature_distribution,
    parse_constraints,
    parse_statistics,
    parse_violations,
    profile,
    rows_from_capture,
    suggest_constraints,
)
from dataquality.sketch import FrequentValues, HyperLogLog, KllSketch

# --- helpers ---------------------------------------------------------------------------------


def column(values: list[str | None]) -> list[list[str | None]]:
    return [[value] for value in values]


def feature(statistics: dict, name: str) -> dict:
    return next(f for f in statistics["features"] if f["name"] == name)


def baseline_of(values: list[str | None], name: str = "x") -> tuple[dict, dict]:
    statistics = profile(rows=column(values), columns=[name])
    return statistics, suggest_constraints(statistics=statistics)


def simple(constraints: dict) -> dict:
    """The same constraints judged without the small-sample allowance."""
    constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Simple"
    return constraints


def run(values: list[str | None], statistics: dict, constraints: dict, name: str = "x"):
    return check(
        rows=column(values), columns=[name], baseline_statistics=statistics, constraints=constraints
    )


def kinds(result: quality.CheckResult) -> list[tuple[str, str]]:
    return [(v.feature_name, v.constraint_check_type) for v in result.violations]


TENS = [str(i) for i in range(10)]


# --- profile: types and statistics ------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-2", "+3", " 4 "], "Integral"),
        (["1", "2.5", "1e3"], "Fractional"),
        (["1.0", "2"], "Fractional"),
        (["1", "two"], "String"),
        (["1", "1_000"], "String"),
        (["1.5", "nan"], "String"),
        (["1.5", "inf"], "String"),
        (["1", "   "], "String"),
        ([None, ""], "Unknown"),
    ],
)
def test_inferred_type_follows_every_present_value(values, expected):
    statistics = profile(rows=column(values), columns=["x"])
    assert feature(statistics, "x")["inferred_type"] == expected


def test_numeric_statistics_are_exact_and_buckets_cut_at_ten_equal_widths():
    statistics = profile(rows=column([*TENS, "", None]), columns=["x"])
    assert statistics["version"] == 0.0
    assert statistics["dataset"] == {"item_count": 12}
    numeric = feature(statistics, "x")["numerical_statistics"]
    assert numeric["common"] == {"num_present": 10, "num_missing": 2}
    assert (numeric["mean"], numeric["sum"], numeric["min"], numeric["max"]) == (4.5, 45, 0, 9)
    assert numeric["std_dev"] == pytest.approx(8.25**0.5)  # population standard deviation
    buckets = numeric["distribution"]["kll"]["buckets"]
    assert len(buckets) == 10
    assert [b["count"] for b in buckets] == [1] * 10
    assert buckets[0]["lower_bound"] == 0 and buckets[-1]["upper_bound"] == 9
    assert all(
        a["upper_bound"] == b["lower_bound"] for a, b in zip(buckets, buckets[1:], strict=False)
    )
    assert "sketch" not in numeric["distribution"]["kll"]
    json.dumps(statistics, allow_nan=False)


def test_a_value_on_an_edge_belongs_to_the_bucket_above_and_the_maximum_to_the_last():
    # Edges 0, 1, ..., 10: the values 1 and 10 sit exactly on edges.
    statistics = profile(rows=column(["0", "1", "1", "10"]), columns=["x"])
    counts = [
        b["count"]
        for b in feature(statistics, "x")["numerical_statistics"]["distribution"]["kll"]["buckets"]
    ]
    assert counts == [1, 2, 0, 0, 0, 0, 0, 0, 0, 1]


def test_a_constant_column_has_zero_width_buckets_holding_everything_in_the_last():
    statistics = profile(rows=column(["5", "5", "5"]), columns=["x"])
    numeric = feature(statistics, "x")["numerical_statistics"]
    buckets = numeric["distribution"]["kll"]["buckets"]
    assert {(b["lower_bound"], b["upper_bound"]) for b in buckets} == {(5, 5)}
    assert [b["count"] for b in buckets] == [0] * 9 + [3]
    assert numeric["std_dev"] == 0


def test_a_constant_column_compared_with_itself_has_no_drift():
    statistics, constraints = baseline_of(["5"] * 4)
    assert run(["5"] * 6, statistics, constraints).drift == {"x": 0.0}
    assert drift_metrics(baseline_statistics=statistics, current_statistics=statistics) == {
        "x": 0.0
    }
    # A quarter below the value and a quarter above it.
    assert run(["5", "5", "6", "4"], statistics, simple(constraints)).drift == {"x": 0.25}


def test_string_statistics_count_values_most_frequent_first():
    statistics = profile(rows=column(["b", "a", "b", "c", "b", "a", None]), columns=["x"])
    text = feature(statistics, "x")["string_statistics"]
    assert text["common"] == {"num_present": 6, "num_missing": 1}
    assert text["distinct_count"] == 3
    assert text["distribution"]["categorical"]["buckets"] == [
        {"value": "b", "count": 3},
        {"value": "a", "count": 2},
        {"value": "c", "count": 1},
    ]


def test_sketch_is_included_on_request_in_model_monitors_shape():
    statistics = profile(rows=column(TENS), columns=["x"], include_sketch=True)
    sketch = feature(statistics, "x")["numerical_statistics"]["distribution"]["kll"]["sketch"]
    assert sketch["parameters"] == {"c": 0.64, "k": 2048.0}
    assert sorted(sketch["data"][0]) == [float(v) for v in TENS]


def test_ragged_rows_short_cells_are_missing_and_wide_cells_get_positional_names():
    statistics = profile(rows=[["1", "a"], ["2"], ["3", "b", "x"]], columns=["n", "s"])
    assert [f["name"] for f in statistics["features"]] == ["n", "s", "_c2"]
    assert feature(statistics, "s")["string_statistics"]["common"] == {
        "num_present": 2,
        "num_missing": 1,
    }
    assert feature(statistics, "_c2")["string_statistics"]["common"] == {
        "num_present": 1,
        "num_missing": 2,
    }


def test_a_column_that_looks_numeric_then_turns_to_text_reports_a_lower_bound_of_values():
    values = [str(i) for i in range(1500)] + ["oops"]
    text = feature(profile(rows=column(values), columns=["x"]), "x")["string_statistics"]
    assert text["distinct_count"] > quality.DOMAIN_MAX_VALUES  # a lower bound, and no domain
    assert {"value": "oops", "count": 1} in text["distribution"]["categorical"]["buckets"]


def test_high_cardinality_text_keeps_a_bounded_list_and_estimates_distinct_values():
    values = [f"id-{i}" for i in range(20_000)] + ["hot"] * 5_000
    text = feature(profile(rows=column(values), columns=["x"]), "x")["string_statistics"]
    buckets = text["distribution"]["categorical"]["buckets"]
    assert len(buckets) <= quality.CATEGORY_LIMIT
    assert buckets[0]["value"] == "hot"
    assert 5_000 - 25_000 / quality.CATEGORY_LIMIT <= buckets[0]["count"] <= 5_000
    assert text["distinct_count"] == pytest.approx(20_001, rel=0.05)


def test_profile_streams_with_memory_independent_of_the_row_count():
    def rows(count: int) -> Iterator[list[str]]:
        generator = random.Random(3)
        for _ in range(count):
            yield [repr(generator.gauss(50.0, 10.0))]

    tracemalloc.start()
    try:
        statistics = profile(rows=rows(100_000), columns=["x"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 100,000 cells of ~18 characters would take over 7 MB held as a list of strings.
    assert peak < 2_000_000
    numeric = feature(statistics, "x")["numerical_statistics"]
    assert numeric["mean"] == pytest.approx(50.0, abs=0.1)
    assert sum(b["count"] for b in numeric["distribution"]["kll"]["buckets"]) == 100_000


# --- suggested constraints ---------------------------------------------------------------------


def test_suggested_constraints_carry_type_completeness_sign_and_small_domains():
    rows = [
        [str(i % 7 - 1), "red" if i % 3 else "blue", f"user-{i}", "" if i % 4 == 0 else "1.5"]
        for i in range(40)
    ]
    statistics = profile(rows=rows, columns=["n", "color", "user", "score"])
    constraints = suggest_constraints(statistics=statistics)
    assert constraints["version"] == 0.0
    assert constraints["monitoring_config"] == quality.default_monitoring_config()
    by_name = {f["name"]: f for f in constraints["features"]}
    assert by_name["n"] == {
        "name": "n",
        "inferred_type": "Integral",
        "completeness": 1.0,
        "num_constraints": {"is_non_negative": False},
    }
    assert by_name["color"]["string_constraints"] == {"domains": ["blue", "red"]}
    assert "string_constraints" not in by_name["user"]  # every value once: no category
    assert by_name["score"]["completeness"] == 0.75
    assert by_name["score"]["num_constraints"] == {"is_non_negative": True}


def test_baseline_from_csv_reads_a_header_or_names_columns_by_position():
    lines = ["a,b\n", "1,x\n", "\n", '2,"y, z"\n']
    statistics, constraints = baseline_from_csv(lines=lines)
    assert [f["name"] for f in statistics["features"]] == ["a", "b"]
    assert statistics["dataset"]["item_count"] == 2
    assert {"value": "y, z", "count": 1} in feature(statistics, "b")["string_statistics"][
        "distribution"
    ]["categorical"]["buckets"]
    assert [f["name"] for f in constraints["features"]] == ["a", "b"]

    statistics, _ = baseline_from_csv(lines=["1,x\n", "2,y\n"], header=False)
    assert [f["name"] for f in statistics["features"]] == ["_c0", "_c1"]
    statistics, _ = baseline_from_csv(lines=["h1,h2\n", "1,x\n"], columns=["p", "q"])
    assert [f["name"] for f in statistics["features"]] == ["p", "q"]
    assert statistics["dataset"]["item_count"] == 1


# --- the checks, at their thresholds ----------------------------------------------------------


def test_same_data_round_trip_has_no_violations():
    values = [*TENS, "", "3.5"]
    statistics, constraints = baseline_of(values)
    result = run(values, statistics, constraints)
    assert result.violations == []
    assert result.drift == {"x": 0.0}
    assert result.violations_document() == {"violations": []}


def test_completeness_below_the_constraint_is_a_violation_and_equal_is_not():
    statistics, constraints = baseline_of(["1"] * 9 + [""])  # completeness 0.9
    assert constraints["features"][0]["completeness"] == 0.9
    assert run(["1"] * 18 + ["", ""], statistics, constraints).violations == []
    result = run(["1"] * 17 + ["", "", ""], statistics, constraints)
    assert result.violations == [
        Violation(
            "x",
            COMPLETENESS_CHECK,
            "Completeness 85.0% is below the baseline's 90% for feature 'x':"
            " 3 of 20 values are missing.",
        )
    ]


def test_a_full_baseline_flags_a_single_missing_value():
    statistics, constraints = baseline_of(TENS)
    result = run([*TENS[:9], ""], statistics, constraints)
    assert kinds(result) == [("x", COMPLETENESS_CHECK)]
    assert "Completeness 90.0% is below the baseline's 100%" in result.violations[0].description


def without_drift(constraints: dict) -> dict:
    constraints["monitoring_config"]["distribution_constraints"]["perform_comparison"] = "Disabled"
    return constraints


def test_data_type_mismatch_above_the_threshold_is_a_violation():
    statistics, constraints = baseline_of(["1", "2.5"] * 5)
    assert constraints["features"][0]["inferred_type"] == "Fractional"
    constraints = without_drift(constraints)
    # 1 of 10 not a number: exactly 0.1 passes; integers are fine for Fractional.
    assert run(["1", "2.5"] * 4 + ["1", "abc"], statistics, constraints).violations == []
    result = run(["1.5"] * 8 + ["abc", "def"], statistics, constraints)
    assert kinds(result) == [("x", DATA_TYPE_CHECK)]
    assert result.violations[0].description == (
        "Data type match 80% is below 90% for feature 'x': 20% of values are not Fractional"
        " (e.g. 'abc')."
    )
    # 1 of 9: just above 0.1.
    assert kinds(run(["1.5"] * 8 + ["abc"], statistics, constraints)) == [("x", DATA_TYPE_CHECK)]


def test_fractions_do_not_fit_an_integral_constraint():
    statistics, constraints = baseline_of(TENS)
    constraints = without_drift(constraints)
    result = run(["1", "2", "3", "4", "5", "6", "7", "2.5", "3.5", "4.5"], statistics, constraints)
    assert kinds(result) == [("x", DATA_TYPE_CHECK)]
    assert result.violations[0].description == (
        "Data type match 70% is below 90% for feature 'x': 30% of values are not Integral"
        " (e.g. '2.5')."
    )


def test_values_outside_the_domain_above_the_threshold_are_a_violation():
    statistics, constraints = baseline_of(["a", "b"] * 5)
    assert constraints["features"][0]["string_constraints"] == {"domains": ["a", "b"]}
    constraints = without_drift(constraints)
    assert run(["a", "b"] * 4 + ["a", "c"], statistics, constraints).violations == []  # 1 of 10
    result = run(["a", "b"] * 4 + ["c"], statistics, constraints)  # 1 of 9
    assert result.violations == [
        Violation(
            "x",
            CATEGORICAL_VALUES_CHECK,
            "Domain match 89% is below 90% for feature 'x': 11% of values are outside the"
            " baseline's 2 values (e.g. 'c').",
        )
    ]


def test_numeric_drift_is_the_largest_cumulative_gap_on_the_baseline_buckets():
    statistics, constraints = baseline_of(TENS)
    constraints = simple(constraints)
    # One value of ten moved above the baseline's maximum: the gap at the top edge is 0.1.
    at_threshold = run([*TENS[:9], "100"], statistics, constraints)
    assert at_threshold.drift == {"x": 0.1}
    assert at_threshold.violations == []
    # Nine values, one above the maximum: 10/10 against 8/9 below the top edge, 1/9 apart.
    above = run([*TENS[:8], "100"], statistics, constraints)
    assert above.drift == {"x": 1 / 9}
    assert above.violations == [
        Violation(
            "x",
            BASELINE_DRIFT_CHECK,
            "Baseline drift distance 0.11 exceeds threshold 0.1 for feature 'x': the current"
            " distribution moved above the baseline (baseline mean 4.5, current mean 14.22).",
        )
    ]


def test_values_below_the_baseline_minimum_count_in_an_extra_first_cell():
    statistics, constraints = baseline_of(TENS)
    result = run(["-5"] * 3 + TENS[3:], statistics, simple(constraints))
    assert result.drift == {"x": pytest.approx(0.3)}
    assert "moved below the baseline" in result.violations[0].description


def test_robust_comparison_needs_a_distance_beyond_chance_for_the_sample_sizes():
    statistics, constraints = baseline_of(TENS)
    assert (
        constraints["monitoring_config"]["distribution_constraints"]["comparison_method"]
        == "Robust"
    )
    small = run([*TENS[:8], "100"], statistics, constraints)
    assert small.drift == {"x": 1 / 9} and small.violations == []  # critical value ~0.62
    big_statistics, big_constraints = baseline_of(TENS * 100)
    big = run([*TENS[:8], "100"] * 100, big_statistics, big_constraints)
    assert kinds(big) == [("x", BASELINE_DRIFT_CHECK)]


def test_categorical_drift_is_the_largest_gap_between_value_shares():
    statistics, constraints = baseline_of(["a"] * 5 + ["b"] * 5)
    assert run(["a"] * 6 + ["b"] * 4, statistics, constraints).drift == {"x": 0.1}
    assert run(["a"] * 6 + ["b"] * 4, statistics, constraints).violations == []
    result = run(["a"] * 7 + ["b"] * 4, statistics, constraints)
    assert result.drift == {"x": 15 / 110}
    assert result.violations == [
        Violation(
            "x",
            BASELINE_DRIFT_CHECK,
            "Baseline drift distance 0.14 exceeds threshold 0.1 for feature 'x': 'a' makes up"
            " 63.6% of current values against 50.0% in the baseline.",
        )
    ]


def test_a_new_value_taking_over_is_drift_as_well_as_out_of_domain():
    statistics, constraints = baseline_of(["a"] * 5 + ["b"] * 5)
    result = run(["a"] * 5 + ["z"] * 5, statistics, constraints)
    assert result.drift == {"x": 0.5}
    assert kinds(result) == [("x", CATEGORICAL_VALUES_CHECK), ("x", BASELINE_DRIFT_CHECK)]


def test_fewer_or_more_columns_than_the_baseline():
    statistics = profile(rows=[["1", "2", "3"]] * 4, columns=["a", "b", "c"])
    constraints = suggest_constraints(statistics=statistics)
    narrow = check(
        rows=[["1", "2"]] * 4,
        columns=["a", "b", "c"],
        baseline_statistics=statistics,
        constraints=constraints,
    )
    assert narrow.violations == [
        Violation(
            "c",
            MISSING_COLUMN_CHECK,
            "Feature 'c' is in the baseline but not in the current data (baseline has 3"
            " columns, current data has 2).",
        )
    ]
    wide = check(
        rows=[["1", "2", "3", "4"]] * 4,
        columns=["a", "b", "c"],
        baseline_statistics=statistics,
        constraints=constraints,
    )
    assert kinds(wide) == [("_c3", EXTRA_COLUMN_CHECK)]
    renamed = check(
        rows=[["1", "2", "3"]] * 4,
        columns=["a", "b", "d"],
        baseline_statistics=statistics,
        constraints=constraints,
    )
    assert kinds(renamed) == [("c", MISSING_COLUMN_CHECK), ("d", EXTRA_COLUMN_CHECK)]


def test_disabled_evaluation_or_comparison_and_empty_data():
    statistics, constraints = baseline_of(TENS)
    constraints["monitoring_config"]["distribution_constraints"]["perform_comparison"] = "Disabled"
    constraints = simple(constraints)
    result = run(["100"] * 10, statistics, constraints)
    assert result.drift == {"x": 1.0} and result.violations == []
    constraints["monitoring_config"]["evaluate_constraints"] = "Disabled"
    assert run(["abc"] * 10, statistics, constraints).violations == []
    assert run([], statistics, baseline_of(TENS)[1]).violations == []


def test_per_feature_overrides_change_that_features_thresholds():
    statistics, constraints = baseline_of(["1.5"] * 10)
    constraints["features"][0]["monitoringConfigOverrides"] = {"datatype_check_threshold": 0.5}
    assert run(["1.5"] * 6 + ["x"] * 4, statistics, constraints).violations == []
    assert parse_constraints(constraints).features[0].config.datatype_check_threshold == 0.5


# --- Model Monitor's own documents ------------------------------------------------------------

EDGES = [0.0, 0.9, 1.8, 2.7, 3.6, 4.5, 5.4, 6.3, 7.2, 8.1, 9.0]
AWS_STATISTICS = {
    "version": 0.0,
    "dataset": {"item_count": 10},
    "features": [
        {
            "name": "mean_radius",
            "inferred_type": "Fractional",
            "numerical_statistics": {
                "common": {"num_present": 10, "num_missing": 0},
                "mean": 4.5,
                "sum": 45.0,
                "std_dev": 2.8722813232690143,
                "min": 0.0,
                "max": 9.0,
                "distribution": {
                    "kll": {
                        "buckets": [
                            {"lower_bound": low, "upper_bound": high, "count": 1.0}
                            for low, high in zip(EDGES, EDGES[1:], strict=False)
                        ],
                        "sketch": {
                            "parameters": {"c": 0.64, "k": 2048.0},
                            "data": [[float(i) for i in range(10)], []],
                        },
                    }
                },
            },
        },
        {
            "name": "color",
            "inferred_type": "String",
            "string_statistics": {
                "common": {"num_present": 10, "num_missing": 0},
                "distinct_count": 2.0,
                "distribution": {
                    "categorical": {
                        "buckets": [{"value": "red", "count": 6.0}, {"value": "blue", "count": 4.0}]
                    }
                },
                "custom_stat": {"ignored": True},
            },
        },
    ],
}
AWS_CONSTRAINTS = {
    "version": 0.0,
    "features": [
        {
            "name": "mean_radius",
            "inferred_type": "Fractional",
            "completeness": 1.0,
            "num_constraints": {"is_non_negative": True},
        },
        {
            "name": "color",
            "inferred_type": "String",
            "completeness": 1.0,
            "string_constraints": {"domains": ["blue", "red"]},
            "monitoringConfigOverrides": {},
        },
    ],
    "monitoring_config": {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 0.1,
        "domain_content_threshold": 0.1,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 0.1,
            "comparison_method": "Simple",
            "categorical_comparison_threshold": 0.1,
            "categorical_drift_method": "LInfinity",
        },
    },
}


def test_parse_real_statistics_ignoring_the_sketch_and_unknown_keys():
    parsed = parse_statistics(AWS_STATISTICS)
    assert parsed.item_count == 10
    radius = parsed.feature("mean_radius")
    assert radius is not None and radius.inferred_type == "Fractional"
    assert (radius.num_present, radius.num_missing, radius.mean, radius.max) == (10, 0, 4.5, 9.0)
    assert radius.edges == tuple(EDGES)
    assert [b.count for b in radius.buckets] == [1] * 10
    color = parsed.feature("color")
    assert color is not None and color.distinct_count == 2
    assert [(c.value, c.count) for c in color.categories] == [("red", 6), ("blue", 4)]
    assert feature_distribution(AWS_STATISTICS, "color") == [("red", 6), ("blue", 4)]
    assert feature_distribution(AWS_STATISTICS, "mean_radius")[0] == (0.0, 0.9, 1)
    assert feature_distribution(AWS_STATISTICS, "nope") == []
    assert parse_statistics({"features": [{"no": "name"}, 3]}).features == ()
    assert parse_statistics(None).features == ()


def test_parse_real_constraints_with_defaults_for_what_is_left_out():
    parsed = parse_constraints(AWS_CONSTRAINTS)
    assert parsed.monitoring_config.comparison_method == "Simple"
    color = parsed.feature("color")
    assert color is not None and color.domains == ("blue", "red") and color.completeness == 1.0
    radius = parsed.feature("mean_radius")
    assert radius is not None and radius.is_non_negative is True and radius.domains is None
    bare = parse_constraints({"features": [{"name": "x"}]})
    assert bare.features[0].inferred_type == "Unknown"
    assert bare.monitoring_config == quality.MonitoringConfig()


def test_parse_violations_tolerates_both_shapes_and_unknown_keys():
    document = {
        "violations": [
            {
                "feature_name": "mean_radius",
                "constraint_check_type": "baseline_drift_check",
                "description": "Baseline drift distance: 0.34 exceeds threshold: 0.1",
                "extra": 1,
            },
            "junk",
        ],
        "version": 0.0,
    }
    assert parse_violations(document) == [
        Violation(
            "mean_radius",
            BASELINE_DRIFT_CHECK,
            "Baseline drift distance: 0.34 exceeds threshold: 0.1",
        )
    ]
    assert parse_violations({}) == []
    assert parse_violations({"violations": None}) == []
    assert parse_violations([{"feature_name": "a"}]) == [Violation("a", "", "")]


def test_check_against_aws_documents():
    rows = [[str(i), "red" if i < 6 else "blue"] for i in range(10)]
    result = check(
        rows=rows,
        columns=["mean_radius", "color"],
        baseline_statistics=AWS_STATISTICS,
        constraints=AWS_CONSTRAINTS,
    )
    assert result.violations == []
    assert result.drift == {"mean_radius": 0.0, "color": 0.0}
    drifted = check(
        rows=[[str(i + 5), "green"] for i in range(10)],
        columns=["mean_radius", "color"],
        baseline_statistics=AWS_STATISTICS,
        constraints=AWS_CONSTRAINTS,
    )
    assert kinds(drifted) == [
        ("mean_radius", BASELINE_DRIFT_CHECK),
        ("color", CATEGORICAL_VALUES_CHECK),
        ("color", BASELINE_DRIFT_CHECK),
    ]
    assert drifted.drift == {"mean_radius": 0.5, "color": 1.0}


def test_drift_metrics_and_chart_bars_from_documents_alone():
    assert drift_metrics(baseline_statistics=AWS_STATISTICS, current_statistics=AWS_STATISTICS) == {
        "mean_radius": 0.0,
        "color": 0.0,
    }
    current = profile(
        rows=[[str(i + 5), "red"] for i in range(10)], columns=["mean_radius", "color"]
    )
    metrics = drift_metrics(baseline_statistics=AWS_STATISTICS, current_statistics=current)
    assert metrics["color"] == pytest.approx(0.4)
    assert metrics["mean_radius"] == pytest.approx(0.5, abs=0.06)
    bars = compare_distribution(
        baseline_statistics=AWS_STATISTICS, current_statistics=current, name="mean_radius"
    )
    assert bars[0].label == "[0, 0.9)" and bars[0].baseline == 0.1 and bars[0].current == 0
    assert bars[-1].label == "> 9"
    assert sum(bar.current for bar in bars) == pytest.approx(1.0)
    color = compare_distribution(
        baseline_statistics=AWS_STATISTICS, current_statistics=current, name="color"
    )
    assert [(b.label, b.baseline, b.current) for b in color] == [
        ("red", 0.6, 1.0),
        ("blue", 0.4, 0),
    ]


# --- data capture ------------------------------------------------------------------------------


def event(data: str, encoding: str, content_type: str = "text/csv") -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": content_type,
                    "mode": "INPUT",
                    "data": data,
                    "encoding": encoding,
                },
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": "0.9",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {"eventId": "e1", "inferenceTime": "2026-11-27T10:00:00Z"},
            "eventVersion": "0",
        }
    )


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_capture_rows_from_every_encoding():
    lines = [
        event("1,2,3", "CSV"),
        event("4,5,6\n7,8,9\n", "CSV"),
        event('"a,b",x,', "CSV"),
        event("[1, 2.5, null]", "JSON", "application/json"),
        event("[[1, 2, 3], [4, 5, 6]]", "JSON", "application/json"),
        event('{"instances": [[1, 2, 3]]}', "JSON", "application/json"),
        event('{"instances": [{"features": [true, "s", 3]}]}', "JSON", "application/json"),
        event('{"features": [7, 8, 9]}', "JSON", "application/json"),
        event("[1, 2, 3]\n[4, 5, 6]", "JSON", "application/jsonlines"),
        event(b64("10,11,12\n13,14,15"), "BASE64", "text/csv"),
        event(b64('{"instances": [[16, 17, 18]]}'), "BASE64", "application/json"),
        event("1,2,3", "CSV").encode(),
        "",
    ]
    counts = CaptureCounts()
    rows = list(rows_from_capture(lines=lines, counts=counts))
    assert rows == [
        ["1", "2", "3"],
        ["4", "5", "6"],
        ["7", "8", "9"],
        ["a,b", "x", ""],
        ["1", "2.5", ""],
        ["1", "2", "3"],
        ["4", "5", "6"],
        ["1", "2", "3"],
        ["true", "s", "3"],
        ["7", "8", "9"],
        ["1", "2", "3"],
        ["4", "5", "6"],
        ["10", "11", "12"],
        ["13", "14", "15"],
        ["16", "17", "18"],
        ["1", "2", "3"],
    ]
    assert counts == CaptureCounts(events=12, rows=16, malformed=0, without_input=0)


def test_malformed_capture_lines_are_skipped_and_counted():
    output_only = json.dumps({"captureData": {"endpointOutput": {"data": "1", "encoding": "CSV"}}})
    lines = [
        "not json",
        "[1, 2]",
        json.dumps({"eventVersion": "0"}),
        event("!!not base64!!", "BASE64"),
        event(b64("\xff"), "BASE64").replace(b64("\xff"), base64.b64encode(b"\xff").decode()),
        event("{broken", "JSON", "application/json"),
        event('{"other": 1}', "JSON", "application/json"),
        event("1,2", "XML"),
        json.dumps({"captureData": {"endpointInput": {"encoding": "CSV"}}}),
        output_only,
        event("1,2", "CSV"),
    ]
    counts = CaptureCounts()
    assert list(rows_from_capture(lines=lines, counts=counts)) == [["1", "2"]]
    assert counts == CaptureCounts(events=1, rows=1, malformed=9, without_input=1)


def test_capture_rows_are_produced_lazily():
    def lines() -> Iterator[str]:
        yield event("1,2", "CSV")
        raise AssertionError("read too far")

    assert next(rows_from_capture(lines=lines())) == ["1", "2"]


# --- the tumor data ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tumor() -> tuple[list[str], list[list[float]]]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    # The sandbox's tumor model names its features like this (sandbox.models).
    names = [str(name).replace(" ", "_") for name in data.feature_names]
    return names, data.data.tolist()


def as_cells(rows: list[list[float]]) -> list[list[str]]:
    return [[repr(value) for value in row] for row in rows]


def test_tumor_round_trip_through_capture_has_no_violations(tumor):
    names, rows = tumor
    statistics = profile(rows=as_cells(rows), columns=names)
    constraints = suggest_constraints(statistics=statistics)
    lines = [event(",".join(row), "CSV") for row in as_cells(rows)]
    result = check(
        rows=rows_from_capture(lines=lines),
        columns=names,
        baseline_statistics=statistics,
        constraints=constraints,
    )
    assert result.violations == []
    assert set(result.drift.values()) == {0.0}
    assert feature(result.statistics, "mean_radius") == feature(statistics, "mean_radius")


def test_tumor_feature_shifted_by_three_deviations_drifts_alone(tumor):
    names, rows = tumor
    statistics, constraints = baseline_from_csv(
        lines=[",".join(names)] + [",".join(row) for row in as_cells(rows)]
    )
    target = names.index("mean_texture")
    spread = feature(statistics, "mean_texture")["numerical_statistics"]["std_dev"]
    shifted = [
        [value + 3 * spread if index == target else value for index, value in enumerate(row)]
        for row in rows
    ]
    result = check(
        rows=as_cells(shifted),
        columns=names,
        baseline_statistics=statistics,
        constraints=constraints,
    )
    assert kinds(result) == [("mean_texture", BASELINE_DRIFT_CHECK)]
    assert result.drift["mean_texture"] > 0.8
    assert "moved above the baseline" in result.violations[0].description
    assert max(d for name, d in result.drift.items() if name != "mean_texture") == 0.0
    estimated = drift_metrics(baseline_statistics=statistics, current_statistics=result.statistics)
    assert estimated["mean_texture"] == pytest.approx(result.drift["mean_texture"], abs=0.05)


# --- the sketches ------------------------------------------------------------------------------


def test_kll_sketch_stays_small_and_accurate_and_merges():
    generator = random.Random(7)
    values = [generator.random() for _ in range(100_000)]
    first, second = KllSketch(), KllSketch()
    for start in range(0, 50_000, 512):
        first.extend(values[start : min(start + 512, 50_000)])
    second.extend(values[50_000:])
    first.merge(second)
    assert first.count == 100_000
    assert sum(len(level) for level in first.levels) < 8_000
    cells = first.cell_counts([0.25, 0.5, 0.75])
    assert sum(cells) == 100_000
    assert all(abs(cell - 25_000) < 1_000 for cell in cells)
    median = first.quantile(0.5)
    assert median is not None and abs(median - 0.5) < 0.01
    restored = KllSketch.from_document(first.to_document())
    assert restored is not None and restored.count == first.count


def test_distinct_and_frequent_value_summaries():
    distinct = HyperLogLog()
    distinct.update(f"v{i}" for i in range(50_000))
    assert distinct.estimate() == pytest.approx(50_000, rel=0.05)
    small = HyperLogLog()
    small.update(["a", "b", "c", "a"])
    assert small.estimate() == 3
    frequent = FrequentValues(limit=10)
    frequent.update(["hot"] * 100 + [f"cold{i}" for i in range(100)])
    assert not frequent.exact and frequent.most_common()[0][0] == "hot"
    assert frequent.distinct_count() == pytest.approx(101, rel=0.1)
