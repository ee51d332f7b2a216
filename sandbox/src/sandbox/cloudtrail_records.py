"""What a CloudTrail record says about one API call, and which calls get one.

CloudTrail logs management events: control-plane calls, reads and writes, successful or
not. It does not log data-plane calls such as InvokeEndpoint or PutMetricData (those are
opt-in data events), nor S3 object reads and writes. Requests and responses appear with
CloudTrail's camelCase member names (``endpointName``), which is what every tool that parses
trail files or LookupEvents expects, so the conversion here follows CloudTrail, not the SDK.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.identities import Identity

EVENT_VERSION = "1.09"
# SigV4 signing name -> CloudTrail eventSource.
EVENT_SOURCES = {
    "sagemaker": "sagemaker.amazonaws.com",
    "monitoring": "monitoring.amazonaws.com",
    "application-autoscaling": "application-autoscaling.amazonaws.com",
    "s3": "s3.amazonaws.com",
    "servicequotas": "servicequotas.amazonaws.com",
    "sts": "sts.amazonaws.com",
    "cloudtrail": "cloudtrail.amazonaws.com",
}
# Data-plane operations CloudTrail does not log as management events.
_NOT_MANAGEMENT = {
    ("sagemaker", "InvokeEndpoint"),
    ("sagemaker", "InvokeEndpointAsync"),
    ("sagemaker", "InvokeEndpointWithResponseStream"),
    ("monitoring", "PutMetricData"),
}
# Services whose reads are not recorded here: CloudWatch's metric reads are high-volume
# dashboards traffic, and CloudTrail's own lookups would record every ingestion page.
_WRITES_ONLY = {"monitoring", "cloudtrail"}
_STS_RECORDED = {"AssumeRole"}
_READ_PREFIXES = ("Describe", "List", "Get", "Search", "Lookup", "BatchGet", "BatchDescribe")
# Members whose values are user-chosen maps: their keys are data, never renamed.
_MAP_MEMBERS = {"Environment", "CustomAttributes"}
# S3 sub-resources that turn PUT/DELETE /bucket into a bucket-level management call.
_S3_SUBRESOURCES = {
    "policy": "Policy",
    "versioning": "Versioning",
    "tagging": "Tagging",
    "cors": "Cors",
    "lifecycle": "Lifecycle",
    "notification": "Notification",
    "acl": "Acl",
    "encryption": "Encryption",
    "website": "Website",
    "logging": "Logging",
    "publicAccessBlock": "PublicAccessBlock",
    "ownershipControls": "OwnershipControls",
    "replication": "Replication",
}


@dataclass(frozen=True)
class CallKind:
    """Which CloudTrail event a request makes: its source, name and whether it only reads."""

    service: str
    event_source: str
    event_name: str
    read_only: bool


def is_read_only(operation: str) -> bool:
    return operation.startswith(_READ_PREFIXES)


def classify(
    service: str | None, operation: str | None, method: str, path: str, query: dict[str, Any]
) -> CallKind | None:
    """The event a request makes, or None when CloudTrail would not log it as management."""
    if service is None or service not in EVENT_SOURCES:
        return None
    if service == "s3":
        operation = s3_bucket_operation(method, path, query)
    if not operation or (service, operation) in _NOT_MANAGEMENT:
        return None
    if service == "sts" and operation not in _STS_RECORDED:
        return None
    read_only = is_read_only(operation)
    if read_only and service in _WRITES_ONLY:
        return None
    return CallKind(service, EVENT_SOURCES[service], operation, read_only)


def s3_bucket_operation(method: str, path: str, query: dict[str, Any]) -> str | None:
    """CreateBucket, DeleteBucket and PutBucket*/DeleteBucket* on a path-style request."""
    parts = path.strip("/").split("/", 1)
    if not parts[0] or (len(parts) > 1 and parts[1]):
        return None  # the service root (ListBuckets) or an object
    sub = next((_S3_SUBRESOURCES[key] for key in query if key in _S3_SUBRESOURCES), None)
    if method == "PUT":
        return f"PutBucket{sub}" if sub else ("CreateBucket" if not query else None)
    if method == "DELETE":
        return f"DeleteBucket{sub}" if sub else ("DeleteBucket" if not query else None)
    return None


def camel_key(key: str) -> str:
    """``EndpointName`` -> ``endpointName``, ``KMSKeyId`` -> ``kmsKeyId``, ``ARN`` -> ``arn``."""
    match = re.match(r"[A-Z]+", key)
    if not match:
        return key
    run = match.group(0)
    if len(run) == len(key):
        return key.lower()
    if len(run) == 1:
        return key[0].lower() + key[1:]
    return run[:-1].lower() + key[len(run) - 1 :]


def camel_case(value: Any) -> Any:
    """Rename every member of a request or response document, recursively."""
    if isinstance(value, dict):
        return {
            camel_key(str(k)): (v if k in _MAP_MEMBERS else camel_case(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [camel_case(item) for item in value]
    return value


def iso_time(epoch: float) -> str:
    """CloudTrail's eventTime: UTC to the second."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# (request member, resource type, ARN resource prefix) of the resources a call names.
