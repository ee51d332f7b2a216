"""One input object through a batch transform: split, batch, filter, infer, join, assemble.

This is what SageMaker's data processing does around the model container for each S3 object:

1. decompress (CompressionType Gzip) and split it into records (SplitType Line: one record per
   non-blank line; None: the whole object is one record);
2. group records into mini-batches no larger than MaxPayloadInMB (MultiRecord), or one record
   per request (SingleRecord); a record that alone exceeds the limit fails the object;
3. apply InputFilter to each record, run the model, and with JoinSource=Input join each
   prediction to its *unfiltered* input: a CSV row gets the prediction appended as its last
   columns, a JSON object gets it under ``SageMakerOutput`` and any other JSON value is wrapped
   as ``{"SageMakerInput": ..., "SageMakerOutput": ...}``;
4. apply OutputFilter to each result and assemble the object's output, one result per line
   (AssembleWith Line) or concatenated (None; CSV results already end in a newline each, as the
   container answers them, so the two agree for CSV).

CSV records are rows of column values, passed to filters as JSON arrays of their original
text, so ``$[0,-1]`` on a joined row is the input's ID and the prediction, unchanged.
Predictions follow the model container (``sandbox.inference_io``): CSV gives one value per
row; ``application/jsonlines`` gives one ``{"score", "predicted_label"}`` object per record;
``application/json`` gives ``{"predictions": [...]}`` per record.

Any problem raises RecordError with the line (1-based, in the decompressed object) where it
occurred, so the job's FailureReason can name it.
"""

from __future__ import annotations

import csv
import gzip
import json
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dataprocessing.jsonpath import IDENTITY, JsonPath, JsonPathError
from sandbox.inference_io import PayloadError, json_feature_rows, media_type, prediction_objects
from sandbox.models import SandboxModel

CSV = "text/csv"
JSON = "application/json"
JSON_LINES = "application/jsonlines"
_JSON_INPUTS = (JSON, JSON_LINES, "application/x-jsonlines")
MEBIBYTE = 1024 * 1024


class RecordError(Exception):
    """A record the transform could not process; ``line`` is None for the object as a whole."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class TransformStopped(Exception):
    """StopTransformJob arrived while the object was being processed."""


@dataclass(frozen=True)
class TransformSettings:
    """The CreateTransformJob parameters that shape how one object is processed."""

    content_type: str | None = None
    split_type: str = "None"
    compression: str = "None"
    batch_strategy: str = "MultiRecord"
    max_payload_mb: int = 6
    accept: str | None = None
    assemble_with: str = "None"
    input_filter: JsonPath = IDENTITY
    output_filter: JsonPath = IDENTITY
    join_input: bool = False

    @property
    def input_is_csv(self) -> bool:
        return media_type(self.content_type) in ("", CSV)

    @property
    def output_media(self) -> str:
        """What the container answers: Accept, else the input's own format."""
        media = media_type(self.accept)
        if media in ("", "*/*"):
            media = media_type(self.content_type) or CSV
        return JSON_LINES if media == "application/x-jsonlines" else media


def family(media: str) -> str:
    """``csv`` or ``json``: whether records are rows of columns or JSON values."""
    return "csv" if media in ("", CSV) else "json"


def transform_object(
    data: bytes,
    settings: TransformSettings,
    model: SandboxModel,
    stopped: Callable[[], bool] = lambda: False,
) -> bytes:
    """The ``.out`` bytes for one input object, or RecordError naming the line that broke."""
    text = _decode(data, settings.compression)
    input_media = media_type(settings.content_type)
    if input_media not in ("", CSV, *_JSON_INPUTS):
        raise RecordError(
            1,
            f"Content type {settings.content_type} is not supported by the model container; "
            "send text/csv, application/json or application/jsonlines.",
        )
    output_media = settings.output_media
    if output_media not in (CSV, JSON, JSON_LINES):
        raise RecordError(
            1,
            f"Accept type {settings.accept} is not supported by the model container; it "
            "answers text/csv, application/json or application/jsonlines.",
        )
    if settings.join_input and family(input_media) != family(output_media):
        raise RecordError(
            None, "JoinSource Input needs the Accept type in the same format as the input."
        )
    outputs: list[str] = []
    for batch in _batches(text, settings):
        if stopped():
            raise TransformStopped()
        if settings.input_is_csv:
            outputs.extend(_csv_batch(batch, settings, model, output_media))
        else:
            outputs.extend(_json_batch(batch, settings, model, output_media))
    if settings.assemble_with == "Line" or output_media == CSV:
        return "".join(f"{line}\n" for line in outputs).encode()
    return "".join(outputs).encode()


