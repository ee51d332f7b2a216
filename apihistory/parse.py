"""One CloudTrail record -> the column values of a TrailEvent row.

Pure (no Django, no I/O) so that records from LookupEvents and from trail log files in S3
become identical rows, and so every identity shape AWS writes can be tested from plain
dicts. The record itself is stored whole beside these columns; the columns are what pages
filter and search on, so a value that cannot be read becomes "" rather than an error,
except the event id and time without which a row means nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apihistory.search import search_text_for
from core.redaction import redact

# Column sizes of apihistory.models.TrailEvent (a test keeps the two in step).
MAX_LENGTHS = {
    "event_id": 64,
    "account_id": 12,
    "region": 32,
    "event_source": 64,
    "event_name": 128,
    "identity_type": 32,
    "principal_arn": 512,
    "principal_name": 256,
    "session_name": 128,
    "access_key_id": 128,
    "source_ip": 128,
    "endpoint_name": 63,
    "endpoint_config_name": 63,
    "resource_name": 256,
    "error_code": 128,
    "request_id": 128,
}
# Enough for every name, address and parameter a SageMaker call carries; a request with
# huge parameters (tags, environment maps) loses only its tail from search.
SEARCH_TEXT_LIMIT = 8000
KNOWN_IDENTITY_TYPES = frozenset(
    {
        "IAMUser",
        "AssumedRole",
        "Root",
        "FederatedUser",
        "AWSService",
        "AWSAccount",
        "IdentityCenterUser",
    }
)
UNKNOWN_IDENTITY = "Unknown"
_READ_PREFIXES = ("Describe", "List", "Get", "Search", "Lookup", "BatchGet", "BatchDescribe")
# requestParameters members naming a resource other than an endpoint or endpoint config,
# in the order that best says what a call was about (a batch job names its model too).
_RESOURCE_MEMBERS = (
    "transformJobName",
    "modelName",
    "monitoringScheduleName",
    "inferenceComponentName",
    "trainingJobName",
    "processingJobName",
    "hyperParameterTuningJobName",
    "autoMLJobName",
    "compilationJobName",
    "labelingJobName",
    "inferenceRecommendationsJobName",
    "jobDefinitionName",
    "modelPackageGroupName",
    "modelPackageName",
    "modelCardName",
    "notebookInstanceName",
    "pipelineName",
    "featureGroupName",
    "experimentName",
    "trialName",
    "userProfileName",
    "domainId",
    "appName",
    "imageName",
    "projectName",
    "clusterName",
    "workteamName",
    "codeRepositoryName",
)


class BadRecord(ValueError):
    """A record without the event id or time every row needs."""


@dataclass(frozen=True)
class Principal:
    """Who made a call, as the pages show and filter it."""

    identity_type: str
    arn: str = ""
    name: str = ""
    session: str = ""
    extra: tuple[str, ...] = ()  # more words to search by: issuers, identity stores


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).replace("\x00", "")


def without_nul(value: Any) -> Any:
    """The value with NUL characters removed from every string: PostgreSQL refuses them in
    text and jsonb, and one odd user agent must not make a whole page fail to store."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, Mapping):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _arn_tail(arn: str) -> str:
    """The last part of an ARN's resource: `.../user/path/Alice` -> `Alice`."""
    return arn.rsplit("/", 1)[-1] if "/" in arn else ""


def principal(identity: Any) -> Principal:
    """The principal of a record's userIdentity, for each identity type CloudTrail writes."""
    identity = _dict(identity)
    kind = _text(identity.get("type"))
    arn = _text(identity.get("arn"))
    principal_id = _text(identity.get("principalId"))
    if kind == "IAMUser":
        return Principal(kind, arn, _text(identity.get("userName")) or _arn_tail(arn))
    if kind == "AssumedRole":
        issuer = _dict(_dict(identity.get("sessionContext")).get("sessionIssuer"))
        role = _text(issuer.get("userName"))
        parts = arn.split(":assumed-role/", 1)[1].split("/") if ":assumed-role/" in arn else []
        if not role and len(parts) >= 2:
            role = parts[-2]
        session = parts[-1] if len(parts) >= 2 else principal_id.partition(":")[2]
        return Principal(kind, arn, role, session, (_text(issuer.get("arn")),))
    if kind == "Root":
        return Principal(kind, arn, "root")
    if kind == "FederatedUser":
        issuer = _dict(_dict(identity.get("sessionContext")).get("sessionIssuer"))
        name = _arn_tail(arn) or principal_id.partition(":")[2]
        return Principal(kind, arn, name, "", (_text(issuer.get("userName")),))
    if kind == "AWSService":
        return Principal(kind, arn, _text(identity.get("invokedBy")))
    if kind == "AWSAccount":
        name = _text(identity.get("accountId")) or principal_id
        return Principal(kind, arn, name, "", (principal_id, _text(identity.get("invokedBy"))))
    if kind == "IdentityCenterUser":
        behalf = _dict(identity.get("onBehalfOf"))
        return Principal(
            kind,
            arn,
            _text(behalf.get("userId")),
            "",
            (_text(behalf.get("identityStoreArn")), _text(identity.get("credentialId"))),
        )
    name = _text(identity.get("userName")) or _arn_tail(arn) or principal_id
    return Principal(UNKNOWN_IDENTITY, arn, name, "", (kind,))