_SAGEMAKER_RESOURCES = (
    ("EndpointName", "AWS::SageMaker::Endpoint", "endpoint"),
    ("EndpointConfigName", "AWS::SageMaker::EndpointConfig", "endpoint-config"),
    ("ModelName", "AWS::SageMaker::Model", "model"),
    ("TransformJobName", "AWS::SageMaker::TransformJob", "transform-job"),
    ("MonitoringScheduleName", "AWS::SageMaker::MonitoringSchedule", "monitoring-schedule"),
    ("ProcessingJobName", "AWS::SageMaker::ProcessingJob", "processing-job"),
    ("InferenceComponentName", "AWS::SageMaker::InferenceComponent", "inference-component"),
)


@dataclass(frozen=True)
class Resource:
    """A resource a call names: LookupEvents reports type and name; the record, the ARN."""

    type: str
    name: str
    arn: str

    def to_record(self, account_id: str) -> dict[str, str]:
        return {"accountId": account_id, "type": self.type, "ARN": self.arn}


def resources_named(
    service: str, params: dict[str, Any], region: str, account_id: str, path: str = ""
) -> list[Resource]:
    """The resources a call names in its parameters, with AWS's ARN for each."""
    found: list[Resource] = []
    if service == "sagemaker":
        for member, kind, prefix in _SAGEMAKER_RESOURCES:
            name = params.get(member)
            if isinstance(name, str) and name:
                arn = f"arn:aws:sagemaker:{region}:{account_id}:{prefix}/{name.lower()}"
                found.append(Resource(kind, name, arn))
    elif service == "monitoring":
        names = params.get("AlarmNames") or (
            [params["AlarmName"]] if isinstance(params.get("AlarmName"), str) else []
        )
        for name in names:
            arn = f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{name}"
            found.append(Resource("AWS::CloudWatch::Alarm", str(name), arn))
    elif service == "application-autoscaling":
        resource_id = params.get("ResourceId")
        if isinstance(resource_id, str) and resource_id.startswith("endpoint/"):
            endpoint = resource_id.split("/")[1]
            arn = f"arn:aws:sagemaker:{region}:{account_id}:endpoint/{endpoint.lower()}"
            found.append(Resource("AWS::SageMaker::Endpoint", endpoint, arn))
    elif service == "s3":
        bucket = path.strip("/").split("/", 1)[0]
        if bucket:
            found.append(Resource("AWS::S3::Bucket", bucket, f"arn:aws:s3:::{bucket}"))
    elif service == "sts" and isinstance(params.get("RoleArn"), str):
        found.append(Resource("AWS::IAM::Role", params["RoleArn"], params["RoleArn"]))
    return found


@dataclass(frozen=True)
class Call:
    """Everything a record says about one call, before it becomes CloudTrail's JSON."""

    kind: CallKind
    time: float
    region: str
    account_id: str
    access_key: str | None
    identity: Identity
    source_ip: str
    user_agent: str
    request_parameters: dict[str, Any] | None
    response_elements: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    request_id: str = ""
    event_id: str = ""
    # The GUID both copies of a cross-account call carry (AssumeRole of another account's
    # role is logged in the caller's account and in the role's).
    shared_event_id: str = ""


def build_record(call: Call, resources: list[Resource]) -> dict[str, Any]:
    """The CloudTrail record, member order as AWS writes it."""
    when = iso_time(call.time)
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": call.identity.user_identity(call.access_key, when=when),
        "eventTime": when,
        "eventSource": call.kind.event_source,
        "eventName": call.kind.event_name,
        "awsRegion": call.region,
        "sourceIPAddress": call.source_ip,
        "userAgent": call.user_agent,
    }
    if call.error_code is not None:
        record["errorCode"] = call.error_code
        record["errorMessage"] = call.error_message or ""
    record["requestParameters"] = camel_case(call.request_parameters)
    record["responseElements"] = (
        None
        if call.kind.read_only or call.error_code is not None
        else camel_case(call.response_elements)
    )
    record["requestID"] = call.request_id or str(uuid.uuid4())
    record["eventID"] = call.event_id or str(uuid.uuid4())
    record["readOnly"] = call.kind.read_only
    if resources:
        record["resources"] = [r.to_record(call.account_id) for r in resources]
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = True
    record["recipientAccountId"] = call.account_id
    if call.shared_event_id:
        record["sharedEventID"] = call.shared_event_id
    record["eventCategory"] = "Management"
    return record


_XML_CODE = re.compile(rb"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")


def error_from_body(body: bytes) -> tuple[str, str]:
    """The error code and message of a failed call's response, JSON or XML."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict):
        code = str(document.get("__type") or document.get("code") or "UnknownError")
        message = document.get("message") or document.get("Message") or ""
        return code.rsplit("#", 1)[-1], str(message)
    code_match, message_match = _XML_CODE.search(body), _XML_MESSAGE.search(body)
    code = code_match.group(1).decode(errors="replace") if code_match else "UnknownError"
    message = message_match.group(1).decode(errors="replace") if message_match else ""
    return code, message
