"""What the Metrics tab draws over its lines (database only, no AWS): each alarm's threshold
on the chart of the quantity it watches, and the changes the inventory saw (deploys,
traffic shifts, scaling) as vertical lines.

Monitoring sits below shifts and triage, so the changes come from what it may read: the
endpoint's recorded states (endpoints.selectors), which show a deploy, a weight change or
a new instance count whoever made it: the portal, the console or auto scaling.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from endpoints.selectors import endpoint_timeline
from monitoring.live.chart_specs import CHARTS, condition_text, number, threshold_on_chart
from monitoring.selectors.alarms import endpoint_alarms

if TYPE_CHECKING:
    from endpoints.models import Endpoint
    from endpoints.state_diff import Change
    from monitoring.models import Alarm

_SPECS = {chart.id: chart for chart in CHARTS}
# The snapshot differences each kind of mark stands for; a desired value still in
# progress, and a share that moved only because another variant did, are not marks.
_DEPLOY = frozenset(
    {
        "config",
        "model",
        "image",
        "instance_type",
        "serverless",
        "variant_added",
        "variant_removed",
        "shadow",
    }
)
_TRAFFIC = frozenset({"weight"})
_SCALING = frozenset({"instance_count"})


def chart_thresholds(
    *, endpoint: Endpoint, charts: list[dict[str, Any]], period: int
) -> dict[str, list[dict[str, Any]]]:
    """Per chart id, the endpoint's alarms on that chart's quantity as horizontal lines in
    the chart's unit (see `chart_specs.threshold_on_chart` for which alarm goes where). An
    alarm on one variant is drawn only where that variant is charted."""
    alarms = endpoint_alarms(endpoint=endpoint)
    lines: dict[str, list[dict[str, Any]]] = {}
    for chart in charts:
        spec = _SPECS.get(chart["id"])
        if spec is None:
            continue
        variants = {t["variant"] for t in chart["traces"]}
        for alarm in alarms:
            threshold = alarm.threshold
            if threshold is None or (alarm.variant_name and alarm.variant_name not in variants):
                continue  # no fixed threshold (an anomaly band), or a variant not charted
            value = threshold_on_chart(
                chart=spec,
                namespace=alarm.namespace,
                metric=alarm.metric,
                statistic=alarm.statistic,
                threshold=threshold,
                alarm_period=alarm.period,
                chart_period=period,
            )
            if value is None:
                continue
            where = f" ({alarm.variant_name})" if alarm.variant_name else ""
            lines.setdefault(spec.id, []).append(
                {
                    "name": alarm.name,
                    "value": value,
                    "label": f"{alarm.name}{where}: {alarm.statistic} {number(value)} {spec.unit}",
                    "detail": condition_text(
                        namespace=alarm.namespace,
                        metric=alarm.metric,
                        statistic=alarm.statistic,
                        comparison=alarm.comparison,
                        threshold=threshold,
                    ),
                    "state": alarm.state,
                    "scaling": alarm.drives_auto_scaling,
                }
            )
    return lines


def alarm_conditions(alarms: list[Alarm]) -> list[tuple[Alarm, str]]:
    """Each alarm with its condition in the charts' units ("ModelLatency p99 > 500 ms"),
    for the alarm table beside the charts."""
    return [
        (
            alarm,
            condition_text(
                namespace=alarm.namespace,
                metric=alarm.metric,
                statistic=alarm.statistic,
                comparison=alarm.comparison,
                threshold=alarm.threshold,
            ),
        )
        for alarm in alarms
    ]


def change_marks(*, endpoint: Endpoint, start: datetime, end: datetime) -> list[dict[str, str]]:
    """Deploys, traffic shifts and scaling the inventory saw in (start, end], oldest first,
    one mark per kind per recorded state, with what changed in the snapshot's words."""
    marks = []
    for entry in endpoint_timeline(endpoint=endpoint, start=start, end=end):
        if entry.diff.before is None:
            continue  # the first state the portal saw: found, not changed
        when = entry.snapshot.observed_at.isoformat()
        changes = entry.diff.changes
        for kind, kinds in (("deploy", _DEPLOY), ("traffic", _TRAFFIC), ("scaling", _SCALING)):
            picked = [c for c in changes if c.kind in kinds]
            if picked:
                marks.append(
                    {
                        "time": when,
                        "kind": kind,
                        "label": _label(kind, picked),
                        "detail": "; ".join(c.text for c in picked),
                    }
                )
    return marks


def _label(kind: str, changes: list[Change]) -> str:
    """A word or two for the line's top: "deploy", "traffic shift", "scale out"."""
    if kind == "deploy":
        return "deploy"
    if kind == "traffic":
        return "traffic shift"
    directions = set()
    for change in changes:
        try:
            directions.add("out" if int(change.after) > int(change.before) else "in")
        except ValueError:
            continue
    return f"scale {directions.pop()}" if len(directions) == 1 else "scaling"
