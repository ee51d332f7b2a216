"""Request and response bodies of the sandbox's model containers.

The containers accept what SageMaker's built-in XGBoost and scikit-learn containers accept:

- ``text/csv`` (the default when no Content-Type is sent): one row of features per line, no
  header;
- ``application/json``: ``{"instances": [[f1, f2, ...], ...]}`` (also
  ``{"instances": [{"features": [...]}, ...]}``), a bare list of rows, or one row.

They answer in the Accept type, or in the request's own format when Accept is absent or
``*/*``: ``text/csv`` gives one line per row (the positive-class probability for a binary
model, the label for a multiclass one); ``application/json`` gives
``{"predictions": [{"score": p, "predicted_label": "..."}, ...]}``, where ``score`` is the
positive-class probability (binary) or the winning class's probability (multiclass, which also
lists every class's probability under ``scores`` in ``labels`` order).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sandbox.models import ModelInputError, SandboxModel, parse_csv_rows

CSV = "text/csv"
JSON = "application/json"
CSV_RESPONSE_TYPE = "text/csv; charset=utf-8"


class PayloadError(Exception):
    """What the container answers for a body it cannot use: an HTTP status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def media_type(content_type: str | None) -> str:
    """``text/csv; charset=utf-8`` -> ``text/csv``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_rows(body: bytes, content_type: str | None, model: SandboxModel) -> np.ndarray:
    """The feature matrix in a request body, or PayloadError naming the first problem."""
    media = media_type(content_type)
    if media in ("", CSV):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadError(400, "The CSV body is not valid UTF-8 text.") from None
        try:
            return parse_csv_rows(text, model.feature_count)
        except ModelInputError as error:
            raise PayloadError(400, str(error)) from None
    if media == JSON:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise PayloadError(400, "The JSON body could not be parsed.") from None
        return json_feature_rows(document, model.feature_count)
    raise PayloadError(
        415,
        f"Content type {content_type} is not supported by this container; "
        "send text/csv or application/json.",
    )


def json_feature_rows(document: Any, width: int) -> np.ndarray:
    """The feature rows of a decoded JSON body (any accepted shape), or PayloadError."""
    if isinstance(document, dict):
        if "instances" not in document:
            raise PayloadError(400, 'A JSON object body needs an "instances" list of rows.')
        rows = document["instances"]
    else:
        rows = document
    if isinstance(rows, list) and rows and all(_is_number(v) for v in rows):
        rows = [rows]
    if not isinstance(rows, list) or not rows:
        raise PayloadError(400, "The JSON body holds no rows.")
    matrix = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, dict):
            row = row.get("features")
        if not isinstance(row, list) or not all(_is_number(v) for v in row):
            raise PayloadError(400, f"Row {number} is not a list of numbers.")
        if len(row) != width:
            raise PayloadError(
                400, f"Row {number} has {len(row)} columns; the model expects {width}."
            )
        if not all(math.isfinite(float(v)) for v in row):
            raise PayloadError(400, f"Row {number} holds a value that is not finite.")
        matrix.append([float(v) for v in row])
    return np.asarray(matrix, dtype=float)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Encoded:
    body: bytes
    content_type: str


def response_format(accept: str | None, request_content_type: str | None) -> str:
    """The media type to answer in, or PayloadError 406 when none the caller accepts is served."""
    fallback = JSON if media_type(request_content_type) == JSON else CSV
    if not accept or not accept.strip():
        return fallback
    for candidate in accept.split(","):
        media = media_type(candidate)
        if media in (CSV, JSON):
            return media
        if media in ("*/*", "text/*"):
            return CSV if media == "text/*" else fallback
        if media == "application/*":
            return JSON
    raise PayloadError(
        406, f"Accept type {accept} is not supported; this container answers text/csv or JSON."
    )


def encode_predictions(model: SandboxModel, features: np.ndarray, media: str) -> Encoded:
    """Run the model and serialise its answer in the chosen media type."""
    if media == CSV:
        lines = model.predict_rows(features)
        return Encoded(("\n".join(lines) + "\n").encode(), CSV_RESPONSE_TYPE)
    return Encoded(json.dumps({"predictions": prediction_objects(model, features)}).encode(), JSON)


def prediction_objects(model: SandboxModel, features: np.ndarray) -> list[dict[str, Any]]:
    """One JSON prediction per row, as the container's JSON answer lists them."""
    probabilities = model.predict_proba(features)
    predictions: list[dict[str, Any]] = []
    for row in probabilities:
        if model.task == "binary_probability":
            positive = float(row[1])
            label = model.class_labels[1] if positive >= 0.5 else model.class_labels[0]
            predictions.append({"score": round(positive, 6), "predicted_label": label})
        else:
            best = int(row.argmax())
            predictions.append(
                {
                    "score": round(float(row[best]), 6),
                    "predicted_label": model.class_labels[best],
                    "scores": [round(float(p), 6) for p in row],
                    "labels": list(model.class_labels),
                }
            )
    return predictions
