"""Request rows from SageMaker data-capture files (``dataquality``).

An endpoint with data capture writes one JSON event per line; ``rows_from_capture`` turns the
requests in those events into rows of cells for ``profile`` and ``check``, counting what it
could not read in ``CaptureCounts``.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dataquality.types import _text


@dataclass
class CaptureCounts:
    """What ``rows_from_capture`` read; final once its rows have all been consumed."""

    events: int = 0
    rows: int = 0
    malformed: int = 0
    without_input: int = 0


class _Malformed(Exception):
    pass


def _csv_rows(text: str) -> list[list[str]]:
    if '"' in text:
        return [
            row
            for row in csv.reader(io.StringIO(text))
            if row and not (len(row) == 1 and not row[0].strip())
        ]
    return [line.split(",") for line in text.splitlines() if line.strip()]


def _json_row(values: Any) -> list[str]:
    cells = values if isinstance(values, list) else [values]
    return [value if value.__class__ is str else _text(value) for value in cells]


def _json_loads(text: str) -> Any:
    """JSON with numbers kept as written: "1.0" stays Fractional and "1" Integral, exactly as
    the model received them, and no float round trip is paid per cell."""
    return json.loads(text, parse_float=str, parse_int=str, parse_constant=str)


def _json_rows(document: Any) -> list[list[str]]:
    """Rows of a JSON request: ``[..]``, ``[[..], ..]``, ``{"instances": [..]}`` (rows or
    ``{"features": [..]}`` objects) or ``{"features": [..]}``."""
    if isinstance(document, Mapping):
        if "instances" in document:
            items = document["instances"]
        elif "features" in document:
            return [_json_row(document["features"])]
        else:
            raise _Malformed
        if not isinstance(items, list):
            raise _Malformed
    elif isinstance(document, list):
        items = document
    else:
        raise _Malformed
    if not any(isinstance(item, list | Mapping) for item in items):
        return [_json_row(items)] if items else []
    rows = []
    for item in items:
        if isinstance(item, list):
            rows.append(_json_row(item))
        elif isinstance(item, Mapping) and "features" in item:
            rows.append(_json_row(item["features"]))
        else:
            raise _Malformed
    return rows


def _json_text_rows(text: str) -> list[list[str]]:
    try:
        return _json_rows(_json_loads(text))
    except ValueError:
        pass
    # JSON Lines: one document per line.
    rows = []
    for line in text.splitlines():
        if line.strip():
            try:
                rows.extend(_json_rows(_json_loads(line)))
            except ValueError:
                raise _Malformed from None
    return rows


def _payload_rows(payload: Mapping[str, Any]) -> list[list[str]]:
    data = payload.get("data")
    if not isinstance(data, str):
        raise _Malformed
    encoding = str(payload.get("encoding", "")).upper()
    if encoding == "CSV":
        return _csv_rows(data)
    if encoding == "JSON":
        return _json_text_rows(data)
    if encoding != "BASE64":
        raise _Malformed
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _Malformed from None
    media = str(payload.get("observedContentType", "")).split(";")[0].strip().lower()
    return _json_text_rows(text) if "json" in media else _csv_rows(text)


def rows_from_capture(
    *, lines: Iterable[str | bytes], counts: CaptureCounts | None = None
) -> Iterator[list[str]]:
    """The request rows of data-capture JSON lines, lazily, one list of cells per row.

    Reads ``captureData.endpointInput``: CSV text (a request may carry several lines), JSON
    (see ``_json_rows``; null becomes the empty, missing cell) or BASE64 of either, told apart
    by ``observedContentType``. A line that is not a capture event, or whose payload cannot be
    decoded, is skipped and counted in ``counts.malformed``; an event captured without its
    input (CaptureMode Output) is counted in ``counts.without_input``. Blank lines are ignored.
    """
    tally = counts if counts is not None else CaptureCounts()
    for line in lines:
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            tally.malformed += 1
            continue
        capture = event.get("captureData") if isinstance(event, Mapping) else None
        if not isinstance(capture, Mapping):
            tally.malformed += 1
            continue
        payload = capture.get("endpointInput")
        if payload is None:
            tally.without_input += 1
            continue
        try:
            if not isinstance(payload, Mapping):
                raise _Malformed
            rows = _payload_rows(payload)
        except _Malformed:
            tally.malformed += 1
            continue
        tally.events += 1
        tally.rows += len(rows)
        yield from rows
