"""The one place that reaches into moto's in-memory backends.

The sandbox runs moto in the same process, so reading a model, an endpoint config or an S3
object directly is faster and simpler than calling ourselves over HTTP. Keeping every such
access here means a moto upgrade that moves an attribute breaks one small module, and the
rest of the sandbox deals only in the AWS-shaped dicts these functions return.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import Alarm, CloudWatchBackend, cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import get_account_id_from, iam_backends
from moto.logs.models import logs_backends
from moto.moto_api._internal.models import moto_api_backend
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpointConfig, SageMakerModelBackend, sagemaker_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition


@dataclass(frozen=True)
class S3Object:
    """The bytes of an S3 object and its ETag, which keys the sandbox's artifact cache."""

    data: bytes
    etag: str


def account_for(access_key: str | None, account_header: str | None) -> str:
    """Resolve the caller's account with moto's own precedence, so both agree on ownership."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if account_header:
        return account_header
    if access_key:
        return get_account_id_from(access_key)
    return DEFAULT_ACCOUNT_ID


def reset_moto() -> None:
    """Clear every moto backend, exactly what ``POST /moto-api/reset`` does."""
    moto_api_backend.reset()


def accept_instance_types(valid: frozenset[str]) -> None:
    """Check endpoint configs' instance types against `valid`, not moto's own list.

    moto's list predates ml.g5, ml.inf2, ml.c7i and every type since, so a config on a
    current type was refused. A type SageMaker does not know is still a
    ValidationException, in moto's wording.
    """

    def validate_instance_type(self: FakeEndpointConfig, instance_type: str) -> None:
        if instance_type not in valid:
            raise ValidationError(
                message=f"Value '{instance_type}' at 'instanceType' failed to satisfy "
                f"constraint: Member must satisfy enum value set: {sorted(valid)}"
            )

    FakeEndpointConfig.validate_instance_type = validate_instance_type  # type: ignore[method-assign]


def accept_component_variants() -> None:
    """Let a production variant without ModelName through, as SageMaker does for a variant
    that will host inference components; moto looks the missing name up and crashes."""
    original = SageMakerModelBackend.validate_production_variants

    def validate_production_variants(
        self: SageMakerModelBackend, production_variants: list[dict[str, Any]]
    ) -> None:
        original(self, [v for v in production_variants if v.get("ModelName")])

    SageMakerModelBackend.validate_production_variants = validate_production_variants  # type: ignore[method-assign]


def _sagemaker(account_id: str, region: str) -> SageMakerModelBackend:
    return sagemaker_backends[account_id][region]


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def model_description(account_id: str, region: str, name: str) -> dict[str, Any] | None:
    """DescribeModel's fields for a model, or None when the model does not exist."""
    model = _sagemaker(account_id, region)._models.get(name)
    return copy.deepcopy(model.response_object) if model is not None else None


# Where the sandbox keeps, on moto's endpoint config, the request fields moto does not store.
_KEPT_FIELDS = "sandbox_kept_fields"


def endpoint_config_description(account_id: str, region: str, name: str) -> dict[str, Any] | None:
    """DescribeEndpointConfig's fields for a config, or None when it does not exist."""
    config = _sagemaker(account_id, region).endpoint_configs.get(name)
    if config is None:
        return None
    return copy.deepcopy({**config.response_object, **getattr(config, _KEPT_FIELDS, {})})


def keep_endpoint_config_fields(
    account_id: str, region: str, name: str, fields: dict[str, Any]
) -> None:
    """Remember request fields moto's CreateEndpointConfig drops (ExecutionRoleArn,
    EnableNetworkIsolation, VpcConfig, ...) with the config, so they are described and
    forgotten with it."""
    config = _sagemaker(account_id, region).endpoint_configs.get(name)
    if config is not None:
        setattr(config, _KEPT_FIELDS, copy.deepcopy(fields))


@dataclass(frozen=True)
class ResourceSummary:
    """Name, ARN and creation time: all that SageMaker's List* operations sort and page on."""

    name: str
    arn: str
    creation_time: float


