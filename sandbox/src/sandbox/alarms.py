"""CloudWatch metric alarms that actually change state, and the history of those changes.

moto stores alarms (PutMetricAlarm, DescribeAlarms, DeleteAlarms stay moto's) but never
evaluates them and has no DescribeAlarmHistory. The sandbox evaluates every metric alarm
against its metric store the way CloudWatch does: the statistic per period over the last
EvaluationPeriods periods, DatapointsToAlarm of them breaching for ALARM, TreatMissingData for
gaps. A transition writes StateValue, StateReason (in AWS's wording), StateReasonData and the
timestamps onto moto's alarm and appends a StateUpdate history item.

Which periods count: the newest period is the current one if it already holds data (a test
that forced a metrics flush sees its minute at once), otherwise the last completed one. Live
endpoint metrics arrive once a minute, so an alarm on them never flaps at a minute boundary.
Alarms built on metric math are left as they are.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox import moto_bridge
from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse, json_response
from sandbox.cloudwatch_api import (
    epoch,
    invalid_combination,
    invalid_value,
    missing_parameter,
    validation_error,
)
from sandbox.metric_store import MetricStore, SeriesKey, dimensions_key
from sandbox.moto_bridge import AlarmDefinition, AlarmState

Handler = Callable[[AwsRequest], WsgiResponse | None]
Hook = Callable[[AwsRequest], None]

_PHRASES = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
_ITEM_TYPES = (
    "ConfigurationUpdate",
    "StateUpdate",
    "Action",
    "AlarmContributorStateUpdate",
    "AlarmContributorAction",
)
INITIAL_REASON = "Unchecked: Initial alarm creation"
MAX_HISTORY_RECORDS = 100


def java_number(value: float) -> str:
    """Numbers as CloudWatch's Java service prints them in reasons: 5 -> "5.0"."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e7:
        return f"{value:.1f}"
    return repr(float(value))


def reason_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%d/%m/%y %H:%M:%S")


