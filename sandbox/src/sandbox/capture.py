"""Data capture: sampled request/response pairs written to S3 as SageMaker writes them.

When an endpoint config enables capture, SageMaker samples InitialSamplingPercentage of the
successful invocations and writes them, buffered, as JSON-lines files under
``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm>-<ss>-<mmm>-<uuid>.jsonl`` (UTC,
the hour of the first record in the file). Each line is one event:

``{"captureData": {"endpointInput": {...}, "endpointOutput": {...}},
"eventMetadata": {"eventId": ..., "inferenceTime": ..., "inferenceId"?: ...},
"eventVersion": "0"}``

CaptureOptions chooses whether the input, the output or both are kept; a payload whose
content type is listed in CaptureContentTypeHeader's CsvContentTypes or JsonContentTypes is
stored as text with encoding CSV or JSON, anything else as BASE64 (AWS's default when no
header lists are configured). Model Monitor and the portal's quality checks read these files.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox import moto_bridge
from sandbox.inference_io import media_type
from sandbox.metric_store import MINUTE


@dataclass(frozen=True)
class Exchange:
    """One successful invocation, as data capture sees it."""

    request_body: bytes
    request_content_type: str
    response_body: bytes
    response_content_type: str
    inference_id: str | None
    time: float


@dataclass(frozen=True)
class _Destination:
    account_id: str
    region: str
    bucket: str
    prefix: str
    endpoint: str
    variant: str
    hour: str


def _payload(
    body: bytes, content_type: str, mode: str, config: Mapping[str, Any]
) -> dict[str, str]:
    headers = config.get("CaptureContentTypeHeader") or {}
    media = media_type(content_type)
    csv_types = {media_type(t) for t in headers.get("CsvContentTypes") or []}
    json_types = {media_type(t) for t in headers.get("JsonContentTypes") or []}
    encoding = "CSV" if media in csv_types else "JSON" if media in json_types else "BASE64"
    if encoding != "BASE64":
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "BASE64"
    if encoding == "BASE64":
        data = base64.b64encode(body).decode()
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def bucket_and_prefix(uri: str) -> tuple[str, str] | None:
    """``s3://bucket/some/prefix/`` -> ("bucket", "some/prefix"); None if not an S3 URI."""
    if not uri.startswith("s3://"):
        return None
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    return (bucket, prefix.strip("/")) if bucket else None


def capture_modes(config: Mapping[str, Any]) -> set[str]:
    """ "INPUT" and/or "OUTPUT", from CaptureOptions (both when none are given)."""
    modes: set[str] = set()
    for option in config.get("CaptureOptions") or [{"CaptureMode": "InputAndOutput"}]:
        mode = str(option.get("CaptureMode", ""))
        if mode in ("Input", "InputAndOutput"):
            modes.add("INPUT")
        if mode in ("Output", "InputAndOutput"):
            modes.add("OUTPUT")
    return modes


def capture_record(config: Mapping[str, Any], exchange: Exchange) -> dict[str, Any]:
    """One JSON-lines event in SageMaker's data capture format."""
    modes = capture_modes(config)
    data: dict[str, Any] = {}
    if "INPUT" in modes:
        data["endpointInput"] = _payload(
            exchange.request_body, exchange.request_content_type, "INPUT", config
        )
    if "OUTPUT" in modes:
        data["endpointOutput"] = _payload(
            exchange.response_body, exchange.response_content_type, "OUTPUT", config
        )
    moment = datetime.fromtimestamp(exchange.time, tz=UTC)
    metadata: dict[str, Any] = {
        "eventId": str(uuid.uuid4()),
        "inferenceTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if exchange.inference_id:
        metadata["inferenceId"] = exchange.inference_id
    return {"captureData": data, "eventMetadata": metadata, "eventVersion": "0"}


class DataCapture:
    """Samples invocations into per-variant buffers and writes them to S3 about once a minute."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.files_written = 0
        self._lock = threading.Lock()
        self._buffers: dict[_Destination, list[tuple[float, str]]] = {}
        self._random = random.Random()

    def offer(
        self,
        *,
        account_id: str,
        region: str,
        endpoint: str,
        variant: str,
        config: Mapping[str, Any] | None,
        exchange: Exchange,
    ) -> bool:
        """Buffer the exchange if capture is on and it falls in the sample; True if kept."""
        if not config or not config.get("EnableCapture", True):
            return False
        percentage = float(config.get("InitialSamplingPercentage") or 0)
        if self._random.random() * 100.0 >= percentage:
            return False
        location = bucket_and_prefix(str(config.get("DestinationS3Uri", "")))
        if location is None:
            return False
        bucket, prefix = location
        hour = datetime.fromtimestamp(exchange.time, tz=UTC).strftime("%Y/%m/%d/%H")
        destination = _Destination(account_id, region, bucket, prefix, endpoint, variant, hour)
        line = json.dumps(capture_record(config, exchange), separators=(",", ":"))
        with self._lock:
            self._buffers.setdefault(destination, []).append((exchange.time, line))
        return True

    def flush(self, *, include_current: bool = False) -> int:
        """Write buffered events older than this minute (or all); returns files written."""
        current = int(self.clock() // MINUTE) * MINUTE
        due: dict[_Destination, list[tuple[float, str]]] = {}
        with self._lock:
            for destination, lines in list(self._buffers.items()):
                ready = [entry for entry in lines if include_current or entry[0] < current]
                if not ready:
                    continue
                rest = [entry for entry in lines if not (include_current or entry[0] < current)]
                if rest:
                    self._buffers[destination] = rest
                else:
                    del self._buffers[destination]
                due[destination] = ready
        written = 0
        for destination, lines in due.items():
            first = datetime.fromtimestamp(lines[0][0], tz=UTC)
            name = f"{first:%M-%S}-{first.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
            parts = [
                destination.prefix,
                destination.endpoint,
                destination.variant,
                destination.hour,
                name,
            ]
            key = "/".join(part for part in parts if part)
            body = "".join(line + "\n" for _, line in lines).encode()
            if moto_bridge.write_s3_object(
                destination.account_id,
                destination.region,
                destination.bucket,
                key,
                body,
                "application/jsonlines",
            ):
                written += 1
        with self._lock:
            self.files_written += written
        return written

    def clear(self) -> None:
        with self._lock:
            self._buffers.clear()
            self.files_written = 0
