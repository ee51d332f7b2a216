"""One object through a transform, in-process: the settings the HTTP tests do not vary."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dataprocessing.jsonpath import parse
from sandbox.models import holdout_rows, rows_to_csv, train_tumor
from sandbox.transform_io import RecordError, TransformSettings, transform_object
from sandbox.transform_jobs import S3Location, output_key

MODEL = train_tumor()
ROWS = holdout_rows("tumor")[:6]
CSV_BODY = rows_to_csv(ROWS).encode()
JSON_LINES_BODY = "".join(json.dumps({"features": r}) + "\n" for r in ROWS).encode()


def test_split_type_none_sends_the_whole_csv_object_and_answers_a_line_per_row() -> None:
    out = transform_object(CSV_BODY, TransformSettings(content_type="text/csv"), MODEL)
    assert out.decode().splitlines() == MODEL.predict_rows(np.asarray(ROWS))


def test_a_record_over_max_payload_fails_naming_its_line() -> None:
    wide = CSV_BODY + ("1," * 600_000 + "1\n").encode()
    settings = TransformSettings(content_type="text/csv", split_type="Line", max_payload_mb=1)
    with pytest.raises(RecordError) as raised:
        transform_object(wide, settings, MODEL)
    assert raised.value.line == len(ROWS) + 1
    assert "MaxPayloadInMB (1 MB)" in raised.value.message


def test_an_object_over_max_payload_without_splitting_fails_as_a_whole() -> None:
    settings = TransformSettings(content_type="text/csv", max_payload_mb=1)
    with pytest.raises(RecordError, match="SplitType Line") as raised:
        transform_object(CSV_BODY * 20_000, settings, MODEL)
    assert raised.value.line is None


def test_assemble_with_none_concatenates_json_results() -> None:
    settings = TransformSettings(
        content_type="application/jsonlines", split_type="Line", accept="application/jsonlines"
    )
    out = transform_object(JSON_LINES_BODY, settings, MODEL).decode()
    assert "\n" not in out
    assert out.count('{"score"') == len(ROWS)


def test_accept_application_json_wraps_each_record_in_predictions() -> None:
    settings = TransformSettings(
        content_type="application/jsonlines",
        split_type="Line",
        accept="application/json",
        assemble_with="Line",
        output_filter=parse("$.predictions[0].predicted_label"),
    )
    lines = transform_object(JSON_LINES_BODY, settings, MODEL).decode().splitlines()
    assert set(lines) <= {'"benign"', '"malignant"'}
    assert len(lines) == len(ROWS)


def test_a_json_instances_document_without_splitting_is_one_record() -> None:
    body = json.dumps({"instances": ROWS}).encode()
    settings = TransformSettings(content_type="application/json", accept="application/json")
    document = json.loads(transform_object(body, settings, MODEL))
    assert len(document["predictions"]) == len(ROWS)


@pytest.mark.parametrize(
    ("body", "settings", "line", "message"),
    [
        (b"not gzip", TransformSettings(compression="Gzip"), None, "not valid gzip"),
        (
            b'{"features": [1]}\nnot json\n',
            TransformSettings(content_type="application/jsonlines", split_type="Line"),
            1,
            "has 1 columns",
        ),
        (
            b"1,2\n",
            TransformSettings(content_type="text/csv", split_type="Line", accept="image/png"),
            1,
            "Accept type image/png",
        ),
        (
            b"1,2\n",
            TransformSettings(content_type="image/png", split_type="Line"),
            1,
            "Content type image/png",
        ),
        (
            CSV_BODY,
            TransformSettings(split_type="Line", input_filter=parse("$.features")),
            1,
            "CSV records are arrays",
        ),
    ],
)
def test_problems_name_their_line(
    body: bytes, settings: TransformSettings, line: int | None, message: str
) -> None:
    with pytest.raises(RecordError) as raised:
        transform_object(body, settings, MODEL)
    assert raised.value.line == line
    assert message in raised.value.message


@pytest.mark.parametrize(
    ("source", "destination", "key", "expected"),
    [
        ("in/file.csv", "out", "in/file.csv", "out/file.csv.out"),
        ("in/", "out/", "in/sub/a.csv", "out/sub/a.csv.out"),
        ("in/day-", "out", "in/day-1.csv", "out/day-1.csv.out"),
        ("", "", "top.csv", "top.csv.out"),
    ],
)
def test_output_keys_keep_the_path_below_the_input_prefix(
    source: str, destination: str, key: str, expected: str
) -> None:
    assert output_key(S3Location("b", source), S3Location("b", destination), key) == expected