def model_summaries(account_id: str, region: str) -> list[ResourceSummary]:
    """Every model in a region, for the sandbox's own ListModels pagination."""
    summaries = []
    for name, model in list(_sagemaker(account_id, region)._models.items()):
        created = _epoch(getattr(model, "creation_time", None)) or 0.0
        summaries.append(ResourceSummary(name=name, arn=model.arn, creation_time=created))
    return summaries


def endpoint_config_summaries(account_id: str, region: str) -> list[ResourceSummary]:
    """Every endpoint config in a region, for the sandbox's own ListEndpointConfigs."""
    summaries = []
    for name, config in list(_sagemaker(account_id, region).endpoint_configs.items()):
        created = _epoch(getattr(config, "creation_time", None)) or 0.0
        summaries.append(
            ResourceSummary(name=name, arn=config.endpoint_config_arn, creation_time=created)
        )
    return summaries


def read_s3_object(account_id: str, region: str, bucket: str, key: str) -> S3Object | None:
    """An object's bytes, or None for a missing bucket or key (as a container download sees)."""
    backend = s3_backends[account_id][get_partition(region)]
    try:
        found = backend.get_object(bucket, key)
    except MissingBucket:
        return None
    if found is None:
        return None
    return S3Object(data=bytes(found.value), etag=str(found.etag))


def list_s3_keys(account_id: str, region: str, bucket: str, prefix: str) -> list[str] | None:
    """The keys under a prefix in key order, or None when the bucket is missing."""
    backend = s3_backends[account_id][get_partition(region)]
    try:
        found = backend.get_bucket(bucket)
    except MissingBucket:
        return None
    keys, _folders, _truncated, _marker = backend.list_objects(
        found, prefix or None, None, None, None
    )
    return [key.name for key in keys]


def s3_bucket_exists(account_id: str, region: str, bucket: str) -> bool:
    try:
        s3_backends[account_id][get_partition(region)].get_bucket(bucket)
    except MissingBucket:
        return False
    return True


def write_s3_object(
    account_id: str, region: str, bucket: str, key: str, data: bytes, content_type: str
) -> bool:
    """Store an object as a service would (data capture); False when the bucket is missing."""
    backend = s3_backends[account_id][get_partition(region)]
    try:
        stored = backend.put_object(bucket, key, data)
    except MissingBucket:
        return False
    stored.set_metadata({"Content-Type": content_type})
    return True


def add_endpoint_shadow(
    account_id: str,
    region: str,
    endpoint_name: str,
    endpoint_config_name: str,
    tags: list[dict[str, str]],
) -> None:
    """Register the endpoint with moto too, so moto's AddTags/ListTags/Search find it."""
    _sagemaker(account_id, region).create_endpoint(
        endpoint_name=endpoint_name, endpoint_config_name=endpoint_config_name, tags=tags
    )


def remove_endpoint_shadow(account_id: str, region: str, endpoint_name: str) -> None:
    _sagemaker(account_id, region).endpoints.pop(endpoint_name, None)


@dataclass(frozen=True)
class AlarmDefinition:
    """A metric alarm's configuration and current state, as DescribeAlarms reports them."""

    account_id: str
    region: str
    name: str
    arn: str
    namespace: str | None
    metric_name: str | None
    dimensions: tuple[tuple[str, str], ...]
    statistic: str | None
    extended_statistic: str | None
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int | None
    threshold: float | None
    comparison_operator: str
    treat_missing_data: str | None
    unit: str | None
    uses_metric_math: bool
    state_value: str
    state_reason: str
    state_reason_data: str | None
    state_updated: float


@dataclass(frozen=True)
class AlarmState:
    """The state fields the sandbox's evaluator writes onto moto's alarm."""

    value: str
    reason: str
    reason_data: str | None
    updated: float
    transitioned: float | None = None


def _cloudwatch_regions() -> Iterator[tuple[str, str, CloudWatchBackend]]:
    for account_id, regions in list(cloudwatch_backends.items()):
        for region, backend in list(regions.items()):
            yield account_id, region, backend


