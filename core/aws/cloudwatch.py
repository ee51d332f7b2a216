"""CloudWatch: metric data in as few calls as the API allows, and alarms."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from core.aws.clients import client
from core.aws.errors import translated
from core.aws.types import AlarmHistoryItem, AlarmState, MetricQuery, MetricSeries
from core.targets import Target

MAX_QUERIES_PER_CALL = 500  # GetMetricData's limit


def _cw(target: Target, region: str) -> Any:
    return client(target=target, region=region, service="cloudwatch")


def _query_json(query: MetricQuery) -> dict[str, Any]:
    return {
        "Id": query.id,
        "Label": query.label or query.id,
        "ReturnData": True,
        "MetricStat": {
            "Metric": {
                "Namespace": query.namespace,
                "MetricName": query.metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in query.dimensions],
            },
            "Period": query.period,
            "Stat": query.stat,
        },
    }


def get_metric_data(
    *, target: Target, region: str, queries: list[MetricQuery], start: datetime, end: datetime
) -> list[MetricSeries]:
    """All queries' series: one GetMetricData call per 500 queries (plus NextToken pages
    when a call's answer exceeds CloudWatch's datapoint limit)."""
    cw = _cw(target, region)
    series: dict[str, dict[str, Any]] = {}
    for offset in range(0, len(queries), MAX_QUERIES_PER_CALL):
        chunk = queries[offset : offset + MAX_QUERIES_PER_CALL]
        kwargs: dict[str, Any] = {
            "MetricDataQueries": [_query_json(q) for q in chunk],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            with translated("GetMetricData"):
                response = cw.get_metric_data(**kwargs)
            for result in response.get("MetricDataResults", []):
                entry = series.setdefault(
                    result["Id"],
                    {"label": result.get("Label", ""), "points": {}, "status": "Complete"},
                )
                entry["points"].update(zip(result["Timestamps"], result["Values"], strict=True))
                if result.get("StatusCode", "Complete") != "Complete":
                    entry["status"] = result["StatusCode"]
            token = response.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
    out = []
    for query in queries:
        entry = series.get(query.id, {"label": query.label, "points": {}, "status": "Complete"})
        ordered = sorted(entry["points"].items())
        out.append(
            MetricSeries(
                id=query.id,
                label=query.label or entry["label"],
                timestamps=tuple(t for t, _ in ordered),
                values=tuple(float(v) for _, v in ordered),
                status=entry["status"],
            )
        )
    return out


def _alarm(item: dict[str, Any]) -> AlarmState:
    return AlarmState(
        name=item["AlarmName"],
        arn=item.get("AlarmArn", ""),
        state=item.get("StateValue", "INSUFFICIENT_DATA"),
        reason=item.get("StateReason", ""),
        updated_at=item.get("StateUpdatedTimestamp"),
        namespace=item.get("Namespace", ""),
        metric=item.get("MetricName", ""),
        dimensions={d["Name"]: d["Value"] for d in item.get("Dimensions", [])},
        statistic=item.get("ExtendedStatistic") or item.get("Statistic", ""),
        threshold=item.get("Threshold"),
        comparison=item.get("ComparisonOperator", ""),
        period=item.get("Period"),
        evaluation_periods=item.get("EvaluationPeriods"),
        actions_enabled=bool(item.get("ActionsEnabled", False)),
    )


def describe_alarms(*, target: Target, region: str) -> Iterator[AlarmState]:
    """Every metric alarm of the region, 100 per call."""
    paginator = _cw(target, region).get_paginator("describe_alarms")
    with translated("DescribeAlarms"):
        for page in paginator.paginate(
            AlarmTypes=["MetricAlarm"], PaginationConfig={"PageSize": 100}
        ):
            for item in page.get("MetricAlarms", []):
                yield _alarm(item)


def alarm_states(*, target: Target, region: str, names: list[str]) -> list[AlarmState]:
    """The named metric alarms as they are now, in one DescribeAlarms call (at most 100
    names: AWS's limit for AlarmNames). An alarm deleted since is simply absent."""
    if not names:
        return []
    with translated("DescribeAlarms"):
        response = _cw(target, region).describe_alarms(
            AlarmNames=names[:100], AlarmTypes=["MetricAlarm"], MaxRecords=100
        )
    return [_alarm(item) for item in response.get("MetricAlarms", [])]


def alarm_history(
    *, target: Target, region: str, alarm_name: str, limit: int = 10
) -> list[AlarmHistoryItem]:
    """The alarm's most recent state changes, newest first."""
    with translated("DescribeAlarmHistory"):
        response = _cw(target, region).describe_alarm_history(
            AlarmName=alarm_name,
            HistoryItemType="StateUpdate",
            MaxRecords=limit,
            ScanBy="TimestampDescending",
        )
    return [
        AlarmHistoryItem(
            time=item["Timestamp"],
            item_type=item.get("HistoryItemType", ""),
            summary=item.get("HistorySummary", ""),
        )
        for item in response.get("AlarmHistoryItems", [])
    ]
