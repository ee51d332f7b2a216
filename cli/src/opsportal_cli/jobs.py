"""``opsportal jobs``: launch a batch transform job (the launch form's fields as options) and
follow the jobs."""

from __future__ import annotations

from typing import Any

import click

from opsportal_cli.context import json_option, list_options, listing, more_hint, portal, show, when
from opsportal_cli.tables import Column, fields, table

JOB_COLUMNS: list[Column] = [
    ("id", lambda j: j.get("id")),
    ("name", lambda j: j.get("name")),
    ("status", lambda j: j.get("status")),
    ("model", lambda j: j.get("model_name")),
    ("target", lambda j: j.get("target")),
    ("region", lambda j: j.get("region")),
    ("launched", lambda j: when(j.get("launched_at"))),
]
# The job page's first fields, in this order; any other field the API adds follows them.
JOB_FIELDS = [
    "id",
    "name",
    "status",
    "target",
    "region",
    "model_name",
    "input_uri",
    "output_path",
    "instance_type",
    "instance_count",
    "created_by",
    "launched_at",
    "start_time",
    "end_time",
    "failure_reason",
    "url",
]


def render_jobs(page: dict[str, Any]) -> str:
    items = page.get("items") or []
    return table(items, JOB_COLUMNS) if items else "No jobs."


def render_job(job: dict[str, Any]) -> str:
    keys = [k for k in JOB_FIELDS if k in job] + [k for k in job if k not in JOB_FIELDS]
    pairs = []
    for key in keys:
        value = job[key]
        if key == "url" and isinstance(value, str):
            value = portal().absolute(value)
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif key.endswith(("_at", "_time")):
            value = when(value)
        pairs.append((key.replace("_", " ").capitalize(), value))
    return fields(pairs)


def parse_environment(pairs: tuple[str, ...]) -> str:
    """``--env KEY=value`` options as the form's environment text, one per line."""
    for pair in pairs:
        if "=" not in pair or not pair.partition("=")[0].strip():
            raise click.BadParameter(f"{pair!r} is not KEY=value", param_hint="--env")
    return "\n".join(pairs)


@click.group()
def jobs() -> None:
    """Batch transform jobs."""


@jobs.command("launch")
@click.option("--target", required=True, help="The target (account), as the portal names it.")
@click.option("--region", required=True, help="The AWS region to run the job in.")
@click.option("--model", "model_name", required=True, help="The SageMaker model to run.")
@click.option("--input", "input_uri", required=True, help="Input S3 URI (an object or a prefix).")
@click.option("--output", "output_path", required=True, help="Output S3 path.")
@click.option("--name", default="", help="TransformJobName (default: a generated one).")
@click.option(
    "--content-type",
    type=click.Choice(["text/csv", "application/json", "application/jsonlines"]),
    default="text/csv",
    show_default=True,
)
@click.option(
    "--split-type",
    type=click.Choice(["Line", "None", "RecordIO", "TFRecord"]),
    default="Line",
    show_default=True,
)
@click.option(
    "--compression", type=click.Choice(["None", "Gzip"]), default="None", show_default=True
)
@click.option(
    "--batch-strategy",
    type=click.Choice(["MultiRecord", "SingleRecord"]),
    default="MultiRecord",
    show_default=True,
)
@click.option("--max-payload-mb", type=int, default=6, show_default=True)
@click.option("--max-concurrent-transforms", type=int, default=1, show_default=True)
@click.option("--instance-type", default="ml.m5.xlarge", show_default=True)
@click.option("--instance-count", type=int, default=1, show_default=True)
@click.option(
    "--accept",
    type=click.Choice(["", "text/csv", "application/json", "application/jsonlines"]),
    default="",
    help="Output content type (default: the model's).",
)
@click.option(
    "--assemble-with", type=click.Choice(["Line", "None"]), default="Line", show_default=True
)
@click.option("--input-filter", default="", help="InputFilter (JSONPath), e.g. $[1:].")
@click.option("--output-filter", default="", help="OutputFilter (JSONPath).")
@click.option(
    "--join-source",
    type=click.Choice(["", "Input"]),
    default="",
    help="JoinSource: Input joins each output to its input record.",
)
@click.option("--kms-key-id", default="", help="KMS key for the output.")
@click.option(
    "--env", "environment", multiple=True, metavar="KEY=VALUE", help="Repeat for each variable."
)
@click.option(
    "--overwrite-output", is_flag=True, help="Allow writing over objects under the output path."
)
@json_option
def jobs_launch(
    target: str,
    region: str,
    model_name: str,
    input_uri: str,
    output_path: str,
    name: str,
    content_type: str,
    split_type: str,
    compression: str,
    batch_strategy: str,
    max_payload_mb: int,
    max_concurrent_transforms: int,
    instance_type: str,
    instance_count: int,
    accept: str,
    assemble_with: str,
    input_filter: str,
    output_filter: str,
    join_source: str,
    kms_key_id: str,
    environment: tuple[str, ...],
    overwrite_output: bool,
    as_json: bool,
) -> None:
    """Launch a batch transform job (Operator role); the portal checks it first."""
    body = {
        "target_region": f"{target}/{region}",
        "name": name,
        "model_name": model_name,
        "input_uri": input_uri,
        "content_type": content_type,
        "split_type": split_type,
        "compression_type": compression,
        "batch_strategy": batch_strategy,
        "max_payload_mb": max_payload_mb,
        "max_concurrent_transforms": max_concurrent_transforms,
        "instance_type": instance_type,
        "instance_count": instance_count,
        "output_path": output_path,
        "accept": accept,
        "assemble_with": assemble_with,
        "input_filter": input_filter,
        "output_filter": output_filter,
        "join_source": join_source,
        "kms_key_id": kms_key_id,
        "environment": parse_environment(environment),
        "overwrite_output": overwrite_output,
    }
    show(portal().api().post("jobs", body), as_json, render_job)


@jobs.command("list")
@click.option("--status", default="", help="Only jobs in this status, e.g. InProgress.")
@click.option("--text", default="", help="Only jobs whose name or model contains this.")
@list_options
@json_option
def jobs_list(status: str, text: str, limit: int, cursor: str, every: bool, as_json: bool) -> None:
    """List batch transform jobs, newest first."""
    filters = {"status": status, "text": text}
    page = listing("jobs", filters, limit=limit, cursor=cursor, every=every)
    show(page, as_json, render_jobs)
    if not as_json:
        more_hint(page)


@jobs.command("show")
@click.argument("job_id", metavar="ID")
@json_option
def jobs_show(job_id: str, as_json: bool) -> None:
    """Show batch transform job ID."""
    show(portal().api().get(f"jobs/{job_id}"), as_json, render_job)