def _definition(account_id: str, region: str, alarm: Alarm) -> AlarmDefinition:
    return AlarmDefinition(
        account_id=account_id,
        region=region,
        name=alarm.name,
        arn=alarm.alarm_arn,
        namespace=alarm.namespace,
        metric_name=alarm.metric_name,
        dimensions=tuple((str(d.name), str(d.value)) for d in alarm.dimensions),
        statistic=alarm.statistic,
        extended_statistic=alarm.extended_statistic,
        period=int(alarm.period or 60),
        evaluation_periods=int(alarm.evaluation_periods or 1),
        datapoints_to_alarm=int(alarm.datapoints_to_alarm) if alarm.datapoints_to_alarm else None,
        threshold=float(alarm.threshold) if alarm.threshold is not None else None,
        comparison_operator=str(alarm.comparison_operator),
        treat_missing_data=alarm.treat_missing_data,
        unit=alarm.unit,
        uses_metric_math=bool(alarm.metric_data_queries) or alarm.rule is not None,
        state_value=alarm.state_value,
        state_reason=alarm.state_reason,
        state_reason_data=alarm.state_reason_data,
        state_updated=_epoch(alarm.state_updated_timestamp) or 0.0,
    )


def put_alarm(
    account_id: str,
    region: str,
    *,
    name: str,
    namespace: str,
    metric_name: str,
    dimensions: list[tuple[str, str]],
    statistic: str,
    period: int,
    evaluation_periods: int,
    threshold: float,
    comparison_operator: str,
    description: str,
    actions: list[str],
) -> str:
    """Store a metric alarm made by another service (a scaling policy's); returns its ARN."""
    alarm = cloudwatch_backends[account_id][region].put_metric_alarm(
        name=name,
        namespace=namespace,
        metric_name=metric_name,
        comparison_operator=comparison_operator,
        evaluation_periods=evaluation_periods,
        period=period,
        threshold=threshold,
        statistic=statistic,
        description=description,
        dimensions=[{"Name": key, "Value": value} for key, value in dimensions],
        alarm_actions=actions,
    )
    return str(alarm.alarm_arn)


def delete_alarms(account_id: str, region: str, names: list[str]) -> None:
    if names:
        cloudwatch_backends[account_id][region].delete_alarms(names)


def alarm_definitions() -> list[AlarmDefinition]:
    """Every metric alarm in every account and region, for the sandbox's alarm evaluator."""
    return [
        _definition(account_id, region, alarm)
        for account_id, region, backend in _cloudwatch_regions()
        for alarm in list(backend.alarms.values())
    ]


def alarm_definition(account_id: str, region: str, name: str) -> AlarmDefinition | None:
    alarm = cloudwatch_backends[account_id][region].alarms.get(name)
    return _definition(account_id, region, alarm) if alarm is not None else None


def set_alarm_state(account_id: str, region: str, name: str, state: AlarmState) -> bool:
    """Write the state fields DescribeAlarms returns; False if the alarm is gone meanwhile."""
    alarm = cloudwatch_backends[account_id][region].alarms.get(name)
    if alarm is None:
        return False
    if alarm.state_value == "ALARM" and state.value != "ALARM":
        entered = _alarm_since(alarm)
        setattr(alarm, _LAST_ALARM, (entered if entered is not None else 0.0, state.updated))
    alarm.state_value = state.value
    alarm.state_reason = state.reason
    alarm.state_reason_data = state.reason_data
    alarm.state_updated_timestamp = datetime.fromtimestamp(state.updated, tz=UTC)
    if state.transitioned is not None:
        alarm.state_transitioned_timestamp = datetime.fromtimestamp(state.transitioned, tz=UTC)
    return True


@dataclass(frozen=True)
class TrippedAlarm:
    """An alarm in ALARM state and the moment it went there."""

    name: str
    since: float


def alarms_in_alarm(
    account_id: str, region: str, names: Iterable[str], *, since: float | None = None
) -> list[TrippedAlarm]:
    """Which of the named alarms are in ALARM, and since when: what a deployment's
    auto-rollback watches. With `since`, an alarm that was in ALARM at any moment after it
    counts too (SageMaker watches continuously, so a few seconds in ALARM between two looks
    still roll back). Names without an alarm are skipped, as SageMaker finds no alarm in
    ALARM under them."""
    backend = cloudwatch_backends[account_id][region]
    tripped = []
    for name in names:
        alarm = backend.alarms.get(name)
        if alarm is None:
            continue
        if alarm.state_value != "ALARM":
            last = getattr(alarm, _LAST_ALARM, None)
            if since is not None and last is not None and last[1] >= since:
                tripped.append(TrippedAlarm(name=name, since=last[0]))
            continue
        moment = _alarm_since(alarm)
        tripped.append(TrippedAlarm(name=name, since=moment if moment is not None else 0.0))
    return tripped


