"""Batch transform jobs really run: filters, joins, gzip, prefixes, failures and stops.

Every job of the module is launched up front by one fixture, so their InProgress phases
overlap and the module takes about one job's time.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from sandbox.models import holdout_rows, rows_to_csv, train_tumor
from sandbox.seed import ensure_bucket
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, control, unique
from tests.world import TRANSFORM_REGION, upload_tumor_model, wait_for_transform

AwsFactory = Callable[..., Any]
ROWS = holdout_rows("tumor")


@dataclass(frozen=True)
class World:
    url: str
    bucket: str
    model: str
    root: str
    jobs: dict[str, str]

    def uri(self, path: str) -> str:
        return f"s3://{self.bucket}/{self.root}/{path}"

    def read(self, path: str) -> str:
        s3 = aws_client(self.url, "s3", TRANSFORM_REGION)
        return s3.get_object(Bucket=self.bucket, Key=f"{self.root}/{path}")["Body"].read().decode()

    def keys(self, path: str) -> list[str]:
        s3 = aws_client(self.url, "s3", TRANSFORM_REGION)
        listed = s3.list_objects_v2(Bucket=self.bucket, Prefix=f"{self.root}/{path}")
        return sorted(o["Key"].removeprefix(f"{self.root}/") for o in listed.get("Contents", []))

    def finished(self, job: str) -> dict[str, Any]:
        return wait_for_transform(self.url, TRANSFORM_REGION, self.jobs[job])


def job_request(
    world_model: str, name: str, source: str, output: str, **extra: Any
) -> dict[str, Any]:
    """A CreateTransformJob request on ml.m5.xlarge; ``extra`` overrides top-level fields."""
    request: dict[str, Any] = {
        "TransformJobName": name,
        "ModelName": world_model,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": source}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": output, "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(request.get(key), dict):
            request[key] = {**request[key], **value}
        else:
            request[key] = value
    return request


def csv_with_ids(rows: list[list[float]], first_id: int = 1) -> str:
    lines = rows_to_csv(rows).splitlines()
    return "".join(f"p{first_id + i:04d},{line}\n" for i, line in enumerate(lines))


@pytest.fixture(scope="module")
def world(running_sandbox: SandboxServer) -> Iterator[World]:
    url = running_sandbox.url
    s3 = aws_client(url, "s3", TRANSFORM_REGION)
    bucket = ensure_bucket(s3, TRANSFORM_REGION)
    root = unique("transform")
    status, _ = control(
        url,
        "quotas",
        body={
            "quota": "ml.m5.xlarge for transform job usage",
            "value": 50,
            "region": TRANSFORM_REGION,
        },
    )
    assert status == 200

    def put(path: str, body: bytes) -> None:
        s3.put_object(Bucket=bucket, Key=f"{root}/{path}", Body=body)

    put("in/classic/tumor.csv", csv_with_ids(ROWS).encode())
    put(
        "in/jsonl/tumor.jsonl",
        "".join(
            json.dumps({"id": i, "features": row}) + "\n" for i, row in enumerate(ROWS[:20])
        ).encode(),
    )
    put("in/arrays/tumor.jsonl", "".join(json.dumps(row) + "\n" for row in ROWS[:5]).encode())
    put("in/gzip/part-1.csv.gz", gzip.compress(rows_to_csv(ROWS[:30]).encode()))
    put("in/gzip/part-2.csv.gz", gzip.compress(rows_to_csv(ROWS[30:50]).encode()))
    put("in/bad/a-good.csv", rows_to_csv(ROWS[:10]).encode())
    broken = rows_to_csv(ROWS[:10]).splitlines()
    broken[4] = ",".join(broken[4].split(",")[:-1])  # line 5 lost its last column
    put("in/bad/b-broken.csv", ("\n".join(broken) + "\n").encode())
    put("in/bad/c-after.csv", rows_to_csv(ROWS[:3]).encode())

    model = upload_tumor_model(url, TRANSFORM_REGION)
    this = World(url=url, bucket=bucket, model=model, root=root, jobs={})
    requests = {
        "classic": job_request(
            model,
            unique("classic"),
            this.uri("in/classic/tumor.csv"),
            this.uri("out/classic"),
            TransformOutput={"Accept": "text/csv"},
            DataProcessing={
                "InputFilter": "$[1:]",
                "JoinSource": "Input",
                "OutputFilter": "$[0,-1]",
            },
            MaxConcurrentTransforms=4,
            MaxPayloadInMB=6,
            BatchStrategy="MultiRecord",
        ),
        "jsonl": job_request(
            model,
            unique("jsonl"),
            this.uri("in/jsonl/"),
            this.uri("out/jsonl/"),
            TransformInput={"ContentType": "application/jsonlines"},
            TransformOutput={"Accept": "application/jsonlines"},
            DataProcessing={
                "InputFilter": "$.features",
                "JoinSource": "Input",
                "OutputFilter": "$['id','SageMakerOutput']",
            },
        ),
        "arrays": job_request(
            model,
            unique("arrays"),
            this.uri("in/arrays/"),
            this.uri("out/arrays"),
            TransformInput={"ContentType": "application/jsonlines"},
            DataProcessing={"JoinSource": "Input"},
        ),
        "gzip": job_request(
            model,
            unique("gzip"),
            this.uri("in/gzip/"),
            this.uri("out/gzip"),
            TransformInput={"CompressionType": "Gzip"},
            BatchStrategy="SingleRecord",
        ),
        "bad": job_request(model, unique("bad"), this.uri("in/bad/"), this.uri("out/bad")),
        "empty": job_request(model, unique("empty"), this.uri("in/nothing/"), this.uri("out/x")),
    }
    sagemaker = aws_client(url, "sagemaker", TRANSFORM_REGION)
    for label, request in requests.items():
        sagemaker.create_transform_job(**request)
        this.jobs[label] = request["TransformJobName"]
    yield this


def test_classic_flow_writes_id_and_prediction_per_input_row_in_order(world: World) -> None:
    described = world.finished("classic")
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    lines = world.read("out/classic/tumor.csv.out").splitlines()
    expected = train_tumor().predict_rows(np.asarray(ROWS))
    assert len(lines) == len(ROWS)
    assert lines == [f"p{i + 1:04d},{p}" for i, p in enumerate(expected)]
    assert described["TransformStartTime"] <= described["TransformEndTime"]
    assert described["CreationTime"] <= described["TransformStartTime"]
    assert described["DataProcessing"] == {
        "InputFilter": "$[1:]",
        "OutputFilter": "$[0,-1]",
        "JoinSource": "Input",
    }
    assert described["TransformInput"]["CompressionType"] == "None"


def test_jsonlines_join_puts_the_prediction_under_sagemaker_output(world: World) -> None:
    assert world.finished("jsonl")["TransformJobStatus"] == "Completed"
    records = [json.loads(line) for line in world.read("out/jsonl/tumor.jsonl.out").splitlines()]
    assert [r["id"] for r in records] == list(range(20))
    assert set(records[0]) == {"id", "SageMakerOutput"}
    assert set(records[0]["SageMakerOutput"]) == {"score", "predicted_label"}
    expected = train_tumor().predict_rows(np.asarray(ROWS[:20]))
    assert [f"{r['SageMakerOutput']['score']:.6f}" for r in records] == expected


def test_a_joined_non_object_record_is_wrapped_with_its_input(world: World) -> None:
    assert world.finished("arrays")["TransformJobStatus"] == "Completed"
    records = [json.loads(line) for line in world.read("out/arrays/tumor.jsonl.out").splitlines()]
    assert len(records) == 5
    assert records[0]["SageMakerInput"] == ROWS[0]
    assert "score" in records[0]["SageMakerOutput"]


def test_every_gzip_object_under_the_prefix_gets_its_own_out_file(world: World) -> None:
    assert world.finished("gzip")["TransformJobStatus"] == "Completed"
    assert world.keys("out/gzip/") == ["out/gzip/part-1.csv.gz.out", "out/gzip/part-2.csv.gz.out"]
    assert len(world.read("out/gzip/part-1.csv.gz.out").splitlines()) == 30
    assert len(world.read("out/gzip/part-2.csv.gz.out").splitlines()) == 20


def test_a_bad_row_fails_the_job_naming_object_and_line_without_partial_output(
    world: World,
) -> None:
    described = world.finished("bad")
    assert described["TransformJobStatus"] == "Failed"
    reason = described["FailureReason"]
    assert world.uri("in/bad/b-broken.csv") in reason
    assert "line 5" in reason
    assert "29 feature columns" in reason
    # The object finished before the failure keeps its output; the broken one has none.
    assert world.keys("out/bad/") == ["out/bad/a-good.csv.out"]


def test_an_empty_input_prefix_fails_the_job(world: World) -> None:
    described = world.finished("empty")
    assert described["TransformJobStatus"] == "Failed"
    assert "No S3 objects found under S3 URL" in described["FailureReason"]


def test_stop_moves_through_stopping_to_stopped_and_stores_no_output(world: World) -> None:
    sagemaker = aws_client(world.url, "sagemaker", TRANSFORM_REGION)
    name = unique("stop")
    sagemaker.create_transform_job(
        **job_request(
            world.model, name, world.uri("in/classic/tumor.csv"), world.uri(f"out/{name}")
        )
    )
    assert sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] == (
        "InProgress"
    )
    sagemaker.stop_transform_job(TransformJobName=name)
    assert sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] == (
        "Stopping"
    )
    described = wait_for_transform(world.url, TRANSFORM_REGION, name)
    assert described["TransformJobStatus"] == "Stopped"
    assert world.keys(f"out/{name}") == []
    with pytest.raises(ClientError) as raised:
        sagemaker.stop_transform_job(TransformJobName=name)
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_list_filters_sorts_and_pages(world: World) -> None:
    for label in world.jobs:
        world.finished(label)
    sagemaker = aws_client(world.url, "sagemaker", TRANSFORM_REGION)
    failed = sagemaker.list_transform_jobs(StatusEquals="Failed", MaxResults=100)
    failed_names = {j["TransformJobName"] for j in failed["TransformJobSummaries"]}
    assert {world.jobs["bad"], world.jobs["empty"]} <= failed_names
    assert world.jobs["classic"] not in failed_names
    assert all("FailureReason" in j for j in failed["TransformJobSummaries"])

    named = sagemaker.list_transform_jobs(NameContains="classic-")["TransformJobSummaries"]
    assert [j["TransformJobName"] for j in named] == [world.jobs["classic"]]

    paginator = sagemaker.get_paginator("list_transform_jobs")
    pages = list(paginator.paginate(SortBy="Name", SortOrder="Ascending", MaxResults=2))
    names = [j["TransformJobName"] for page in pages for j in page["TransformJobSummaries"]]
    assert len(pages) >= 3
    assert names == sorted(names)
    assert len(names) == len(set(names))
    assert set(world.jobs.values()) <= set(names)

    newest = sagemaker.list_transform_jobs(MaxResults=100)["TransformJobSummaries"]
    created = [j["CreationTime"] for j in newest]
    assert created == sorted(created, reverse=True)
    later = created[0] + timedelta(seconds=1)
    assert sagemaker.list_transform_jobs(CreationTimeAfter=later)["TransformJobSummaries"] == []
    before = sagemaker.list_transform_jobs(CreationTimeBefore=later, MaxResults=100)
    assert len(before["TransformJobSummaries"]) == len(newest)

    with pytest.raises(ClientError) as raised:
        sagemaker.list_transform_jobs(StatusEquals="Done")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError):
        sagemaker.list_transform_jobs(MaxResults=101)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "TransformInput": {
                    "DataSource": {
                        "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "bucket/key.csv"}
                    }
                }
            },
            "regular expression pattern",
        ),
        (
            {
                "TransformInput": {
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://"}}
                }
            },
            "regular expression pattern",
        ),
        ({"TransformOutput": {"S3OutputPath": "s3:/one-slash/out"}}, "regular expression"),
        ({"ModelName": "no-such-model"}, "Could not find model"),
        ({"MaxConcurrentTransforms": 20, "MaxPayloadInMB": 6}, "must not exceed 100 MB"),
        ({"MaxPayloadInMB": 101}, "less than or equal to 100"),
        ({"DataProcessing": {"InputFilter": "$..features"}}, "recursive descent"),
        ({"DataProcessing": {"OutputFilter": "$[0:9:2]"}}, "slice step"),
        ({"TransformResources": {"InstanceType": "ml.m5.tiny"}}, "enum value set"),
        ({"TransformJobName": "under_score"}, "regular expression pattern"),
        ({"TransformJobName": "x" * 64}, "regular expression pattern"),
        (
            {
                "DataProcessing": {"JoinSource": "Input"},
                "TransformOutput": {"Accept": "application/json"},
            },
            "same format",
        ),
    ],
)
def test_bad_requests_are_validation_exceptions(
    world: World, change: dict[str, Any], message: str
) -> None:
    sagemaker = aws_client(world.url, "sagemaker", TRANSFORM_REGION)
    name = unique("invalid")
    request = job_request(
        world.model, name, world.uri("in/classic/"), world.uri("out/never"), **change
    )
    with pytest.raises(ClientError) as raised:
        sagemaker.create_transform_job(**request)
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert message in error["Message"]
    with pytest.raises(ClientError) as missing:
        sagemaker.describe_transform_job(TransformJobName=request["TransformJobName"])
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"


def test_a_taken_name_is_resource_in_use(world: World) -> None:
    sagemaker = aws_client(world.url, "sagemaker", TRANSFORM_REGION)
    request = job_request(
        world.model, world.jobs["classic"], world.uri("in/classic/"), world.uri("out/again")
    )
    with pytest.raises(ClientError) as raised:
        sagemaker.create_transform_job(**request)
    assert raised.value.response["Error"]["Code"] == "ResourceInUse"
    assert "already exists" in raised.value.response["Error"]["Message"]
