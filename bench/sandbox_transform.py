"""Batch transform through the sandbox: rows per second on a 100,000-row CSV.

The job is the classic tumor scoring setup (an ID column, InputFilter ``$[1:]``, JoinSource
Input, OutputFilter ``$[0,-1]``, SplitType Line, MultiRecord batches of up to 6 MB), so the
number covers everything the sandbox does per row: splitting, filtering, inference, joining
and assembling. The server's minimum InProgress time is set to zero so that the wall time is
the work itself plus one poll interval.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config

from sandbox.testing import (
    BATCH_REGION,
    SandboxServer,
    bucket_name,
    holdout_rows,
    rows_to_csv,
    tumor_batch_request,
)

ROWS = 100_000
INPUT_KEY = "bench/transform/input/tumor-100k.csv"
JOB = "bench-tumor-100k"
POLL_SECONDS = 0.05


def _client(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=BATCH_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )


def batch_file(rows: int) -> bytes:
    """``id,features...`` lines cycling through the held-out rows."""
    lines = rows_to_csv(holdout_rows("tumor")).splitlines()
    return "".join(f"{i + 1},{lines[i % len(lines)]}\n" for i in range(rows)).encode()


def _seconds(value: datetime) -> float:
    return value.timestamp()


def run() -> None:
    body = batch_file(ROWS)
    with SandboxServer(port=0, seed="demo", creating_seconds=0, transform_seconds=0) as server:
        s3, sagemaker = _client(server.url, "s3"), _client(server.url, "sagemaker")
        s3.put_object(Bucket=bucket_name(BATCH_REGION), Key=INPUT_KEY, Body=body)
        started = time.perf_counter()
        sagemaker.create_transform_job(**tumor_batch_request(JOB, INPUT_KEY))
        while True:
            described = sagemaker.describe_transform_job(TransformJobName=JOB)
            if described["TransformJobStatus"] != "InProgress":
                break
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - started
        output = s3.get_object(
            Bucket=bucket_name(BATCH_REGION),
            Key=f"batch/tumor/output/{JOB}/tumor-100k.csv.out",
        )["Body"].read()
    status = described["TransformJobStatus"]
    if status != "Completed":
        raise RuntimeError(f"The benchmark job ended {status}: {described.get('FailureReason')}")
    run_seconds = _seconds(described["TransformEndTime"]) - _seconds(
        described["TransformStartTime"]
    )
    lines = output.count(b"\n")
    print(f"== Batch transform in the sandbox ({ROWS:,} CSV rows, {len(body) / 1e6:.1f} MB) ==")
    print(
        f"throughput: {ROWS / run_seconds:,.0f} rows/s inside the job "
        f"({run_seconds:.2f} s from TransformStartTime to TransformEndTime), "
        f"{ROWS / wall:,.0f} rows/s end to end"
    )
    print(
        f"job wall time: {wall:.2f} s from CreateTransformJob to Completed "
        f"(polling every {POLL_SECONDS * 1000:.0f} ms); {lines:,} output lines"
    )


if __name__ == "__main__":
    run()