# Where an alarm keeps its last spell in ALARM, (entered, left) in epoch seconds, once it has
# left it.
_LAST_ALARM = "_sandbox_last_alarm"


def _alarm_since(alarm: Any) -> float | None:
    """When the alarm entered its current state (moto's own timestamps are naive UTC)."""
    transitioned = getattr(alarm, "state_transitioned_timestamp", None)
    since = transitioned or alarm.state_updated_timestamp
    if isinstance(since, datetime) and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return _epoch(since)


def alarm_configuration(definition: AlarmDefinition) -> dict[str, Any]:
    """The alarm's settings in the camelCase shape AWS writes into alarm history."""
    configuration: dict[str, Any] = {
        "alarmName": definition.name,
        "alarmArn": definition.arn,
        "namespace": definition.namespace,
        "metricName": definition.metric_name,
        "dimensions": [{"name": n, "value": v} for n, v in definition.dimensions],
        "period": definition.period,
        "evaluationPeriods": definition.evaluation_periods,
        "threshold": definition.threshold,
        "comparisonOperator": definition.comparison_operator,
        "treatMissingData": definition.treat_missing_data or "missing",
    }
    if definition.extended_statistic:
        configuration["extendedStatistic"] = definition.extended_statistic
    else:
        configuration["statistic"] = definition.statistic
    if definition.datapoints_to_alarm:
        configuration["datapointsToAlarm"] = definition.datapoints_to_alarm
    return configuration


@dataclass(frozen=True)
class LoggingTrail:
    """A trail that is logging: where its files go and which regions it covers."""

    account_id: str
    home_region: str
    name: str
    bucket: str
    key_prefix: str
    multi_region: bool
    started: float


def logging_trails() -> list[LoggingTrail]:
    """Every trail, in every account and region, whose logging is started."""
    from moto.cloudtrail.models import cloudtrail_backends

    found: list[LoggingTrail] = []
    for account_id, regions in list(cloudtrail_backends.items()):
        for region, backend in list(regions.items()):
            for trail in list(backend.trails.values()):
                if not trail.status.is_logging:
                    continue
                started = trail.status.started
                found.append(
                    LoggingTrail(
                        account_id=account_id,
                        home_region=region,
                        name=trail.trail_name,
                        bucket=trail.bucket_name,
                        key_prefix=trail.s3_key_prefix or "",
                        multi_region=bool(trail.is_multi_region),
                        started=started.replace(tzinfo=UTC).timestamp() if started else 0.0,
                    )
                )
    return found


def put_log_events(
    account_id: str,
    region: str,
    group: str,
    stream: str,
    events: list[tuple[int, str]],
    *,
    keep: int,
) -> None:
    """Append (timestamp ms, message) events to a stream, creating the group and stream as
    a service writing its own logs does, and keep only the stream's newest ``keep``."""
    backend = logs_backends[account_id][region]
    backend.ensure_log_group(group)
    backend.ensure_log_stream(group, stream)
    found = backend.groups[group].streams[stream]
    found.put_log_events([{"timestamp": ms, "message": text} for ms, text in events])
    # Trimmed a tenth past the limit, into a new list: readers iterating the old one in
    # other threads are never disturbed, and a stream at its limit is not sorted per write.
    if len(found.events) > keep + keep // 10:
        found.events = sorted(found.events, key=lambda event: event.timestamp)[-keep:]


@dataclass(frozen=True)
class StoredLogEvent:
    """One CloudWatch Logs event as stored; ``event_id`` orders events of the same
    millisecond in the order they were written."""

    stream: str
    timestamp: int
    ingestion_time: int
    event_id: int
    message: str


