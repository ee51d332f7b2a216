"""Pre-flight checks of a launch: everything AWS would refuse, or fail minutes later after
instances were paid for (a missing input fails the job; a quota shortfall fails the
create), asked before anything is created, so the form can say what to fix.

Each check is a small function that yields (form field, message) pairs; "" names the form
as a whole. Checks that need no AWS call run first; the quota check, which lists the
running jobs, runs only once everything else has passed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator

from core.aws import quotas as aws_quotas
from core.aws import s3 as aws_s3
from core.aws import transform as aws_transform
from core.aws.errors import AccessDenied, AwsError, NotFound
from core.targets import Target, target_by_name
from dataprocessing.jsonpath import jsonpath_problem
from transforms.models import (
    TERMINAL_STATUSES,
    TransformJob,
    TransformStatus,
    job_name_problem,
)
from transforms.services.launch_spec import TransformLaunch

logger = logging.getLogger(__name__)

MAX_PAYLOAD_PRODUCT = 100  # MaxConcurrentTransforms × MaxPayloadInMB, SageMaker's limit
MAX_PAYLOAD_MB = 100
MAX_ENVIRONMENT = 16
MAX_ENVIRONMENT_VALUE = 10_240
OVERWRITE_LABEL = "Write into an output prefix that already holds objects"
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,1023}")
_AWS_QUOTA = re.compile(
    r"service limit '(?P<name>[^']+)' is (?P<limit>[\d.]+) Instances, with current "
    r"utilization of (?P<used>\d+) Instances and a request delta of (?P<delta>\d+)"
)

Problem = tuple[str, str]
Check = Callable[[TransformLaunch, Target], Iterable[Problem]]


def quota_message(*, name: str, limit: float, in_use: int, needed: int) -> str:
    """The one wording for a quota shortfall, whether the portal or AWS found it."""
    return (
        f"Quota '{name}' is {limit:g} instances; {in_use} in use; this job needs {needed}. "
        "Request an increase in Service Quotas."
    )


def quota_message_from_aws(message: str) -> str:
    """AWS's ResourceLimitExceeded text in the portal's wording (as is if unrecognised)."""
    match = _AWS_QUOTA.search(message)
    if not match:
        return message
    return quota_message(
        name=match["name"],
        limit=float(match["limit"]),
        in_use=int(match["used"]),
        needed=int(match["delta"]),
    )


# --- checks without AWS ----------------------------------------------------------------


def instance_count(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    if launch.spec.instance_count < 1:
        yield "instance_count", "At least one instance is needed."


def payload_size(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    if not 1 <= launch.spec.max_payload_mb <= MAX_PAYLOAD_MB:
        yield "max_payload_mb", f"MaxPayloadInMB must be between 1 and {MAX_PAYLOAD_MB}."


def concurrency(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    spec = launch.spec
    if spec.max_concurrent_transforms < 1:
        yield "max_concurrent_transforms", "MaxConcurrentTransforms must be at least 1."
    elif spec.max_concurrent_transforms * spec.max_payload_mb > MAX_PAYLOAD_PRODUCT:
        product = spec.max_concurrent_transforms * spec.max_payload_mb
        yield (
            "max_concurrent_transforms",
            f"MaxConcurrentTransforms × MaxPayloadInMB is {product}; "
            f"SageMaker allows at most {MAX_PAYLOAD_PRODUCT}.",
        )


def filters(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    """InputFilter and OutputFilter within the JSONPath subset SageMaker accepts."""
    csv = launch.spec.content_type == "text/csv"
    for name, expression in (
        ("input_filter", launch.spec.input_filter),
        ("output_filter", launch.spec.output_filter),
    ):
        problem = jsonpath_problem(expression, csv=csv)
        if problem:
            yield name, f"{expression!r} {problem}"


def environment(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    """CreateTransformJob's limits on Environment: 16 variables, names of letters, digits
    and underscores (1,024 at most), values of 10,240 characters at most."""
    variables = launch.spec.environment
    if len(variables) > MAX_ENVIRONMENT:
        yield "environment", f"At most {MAX_ENVIRONMENT} variables are allowed."
    for key, value in variables.items():
        if not _ENV_KEY.fullmatch(key):
            yield "environment", f"{key[:40]!r} is not a variable name (letters, digits, _)."
        if len(value) > MAX_ENVIRONMENT_VALUE:
            yield (
                "environment",
                f"The value of {key[:40]} is {len(value)} characters; "
                f"SageMaker allows {MAX_ENVIRONMENT_VALUE}.",
            )


def job_name(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    """SageMaker's TransformJobName rules, and no job of the portal's under the name: the
    name is how the create task, the poll and API history find the job again."""
    if not launch.name:
        return
    problem = job_name_problem(launch.name)
    if problem:
        yield "name", problem
    elif TransformJob.objects.filter(
        account_id=target.account_id, region=launch.region, name=launch.name
    ).exists():
        yield "name", f"A job named {launch.name} already exists in {launch.region}."


def s3_uris(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    for name, uri in (
        ("input_uri", launch.spec.input_uri),
        ("output_path", launch.spec.output_path),
    ):
        try:
            aws_s3.parse_s3_uri(uri)
        except ValueError as exc:
            yield name, str(exc)


# --- checks against AWS ----------------------------------------------------------------


def _location(uri: str) -> aws_s3.S3Uri | None:
    try:
        return aws_s3.parse_s3_uri(uri)
    except ValueError:
        return None  # said by s3_uris


def input_exists(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    source = _location(launch.spec.input_uri)
    if source is None:
        return
    region = launch.region
    if not aws_s3.bucket_exists(target=target, region=region, bucket=source.bucket):
        yield "input_uri", f"Bucket {source.bucket!r} does not exist in {region}."
    elif not aws_s3.prefix_has_objects(
        target=target, region=region, bucket=source.bucket, prefix=source.key
    ):
        yield "input_uri", f"No object or prefix with objects at {source}."


def output_prefix(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    """The output bucket exists, and the prefix is empty unless the launcher has seen that
    it is not: each input's `.out` lands under the prefix by the input's name, so a second
    job into the same prefix overwrites the first one's output (one ListObjectsV2, MaxKeys=1)."""
    destination = _location(launch.spec.output_path)
    if destination is None:
        return
    prefix = destination.key.rstrip("/") + "/" if destination.key.strip("/") else ""
    try:
        holds_objects = aws_s3.prefix_has_objects(
            target=target, region=launch.region, bucket=destination.bucket, prefix=prefix
        )
    except NotFound:
        yield "output_path", f"Bucket {destination.bucket!r} does not exist in {launch.region}."
        return
    if holds_objects and not launch.overwrite_output:
        # Said on the box that lets the launcher go on, which the form shows from then on.
        yield (
            "overwrite_output",
            f"s3://{destination.bucket}/{prefix} already holds objects: this job's output "
            "would overwrite same-named files from an earlier job. Choose a new output "
            "prefix, or tick the box to write there anyway.",
        )