def parse_event_time(value: Any) -> datetime:
    """CloudTrail's eventTime (ISO 8601, `Z`) as an aware UTC datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise BadRecord(f"eventTime {value!r} is not an ISO 8601 time.") from None
    else:
        raise BadRecord("record has no eventTime.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _read_only(value: Any, event_name: str) -> bool:
    """readOnly is a boolean in records and the string "true"/"false" in LookupEvents."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return event_name.startswith(_READ_PREFIXES)


def _arn_resource(arn: str) -> tuple[str, str]:
    """(resource type, name) of a SageMaker ARN: `...:endpoint/foo` -> ("endpoint", "foo")."""
    if not arn.startswith("arn:"):
        return "", ""
    resource = arn.split(":", 5)[-1]
    kind, _, name = resource.partition("/")
    return kind, name


@dataclass(frozen=True)
class _Names:
    endpoint: str
    config: str
    resource: str


def _names(record: Mapping[str, Any], params: Mapping[str, Any]) -> _Names:
    """The endpoint, endpoint config and other resource a call is about.

    requestParameters carry the names as written; resources[] and resourceArn (AddTags,
    ListTags) only ARNs, whose names AWS lower-cases, so they come second.
    """
    endpoint = _text(params.get("endpointName"))
    config = _text(params.get("endpointConfigName"))
    resource = next((_text(params[m]) for m in _RESOURCE_MEMBERS if _text(params.get(m))), "")
    resource_id = _text(params.get("resourceId"))  # Application Auto Scaling's endpoint/<n>/...
    if not endpoint and resource_id.startswith("endpoint/"):
        endpoint = resource_id.split("/")[1]
    arns = [_text(params.get("resourceArn"))] + [
        _text(_dict(item).get("ARN")) for item in record.get("resources") or []
    ]
    for arn in arns:
        kind, name = _arn_resource(arn)
        if not name:
            continue
        if kind == "endpoint":
            endpoint = endpoint or name
        elif kind == "endpoint-config":
            config = config or name
        else:
            resource = resource or name
    return _Names(endpoint, config, resource)


def _scalars(value: Any) -> Iterator[str]:
    """Every string and number in a request's parameters, depth first."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    elif isinstance(value, str):
        if value:
            yield value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def search_text(pieces: list[str], params: Any) -> str:
    """The record's words as apihistory.search stores them, cut at the last whole word
    within the limit (a huge parameter must not make one row weigh megabytes)."""
    text = search_text_for([*pieces, *_scalars(redact(params))])
    if len(text) <= SEARCH_TEXT_LIMIT:
        return text
    return text[: text.rfind(" ", 0, SEARCH_TEXT_LIMIT)] + " "


def _clip(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value[: MAX_LENGTHS[key]] if key in MAX_LENGTHS and isinstance(value, str) else value
        for key, value in values.items()
    }


def event_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The TrailEvent column values of a record (all but `target`), clipped to the columns.

    account_id and region come from the record; ingestion from LookupEvents overrides them
    with the account-region it asked, which is the same thing said by the API.
    """
    if not isinstance(record, Mapping):
        raise BadRecord("a CloudTrail record must be a JSON object.")
    record = without_nul(record)
    event_id = _text(record.get("eventID")).strip()
    if not event_id:
        raise BadRecord("record has no eventID.")
    event_time = parse_event_time(record.get("eventTime"))
    event_name = _text(record.get("eventName"))
    identity = _dict(record.get("userIdentity"))
    who = principal(identity)
    params = _dict(record.get("requestParameters"))
    names = _names(record, params)
    access_key = _text(identity.get("accessKeyId"))
    source_ip = _text(record.get("sourceIPAddress"))
    user_agent = _text(record.get("userAgent"))
    error_code = _text(record.get("errorCode"))
    error_message = _text(record.get("errorMessage"))
    request_id = _text(record.get("requestID"))
    text = search_text(
        [
            event_name,
            who.arn,
            who.name,
            who.session,
            *who.extra,
            access_key,
            source_ip,
            user_agent,
            names.endpoint,
            names.config,
            names.resource,
            error_code,
            error_message,
            request_id,
            event_id,
        ],
        params,
    )
    return _clip(
        {
            "event_id": event_id,
            "account_id": _text(record.get("recipientAccountId"))
            or _text(identity.get("accountId")),
            "region": _text(record.get("awsRegion")),
            "event_time": event_time,
            "event_source": _text(record.get("eventSource")),
            "event_name": event_name,
            "read_only": _read_only(record.get("readOnly"), event_name),
            "identity_type": who.identity_type,
            "principal_arn": who.arn,
            "principal_name": who.name,
            "session_name": who.session,
            "access_key_id": access_key,
            "source_ip": source_ip,
            "user_agent": user_agent,
            "endpoint_name": names.endpoint,
            "endpoint_config_name": names.config,
            "resource_name": names.resource,
            "error_code": error_code,
            "error_message": error_message,
            "request_id": request_id,
            "record": record,
            "search_text": text,
        }
    )
