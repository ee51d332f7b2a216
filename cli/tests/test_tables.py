"""How lists and objects read for people."""

from __future__ import annotations

from fake_portal import endpoint

from opsportal_cli.endpoints import render_endpoint, render_endpoints
from opsportal_cli.tables import cell, shares, table


def test_columns_are_aligned_on_the_widest_cell_without_trailing_blanks():
    rows = [{"id": 1, "name": "a"}, {"id": 1234, "name": "longer-name"}]
    text = table(rows, [("id", lambda r: r["id"]), ("name", lambda r: r["name"])])
    assert text.splitlines() == [
        "ID    NAME",
        "1     a",
        "1234  longer-name",
    ]


def test_a_cell_is_one_line_and_says_nothing_with_a_dash():
    assert cell("two\nlines\tand tab") == "two lines and tab"
    assert cell(None) == "-" and cell("") == "-"
    assert cell(50.0) == "50" and cell(0.25) == "0.25" and cell(True) == "yes"


def test_traffic_is_each_variants_share_of_the_relative_weights():
    assert shares(endpoint()["variants"]) == "A 75%, B 25%"
    assert shares([{"name": "A", "current_weight": None}]) == "A"
    assert shares([{"name": "A", "current_weight": 0.0}]) == "A 0"
    shadow = {"name": "S", "current_weight": 1.0, "is_shadow": True}
    assert shares([*endpoint()["variants"], shadow]) == "A 75%, B 25%"


def test_the_endpoint_list_shows_status_traffic_and_sync_time():
    lines = render_endpoints(
        {"items": [endpoint(), endpoint(8, "tumor", "eu-west-1")]}
    ).splitlines()
    assert lines[0].split() == ["ID", "NAME", "TARGET", "REGION", "STATUS", "TRAFFIC", "SYNCED"]
    assert lines[1].split() == [
        "7",
        "fraud-detection",
        "sandbox",
        "us-east-1",
        "InService",
        "A",
        "75%,",
        "B",
        "25%",
        "2026-12-04",
        "16:00:05",
        "UTC",
    ]
    # Every column starts at the same place on every line.
    assert lines[1].index("sandbox") == lines[0].index("TARGET") == lines[2].index("sandbox")
    assert render_endpoints({"items": []}) == "No endpoints."


def test_an_endpoint_shows_its_variants_with_capacity_that_is_still_moving():
    text = render_endpoint(endpoint())
    assert "Endpoint: fraud-detection" in text and "Traffic:  A 75%, B 25%" in text
    variants = text.split("\n\n")[1].splitlines()
    assert variants[0].split("  ")[0] == "VARIANT"
    assert variants[2].split() == [
        "B", "fraud-v2", "1", "1", "ml.c5.xlarge", "2", "(desired", "3)"
    ]  # fmt: skip