def job_name_unused(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    """No job of that name in AWS either: the create task would take AWS's "already exists"
    for its own earlier delivery and follow someone else's job."""
    if not launch.name or job_name_problem(launch.name):
        return
    try:
        aws_transform.describe_transform_job(target=target, region=launch.region, name=launch.name)
    except NotFound:
        return
    yield "name", f"A job named {launch.name} already exists in {launch.region} (in SageMaker)."


def model_exists(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    try:
        aws_transform.describe_model_name(
            target=target, region=launch.region, name=launch.spec.model_name
        )
    except NotFound:
        yield "model_name", f"Model {launch.spec.model_name!r} does not exist in {launch.region}."


def _instances_in_use(*, target: Target, region: str, instance_type: str) -> int:
    """Instances of `instance_type` held by transform jobs running in the account-region
    (as AWS lists them), plus portal jobs saved but not yet created."""
    known = {
        j.name: j
        for j in TransformJob.objects.filter(account_id=target.account_id, region=region)
        .exclude(status__in=TERMINAL_STATUSES)
        .only("name", "instance_type", "instance_count", "status")
    }
    used = 0
    for status in (TransformStatus.IN_PROGRESS, TransformStatus.STOPPING):
        for summary in aws_transform.list_transform_jobs(
            target=target, region=region, status=status
        ):
            row = known.pop(summary.name, None)
            if row is not None:
                kind, count = row.instance_type, row.instance_count
            else:
                spec = aws_transform.describe_transform_job(
                    target=target, region=region, name=summary.name
                ).request.spec
                kind, count = spec.instance_type, spec.instance_count
            if kind == instance_type:
                used += count
    used += sum(
        j.instance_count
        for j in known.values()
        if j.status == TransformStatus.PENDING and j.instance_type == instance_type
    )
    return used


def instance_quota(launch: TransformLaunch, target: Target) -> Iterator[Problem]:
    """The Service Quotas "<type> for transform job usage" minus what running jobs hold."""
    spec = launch.spec
    name = f"{spec.instance_type} for transform job usage"
    try:
        quota = aws_quotas.sagemaker_quota_by_name(target=target, region=launch.region, name=name)
    except AccessDenied as exc:
        # Without servicequotas:ListServiceQuotas the check cannot be made; AWS still
        # enforces the quota at create time and the job then shows the same message.
        logger.warning("quota pre-check skipped for %s in %s: %s", name, launch.region, exc)
        return
    if quota is None:
        return  # no such quota: AWS decides at create time
    in_use = _instances_in_use(
        target=target, region=launch.region, instance_type=spec.instance_type
    )
    if in_use + spec.instance_count > quota.value:
        yield (
            "instance_type",
            quota_message(name=name, limit=quota.value, in_use=in_use, needed=spec.instance_count),
        )


LOCAL_CHECKS: tuple[Check, ...] = (
    instance_count,
    payload_size,
    concurrency,
    filters,
    environment,
    job_name,
    s3_uris,
)
AWS_CHECKS: tuple[Check, ...] = (input_exists, output_prefix, model_exists, job_name_unused)
# Only once everything else has passed: it lists (and may describe) the running jobs.
FINAL_CHECKS: tuple[Check, ...] = (instance_quota,)


def transform_job_preflight(*, launch: TransformLaunch) -> dict[str, list[str]]:
    """Every problem with a launch, by form field ("" for the form); empty when it may go."""
    target = target_by_name(launch.target)
    errors: dict[str, list[str]] = {}

    def run(checks: tuple[Check, ...]) -> None:
        for check in checks:
            for field, message in check(launch, target):
                errors.setdefault(field, []).append(message)

    run(LOCAL_CHECKS)
    try:
        run(AWS_CHECKS)
        if not errors:
            run(FINAL_CHECKS)
    except AwsError as exc:
        errors.setdefault("", []).append(f"Could not complete the pre-flight checks: {exc}")
    return errors