def iso_millis(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class HistoryItem:
    """One DescribeAlarmHistory item."""

    account_id: str
    region: str
    alarm_name: str
    timestamp: float
    item_type: str
    summary: str
    data: str
    alarm_type: str = "MetricAlarm"


class AlarmHistory:
    """Every alarm's history items, oldest first, per account and region."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[HistoryItem] = []

    def add(self, item: HistoryItem) -> None:
        with self._lock:
            self._items.append(item)

    def items(self, account_id: str, region: str) -> list[HistoryItem]:
        with self._lock:
            return [i for i in self._items if i.account_id == account_id and i.region == region]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True)
class Datapoint:
    timestamp: float
    value: float
    sample_count: float


@dataclass(frozen=True)
class Verdict:
    """What one evaluation concluded: the state and the words and data that explain it."""

    state: str
    reason: str
    reason_data: dict[str, Any]


class AlarmEvaluator:
    """Evaluates metric alarms against the metric store and records transitions."""

    def __init__(
        self, store: MetricStore, history: AlarmHistory, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.history = history
        self.clock = clock
        self._lock = threading.Lock()

    def evaluate_all(self) -> list[str]:
        """Evaluate every alarm once; returns the names of the alarms that changed state."""
        changed = []
        with self._lock:
            now = self.clock()
            for definition in moto_bridge.alarm_definitions():
                if self._evaluate(definition, now):
                    changed.append(definition.name)
        return changed

    def set_state(
        self,
        account_id: str,
        region: str,
        name: str,
        state: str,
        reason: str,
        reason_data: Mapping[str, Any] | None,
    ) -> bool:
        """SetAlarmState: a change of state is history; the same state only gets the reason."""
        with self._lock:
            definition = moto_bridge.alarm_definition(account_id, region, name)
            if definition is None:
                return False
            now = self.clock()
            if state != definition.state_value:
                return self.transition(definition, state, reason, reason_data, now)
            data_text = json.dumps(reason_data) if reason_data else None
            return moto_bridge.set_alarm_state(
                account_id, region, name, AlarmState(state, reason, data_text, updated=now)
            )

    def _evaluate(self, definition: AlarmDefinition, now: float) -> bool:
        verdict = self.verdict(definition, now)
        if verdict is None or verdict.state == definition.state_value:
            return False
        return self.transition(definition, verdict.state, verdict.reason, verdict.reason_data, now)

    def transition(
        self,
        definition: AlarmDefinition,
        state: str,
        reason: str,
        reason_data: Mapping[str, Any] | None,
        now: float,
    ) -> bool:
        """Write the new state onto the alarm and append the StateUpdate history item."""
        data_text = json.dumps(reason_data, separators=(",", ":")) if reason_data else None
        written = moto_bridge.set_alarm_state(
            definition.account_id,
            definition.region,
            definition.name,
            AlarmState(state, reason, data_text, updated=now, transitioned=now),
        )
        if not written:
            return False
        old_state: dict[str, Any] = {
            "stateValue": definition.state_value,
            "stateReason": definition.state_reason,
        }
        old_data = _json_or_none(definition.state_reason_data)
        if old_data:
            old_state["stateReasonData"] = old_data
        new_state: dict[str, Any] = {"stateValue": state, "stateReason": reason}
        if reason_data:
            new_state["stateReasonData"] = reason_data
        self.history.add(
            HistoryItem(
                account_id=definition.account_id,
                region=definition.region,
                alarm_name=definition.name,
                timestamp=now,
                item_type="StateUpdate",
                summary=f"Alarm updated from {definition.state_value} to {state}",
                data=json.dumps({"version": "1.0", "oldState": old_state, "newState": new_state}),
            )
        )
        return True

    def verdict(self, definition: AlarmDefinition, now: float) -> Verdict | None:
        """The state the alarm's data calls for now; None for alarms the sandbox leaves alone."""
        compare = _COMPARE.get(definition.comparison_operator)
        statistic = definition.extended_statistic or definition.statistic
        if (
            definition.uses_metric_math
            or compare is None
            or statistic is None
            or definition.threshold is None
            or not definition.namespace
            or not definition.metric_name
        ):
            return None
        period = max(60, definition.period)
        periods = max(1, definition.evaluation_periods)
        needed = definition.datapoints_to_alarm or periods
        key = SeriesKey(
            definition.account_id,
            definition.region,
            definition.namespace,
            definition.metric_name,
            dimensions_key(dict(definition.dimensions)),
        )
        current = int(now // period) * period
        newest = (
            current if self.store.has_data(key, current, current + period) else current - period
        )
        oldest = newest - (periods - 1) * period
        aggregates = self.store.aggregate(key, oldest, newest + period, period, definition.unit)
        present: list[Datapoint] = []
        for aggregate in reversed(aggregates):
            value = aggregate.bucket.statistic(statistic)
            if value is not None:
                present.append(Datapoint(aggregate.start, value, aggregate.bucket.count))
        missing = periods - len(present)
        treat = definition.treat_missing_data or "missing"
        threshold = definition.threshold
        breaching = [p for p in present if compare(p.value, threshold)]
        missing_breaching = missing if treat == "breaching" else 0
        reason_data = self._reason_data(definition, statistic, period, oldest, present, now)
        phrase = _PHRASES[definition.comparison_operator]
        if len(breaching) + missing_breaching >= needed:
            listed = ", ".join(
                f"{java_number(p.value)} ({reason_time(p.timestamp)})" for p in breaching
            )
            verb = "was" if len(breaching) == 1 else "were"
            treated = (
                f" and {_plural(missing, 'missing datapoint')} {'was' if missing == 1 else 'were'} "
                "treated as [Breaching]"
                if missing_breaching
                else ""
            )
            subject = (
                f"{len(breaching)} out of the last {periods} datapoints [{listed}] {verb} "
                f"{phrase} the threshold ({java_number(threshold)}){treated}"
                if breaching
                else f"no datapoints were received for {_plural(periods, 'period')}{treated}"
            )
            reason = (
                f"Threshold Crossed: {subject} (minimum {_plural(needed, 'datapoint')} for "
                f"{definition.state_value} -> ALARM transition)."
            )
            return Verdict("ALARM", reason, reason_data)
        if not present:
            if treat == "missing":
                reason = (
                    f"Insufficient Data: {_plural(periods, 'datapoint')} "
                    f"{'was' if periods == 1 else 'were'} unknown."
                )
                return Verdict("INSUFFICIENT_DATA", reason, reason_data)
            if treat == "ignore":
                return None
            if treat == "notBreaching":
                reason = (
                    f"Threshold Crossed: no datapoints were received for "
                    f"{_plural(periods, 'period')} and {_plural(missing, 'missing datapoint')} "
                    f"{'was' if missing == 1 else 'were'} treated as [NonBreaching]."
                )
                return Verdict("OK", reason, reason_data)
        calm = [p for p in present if not compare(p.value, threshold)]
        listed = ", ".join(f"{java_number(p.value)} ({reason_time(p.timestamp)})" for p in calm)
        verb = "was" if len(calm) == 1 else "were"
        reason = (
            f"Threshold Crossed: {_plural(len(calm), 'datapoint')} [{listed}] {verb} not "
            f"{phrase} the threshold ({java_number(threshold)}) (minimum "
            f"{_plural(needed, 'datapoint')} for {definition.state_value} -> OK transition)."
        )
        return Verdict("OK", reason, reason_data)

    @staticmethod
    def _reason_data(
        definition: AlarmDefinition,
        statistic: str,
        period: int,
        oldest: float,
        present: list[Datapoint],
        now: float,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": "1.0",
            "queryDate": iso_millis(now),
            "startDate": iso_millis(oldest),
        }
        if definition.extended_statistic:
            data["extendedStatistic"] = statistic
        else:
            data["statistic"] = statistic
        if definition.unit:
            data["unit"] = definition.unit
        data.update(
            {
                "period": period,
                "recentDatapoints": [p.value for p in reversed(present)],
                "threshold": definition.threshold,
                "evaluatedDatapoints": [
                    {
                        "timestamp": iso_millis(p.timestamp),
                        "sampleCount": p.sample_count,
                        "value": p.value,
                    }
                    for p in present
                ],
            }
        )
        return data


def _json_or_none(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text) or None
    except ValueError:
        return None


class AlarmsApi:
    """DescribeAlarmHistory and SetAlarmState, plus checks and history around moto's writes."""

    def __init__(self, evaluator: AlarmEvaluator) -> None:
        self.evaluator = evaluator
        self.history = evaluator.history
        # State of alarms a PutMetricAlarm or DeleteAlarms is about to replace, by request id.
        self._before: dict[str, list[AlarmDefinition]] = {}
        self._lock = threading.Lock()

    def operations(self) -> dict[str, Handler]:
        return {
            "DescribeAlarmHistory": self.describe_alarm_history,
            "SetAlarmState": self.set_alarm_state,
            "PutMetricAlarm": self.before_put_metric_alarm,
            "DeleteAlarms": self.before_delete_alarms,
        }

    def after_moto(self) -> dict[str, Hook]:
        """Hooks run once moto has stored a change successfully."""
        return {
            "PutMetricAlarm": self.after_put_metric_alarm,
            "DeleteAlarms": self.after_delete_alarms,
        }

    def _remember(self, request: AwsRequest, definitions: list[AlarmDefinition]) -> None:
        with self._lock:
            self._before[request.request_id] = definitions

    def _recall(self, request: AwsRequest) -> list[AlarmDefinition]:
        with self._lock:
            return self._before.pop(request.request_id, [])

    def before_put_metric_alarm(self, request: AwsRequest) -> None:
        """Refuse what AWS refuses (moto accepts it), then let moto store the alarm."""
        params = request.json_body()
        name = params.get("AlarmName")
        if not name:
            raise missing_parameter("AlarmName")
        metrics = params.get("Metrics")
        if not metrics:
            for field in ("MetricName", "Namespace", "Period"):
                if params.get(field) in (None, ""):
                    raise missing_parameter(field)
            if params.get("Statistic") and params.get("ExtendedStatistic"):
                raise invalid_combination(
                    "Statistic and ExtendedStatistic parameters cannot both be specified."
                )
            if not params.get("Statistic") and not params.get("ExtendedStatistic"):
                raise invalid_combination(
                    "Either Statistic or ExtendedStatistic parameter must be specified."
                )
            period = params["Period"]
            if not isinstance(period, int) or not (period in (10, 30) or period % 60 == 0):
                raise validation_error("Period must be 10, 30 or a multiple of 60.")
        for field in ("EvaluationPeriods", "ComparisonOperator"):
            if params.get(field) in (None, ""):
                raise missing_parameter(field)
        periods = params["EvaluationPeriods"]
        if not isinstance(periods, int) or periods < 1:
            raise validation_error("EvaluationPeriods must be at least 1.")
        to_alarm = params.get("DatapointsToAlarm")
        if to_alarm is not None and not 1 <= to_alarm <= periods:
            raise validation_error(
                "DatapointsToAlarm must be between 1 and the value of EvaluationPeriods."
            )
        treat = params.get("TreatMissingData")
        if treat is not None and treat not in _MISSING_DATA:
            raise validation_error(
                f"TreatMissingData must be one of {', '.join(_MISSING_DATA)}; got {treat}."
            )
        if params.get("Threshold") is None and not params.get("ThresholdMetricId"):
            raise missing_parameter("Threshold")
        existing = moto_bridge.alarm_definition(request.account_id, request.region, str(name))
        self._remember(request, [existing] if existing else [])
        return None

    def after_put_metric_alarm(self, request: AwsRequest) -> None:
        """A new alarm starts INSUFFICIENT_DATA; an updated one keeps its state (as on AWS)."""
        previous = self._recall(request)
        name = str(request.json_body().get("AlarmName"))
        stored = moto_bridge.alarm_definition(request.account_id, request.region, name)
        if stored is None:
            return
        now = time.time()
        if previous:
            old = previous[0]
            moto_bridge.set_alarm_state(
                request.account_id,
                request.region,
                name,
                AlarmState(
                    old.state_value,
                    old.state_reason,
                    old.state_reason_data,
                    updated=old.state_updated,
                    transitioned=old.state_updated,
                ),
            )
            summary, kind, body_key = f'Alarm "{name}" updated', "Update", "updatedAlarm"
        else:
            moto_bridge.set_alarm_state(
                request.account_id,
                request.region,
                name,
                AlarmState(
                    "INSUFFICIENT_DATA", INITIAL_REASON, None, updated=now, transitioned=now
                ),
            )
            summary, kind, body_key = f'Alarm "{name}" created', "Create", "createdAlarm"
        data = {"type": kind, "version": "1.0", body_key: moto_bridge.alarm_configuration(stored)}
        self.history.add(
            HistoryItem(
                request.account_id,
                request.region,
                name,
                now,
                "ConfigurationUpdate",
                summary,
                json.dumps(data),
            )
        )

    def before_delete_alarms(self, request: AwsRequest) -> None:
        names = request.json_body().get("AlarmNames") or []
        found = [
            moto_bridge.alarm_definition(request.account_id, request.region, str(name))
            for name in names
        ]
        self._remember(request, [d for d in found if d is not None])
        return None

    def after_delete_alarms(self, request: AwsRequest) -> None:
        now = time.time()
        for definition in self._recall(request):
            data = {
                "type": "Delete",
                "version": "1.0",
                "deletedAlarm": moto_bridge.alarm_configuration(definition),
            }
            self.history.add(
                HistoryItem(
                    definition.account_id,
                    definition.region,
                    definition.name,
                    now,
                    "ConfigurationUpdate",
                    f'Alarm "{definition.name}" deleted',
                    json.dumps(data),
                )
            )

    def set_alarm_state(self, request: AwsRequest) -> WsgiResponse:
        """Set a state by hand; the next evaluation puts it back if the data disagrees."""
        params = request.json_body()
        for field in ("AlarmName", "StateValue", "StateReason"):
            if not params.get(field):
                raise missing_parameter(field)
        state = params["StateValue"]
        if state not in _STATES:
            raise validation_error(
                f"1 validation error detected: Value '{state}' at 'stateValue' failed to satisfy "
                "constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
            )
        reason_data = None
        if params.get("StateReasonData"):
            try:
                reason_data = json.loads(params["StateReasonData"])
            except ValueError:
                raise AwsError(
                    "InvalidFormat", "Unable to parse the StateReasonData as JSON."
                ) from None
        found = self.evaluator.set_state(
            request.account_id,
            request.region,
            str(params["AlarmName"]),
            state,
            str(params["StateReason"]),
            reason_data,
        )
        if not found:
            raise AwsError("ResourceNotFound", f"Alarm {params['AlarmName']} not found")
        return json_response(request, {})

    def describe_alarm_history(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        item_type = params.get("HistoryItemType")
        if item_type is not None and item_type not in _ITEM_TYPES:
            raise validation_error(
                f"1 validation error detected: Value '{item_type}' at 'historyItemType' failed "
                "to satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(_ITEM_TYPES)}]"
            )
        scan_by = params.get("ScanBy") or "TimestampDescending"
        if scan_by not in ("TimestampDescending", "TimestampAscending"):
            raise validation_error(
                f"1 validation error detected: Value '{scan_by}' at 'scanBy' failed to satisfy "
                "constraint: Member must satisfy enum value set: "
                "[TimestampDescending, TimestampAscending]"
            )
        max_records = params.get("MaxRecords", MAX_HISTORY_RECORDS)
        if (
            isinstance(max_records, bool)
            or not isinstance(max_records, int)
            or not 1 <= max_records <= MAX_HISTORY_RECORDS
        ):
            raise invalid_value(
                f"The value {max_records} for parameter MaxRecords is invalid: it must be "
                f"between 1 and {MAX_HISTORY_RECORDS}."
            )
        alarm_types = params.get("AlarmTypes") or ["MetricAlarm", "CompositeAlarm"]
        start = epoch(params, "StartDate", required=False)
        end = epoch(params, "EndDate", required=False)
        name = params.get("AlarmName")
        items = [
            item
            for item in self.history.items(request.account_id, request.region)
            if (name is None or item.alarm_name == name)
            and (item_type is None or item.item_type == item_type)
            and item.alarm_type in alarm_types
            and (start is None or item.timestamp >= start)
            and (end is None or item.timestamp <= end)
        ]
        # Stable order even for items written in the same instant: insertion order breaks ties.
        ordered = list(enumerate(items))
        ordered.sort(
            key=lambda pair: (pair[1].timestamp, pair[0]), reverse=scan_by == "TimestampDescending"
        )
        fingerprint = hashlib.sha256(
            json.dumps(
                {k: v for k, v in params.items() if k != "NextToken"}, sort_keys=True, default=str
            ).encode()
        ).hexdigest()[:16]
        offset = 0
        if params.get("NextToken"):
            offset = _token_offset(str(params["NextToken"]), fingerprint)
        page = [item for _, item in ordered[offset : offset + max_records]]
        answer: dict[str, Any] = {
            "AlarmHistoryItems": [
                {
                    "AlarmName": item.alarm_name,
                    "AlarmType": item.alarm_type,
                    "Timestamp": item.timestamp,
                    "HistoryItemType": item.item_type,
                    "HistorySummary": item.summary,
                    "HistoryData": item.data,
                }
                for item in page
            ]
        }
        if offset + max_records < len(ordered):
            token = json.dumps({"q": fingerprint, "o": offset + max_records}).encode()
            answer["NextToken"] = base64.urlsafe_b64encode(token).decode()
        return json_response(request, answer)


def _token_offset(token: str, fingerprint: str) -> int:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        if isinstance(payload, dict) and payload.get("q") == fingerprint:
            return int(payload["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    raise AwsError("InvalidNextToken", "The NextToken is invalid or belongs to another request.")