def log_events(
    account_id: str,
    region: str,
    group: str,
    *,
    streams: list[str] | None,
    stream_prefix: str,
    start: int | None,
    end: int | None,
) -> tuple[list[str], list[StoredLogEvent]] | None:
    """The searched streams' names and their events within start..end (ms, both
    inclusive, as FilterLogEvents has them), all streams' events in time order; None when
    the group does not exist. ``streams`` names streams (missing ones are skipped), else
    every stream whose name starts with ``stream_prefix``."""
    found = logs_backends[account_id][region].groups.get(group)
    if found is None:
        return None
    searched = [
        (name, stream)
        for name, stream in list(found.streams.items())
        if (name in streams if streams is not None else name.startswith(stream_prefix))
    ]
    events = [
        StoredLogEvent(
            stream=name,
            timestamp=int(event.timestamp),
            ingestion_time=int(event.ingestion_time),
            event_id=int(event.event_id),
            message=str(event.message),
        )
        for name, stream in searched
        for event in list(stream.events)
        if (start is None or event.timestamp >= start) and (end is None or event.timestamp <= end)
    ]
    events.sort(key=lambda event: (event.timestamp, event.event_id))
    return [name for name, _ in searched], events


# --- IAM roles and STS sessions, for cross-account AssumeRole (sandbox/assume_role.py) ----


@dataclass(frozen=True)
class RoleFacts:
    """What AssumeRole checks of a role: that it exists, and who its trust policy names."""

    account_id: str
    name: str
    role_id: str
    path: str
    arn: str
    trust_policy: dict[str, Any]


@dataclass(frozen=True)
class RoleSession:
    """A session moto's AssumeRole issued: whose temporary key it is."""

    account_id: str
    role_arn: str
    session_name: str
    role_id: str
    path: str


def role_by_arn(arn: str) -> RoleFacts | None:
    """The role an ARN names, in its own account, or None when no such role exists."""
    match = re.match(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:(.*)/)?([^/]+)$", arn)
    if match is None:
        return None
    account_id, name = match.group(2), match.group(4)
    backend = iam_backends[account_id][match.group(1)]
    role = next((r for r in list(backend.roles.values()) if r.name == name), None)
    if role is None or role.arn != arn:
        return None
    try:
        trust = json.loads(role.assume_role_policy_document or "{}")
    except ValueError:
        trust = {}
    return RoleFacts(account_id, role.name, role.id, role.path or "/", role.arn, trust)


def role_session(access_key: str) -> RoleSession | None:
    """The assumed-role session a temporary (ASIA) key belongs to, in any account."""
    for account_id, partitions in list(sts_backends.items()):
        for backend in list(partitions.values()):
            found = backend.get_assumed_role_from_access_key(access_key)
            if found is not None:
                facts = role_by_arn(found.role_arn)
                role_id = facts.role_id if facts else found.user_id.split(":", 1)[0]
                return RoleSession(
                    account_id=account_id,
                    role_arn=found.role_arn,
                    session_name=found.session_name,
                    role_id=role_id,
                    path=facts.path if facts else "/",
                )
    return None


def create_role(account_id: str, name: str, trust_policy: dict[str, Any], path: str = "/") -> str:
    """Create a role directly in an account's IAM (as an account vending process does before
    anyone can sign in there); returns its ARN. An existing role is left as it is."""
    backend = iam_backends[account_id]["aws"]
    existing = next((r for r in list(backend.roles.values()) if r.name == name), None)
    if existing is not None:
        return str(existing.arn)
    role = backend.create_role(
        role_name=name,
        assume_role_policy_document=json.dumps(trust_policy),
        path=path,
        permissions_boundary=None,
        description="",
        tags=[],
        max_session_duration=None,
    )
    return str(role.arn)


def backdate_creation(account_id: str, region: str, kind: str, name: str, epoch: float) -> bool:
    """Set a model's or endpoint config's CreationTime (``kind`` "model" or
    "endpoint-config"), for a seeded world whose resources were made before it started."""
    backend = _sagemaker(account_id, region)
    found = (backend._models if kind == "model" else backend.endpoint_configs).get(name)
    if found is None:
        return False
    found.creation_time = datetime.fromtimestamp(epoch, UTC)
    return True