def _decode(data: bytes, compression: str) -> str:
    if compression == "Gzip":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise RecordError(
                None, "The object is not valid gzip data, but CompressionType is Gzip."
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RecordError(line, "The record is not valid UTF-8 text.") from None


Record = tuple[int, str]


def _records(text: str, settings: TransformSettings) -> Iterator[Record]:
    if settings.split_type != "Line":
        if text.strip():
            yield 1, text
        return
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip():
            yield number, line


def _batches(text: str, settings: TransformSettings) -> Iterator[list[Record]]:
    """Mini-batches within MaxPayloadInMB (0 means no limit), in input order."""
    limit = settings.max_payload_mb * MEBIBYTE if settings.max_payload_mb else None
    single = settings.batch_strategy == "SingleRecord"
    batch: list[Record] = []
    size = 0
    for number, record in _records(text, settings):
        record_size = len(record.encode()) + 1
        if limit is not None and record_size > limit:
            where = number if settings.split_type == "Line" else None
            raise RecordError(
                where,
                f"The record is {record_size} bytes, more than MaxPayloadInMB "
                f"({settings.max_payload_mb} MB) allows"
                + ("." if where else "; split the object with SplitType Line."),
            )
        if batch and (single or (limit is not None and size + record_size > limit)):
            yield batch
            batch, size = [], 0
        batch.append((number, record))
        size += record_size
    if batch:
        yield batch


def _csv_rows(batch: Sequence[Record]) -> list[tuple[int, list[str]]]:
    """Each CSV row with its line number; a multi-line record (SplitType None) gives several."""
    rows: list[tuple[int, list[str]]] = []
    for first_line, record in batch:
        for offset, line in enumerate(record.split("\n")):
            line = line.rstrip("\r")
            if not line.strip():
                continue
            fields = next(csv.reader([line])) if '"' in line else line.split(",")
            rows.append((first_line + offset, fields))
    return rows


def _csv_batch(
    batch: Sequence[Record], settings: TransformSettings, model: SandboxModel, output_media: str
) -> list[str]:
    rows = _csv_rows(batch)
    if not rows:
        return []
    if settings.input_filter.is_identity:
        filtered = [fields for _line, fields in rows]
    else:
        filtered = [_as_row(_apply(settings.input_filter, f, n)) for n, f in rows]
    features = _feature_matrix(rows, filtered, model.feature_count)
    if output_media == CSV:
        predictions: list[Any] = [[value] for value in model.predict_rows(features)]
    else:
        objects = prediction_objects(model, features)
        predictions = (
            objects if output_media == JSON_LINES else [{"predictions": [o]} for o in objects]
        )
    outputs: list[str] = []
    output_filter = settings.output_filter
    for (number, fields), prediction in zip(rows, predictions, strict=True):
        result = fields + prediction if settings.join_input else prediction
        if not output_filter.is_identity:
            result = _apply(output_filter, result, number)
        outputs.append(_csv_text(result) if output_media == CSV else _json_text(result))
    return outputs


def _json_batch(
    batch: Sequence[Record], settings: TransformSettings, model: SandboxModel, output_media: str
) -> list[str]:
    values: list[tuple[int, Any]] = []
    matrices: list[np.ndarray] = []
    whole_object = settings.split_type != "Line"
    for number, record in batch:
        where = None if whole_object else number
        try:
            value = json.loads(record)
        except ValueError:
            raise RecordError(where, "The record is not valid JSON.") from None
        selected = _apply(settings.input_filter, value, where)
        if isinstance(selected, dict) and "instances" not in selected and "features" in selected:
            # One JSON Lines record is one instance, as the container reads {"features": [...]}.
            selected = [selected]
        try:
            matrices.append(json_feature_rows(selected, model.feature_count))
        except PayloadError as error:
            raise RecordError(where, error.message) from None
        values.append((number, value))
    counts = [len(matrix) for matrix in matrices]
    features = np.concatenate(matrices) if matrices else np.empty((0, model.feature_count))
    lines = model.predict_rows(features) if output_media == CSV else []
    objects = prediction_objects(model, features) if output_media != CSV else []
    outputs: list[str] = []
    start = 0
    for (number, value), count in zip(values, counts, strict=True):
        where = None if whole_object else number
        if output_media == CSV:
            rows = [[line] for line in lines[start : start + count]]
            filtered = [_apply(settings.output_filter, row, where) for row in rows]
            outputs.append("\n".join(_csv_text(row) for row in filtered))
        else:
            mine = objects[start : start + count]
            prediction: Any = (
                mine[0] if output_media == JSON_LINES and count == 1 else {"predictions": mine}
            )
            result = _joined(value, prediction) if settings.join_input else prediction
            outputs.append(_json_text(_apply(settings.output_filter, result, where)))
        start += count
    return outputs


def _joined(value: Any, prediction: Any) -> Any:
    if isinstance(value, dict):
        return {**value, "SageMakerOutput": prediction}
    return {"SageMakerInput": value, "SageMakerOutput": prediction}


def _apply(path: JsonPath, value: Any, line: int | None) -> Any:
    try:
        return path.apply(value)
    except JsonPathError as error:
        raise RecordError(line, str(error)) from None


def _as_row(selected: Any) -> list[Any]:
    """A CSV row is a flat array of text, so a selection from it is a value or a flat array."""
    return selected if isinstance(selected, list) else [selected]


def _feature_matrix(
    rows: Sequence[tuple[int, list[str]]], filtered: Sequence[Sequence[Any]], width: int
) -> np.ndarray:
    """The rows as floats in one go; on any problem, find the first row at fault."""
    try:
        matrix = np.asarray(filtered, dtype=float)
        if matrix.ndim == 2 and matrix.shape[1] == width and np.isfinite(matrix).all():
            return matrix
    except ValueError:
        pass
    for (number, _fields), values in zip(rows, filtered, strict=True):
        if len(values) != width:
            raise RecordError(
                number,
                f"The row has {len(values)} feature columns after InputFilter; the model "
                f"expects {width}.",
            )
        for column, value in enumerate(values, start=1):
            try:
                number_value = float(value)
            except (TypeError, ValueError):
                raise RecordError(
                    number, f"Feature column {column} ({str(value)!r}) is not a number."
                ) from None
            if not np.isfinite(number_value):
                raise RecordError(number, f"Feature column {column} ({value!r}) is not finite.")
    raise RecordError(None, "The rows could not be read as a feature matrix.")


def _csv_text(value: Any) -> str:
    values = value if isinstance(value, list) else [value]
    return ",".join(_csv_field(v) for v in values)


def _csv_field(value: Any) -> str:
    if isinstance(value, list | dict):
        return _quote(json.dumps(value, separators=(",", ":")))
    text = value if isinstance(value, str) else json.dumps(value)
    return _quote(text) if "," in text or '"' in text or "\n" in text else text


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
