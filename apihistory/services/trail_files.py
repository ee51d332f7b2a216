"""Importing trail log files from S3: history older than LookupEvents' 90 days."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apihistory.services.storage import store_records
from audit.services import Outcome, audit_record
from core.aws import cloudtrail as aws_cloudtrail
from core.aws.errors import AwsError, NotFound
from core.aws.s3 import parse_s3_uri
from core.targets import Target


@dataclass
class ImportResult:
    """What one import of trail log files from S3 did; `errors` names each unreadable file."""

    target: str
    uri: str
    files: int = 0
    records: int = 0
    sagemaker: int = 0
    stored: int = 0
    other_accounts: int = 0
    bad_records: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        text = (
            f"{self.uri}: {self.files} log files, {self.records} records, "
            f"{self.sagemaker} SageMaker management events, {self.stored} new"
        )
        if self.other_accounts:
            text += f", {self.other_accounts} of other accounts skipped"
        if self.bad_records:
            text += f", {self.bad_records} unreadable records skipped"
        if self.errors:
            text += f", {len(self.errors)} unreadable files"
        return text


class TrailImportError(ValueError):
    """An S3 location that holds no importable trail files; the message says why."""


def _management_sagemaker(record: dict[str, Any]) -> bool:
    """What LookupEvents would return for our query: SageMaker management events (trail
    files also hold data and Insights events, which the portal does not keep)."""
    return (
        record.get("eventSource") == aws_cloudtrail.SAGEMAKER_SOURCE
        and record.get("managementEvent", True) is not False
        and record.get("eventCategory", "Management") == "Management"
        and record.get("eventType") != "AwsCloudTrailInsight"
    )


def trail_import_s3(*, target: Target, uri: str) -> ImportResult:
    """Import the target account's SageMaker events from trail log files under an S3 prefix,
    for history older than LookupEvents' 90 days.

    A location that cannot hold trail files raises TrailImportError; an unreadable file is
    named in `errors` and the others are still imported. Records of other accounts (an
    organization trail's bucket) are counted and skipped.
    """
    try:
        location = parse_s3_uri(uri)
    except ValueError as exc:
        raise TrailImportError(str(exc)) from None
    region = target.regions[0]
    result = ImportResult(target=target.name, uri=str(location))
    try:
        keys = list(
            aws_cloudtrail.trail_log_keys(
                target=target, region=region, bucket=location.bucket, prefix=location.key
            )
        )
    except NotFound as exc:
        raise TrailImportError(
            f"S3 bucket {location.bucket!r} does not exist ({exc.code or exc})."
        ) from None
    except AwsError as exc:
        raise TrailImportError(f"Cannot list {location}: {exc}") from None
    if not keys:
        raise TrailImportError(
            f"No CloudTrail log files under {location}: expected .json.gz files under "
            "AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/."
        )
    for key in keys:
        try:
            trail_file = aws_cloudtrail.read_trail_file(
                target=target, region=region, bucket=location.bucket, key=key
            )
        except aws_cloudtrail.BadTrailFile as exc:
            result.errors.append(str(exc))
            continue
        except AwsError as exc:
            result.errors.append(f"s3://{location.bucket}/{key}: {exc}")
            continue
        result.files += 1
        keep = []
        for record in trail_file.records:
            result.records += 1
            if not _management_sagemaker(record):
                continue
            result.sagemaker += 1
            identity = record.get("userIdentity")
            account = str(
                record.get("recipientAccountId")
                or (identity.get("accountId") if isinstance(identity, dict) else None)
                or target.account_id
            )
            if account != target.account_id:
                result.other_accounts += 1
                continue
            keep.append(record)
        stored, bad = store_records(target=target, records=keep)
        result.stored += stored
        result.bad_records += bad
    audit_record(
        actor=None,
        action="cloudtrail.import",
        target=str(location),
        after={
            "target": target.name,
            "files": result.files,
            "stored": result.stored,
            "errors": result.errors[:20],
        },
        outcome=Outcome.OK if result.ok else Outcome.FAILED,
        error="; ".join(result.errors[:3]),
    )
    return result
