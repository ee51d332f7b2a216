"""The metrics panel: CloudWatch data for one endpoint, all variants, in one call.

Every chart of the panel and the variant comparison table come from a single
GetMetricData request (split only past 500 queries), cached per (endpoint, range,
period). An endpoint built for inference components is charted and compared per
component instead, its variants only for their instances' utilization. When
CloudWatch fails, the panel shows the last good answer marked stale; it never fails the
page.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from core.aws import cloudwatch as aws_cloudwatch
from core.aws.errors import AwsError
from core.aws.types import MetricQuery, MetricSeries
from core.targets import target_by_name
from endpoints.selectors.async_inference import is_async
from endpoints.selectors.inference_components import hosts_components
from endpoints.selectors.multi_model import multi_model_variants
from monitoring.live.chart_specs import (
    CHARTS,
    COMPONENT_CHARTS,
    SUMMARY,
    TOTALS,
    Chart,
    Line,
    instance_chart,
    metric_for,
)
from monitoring.live.grid import on_grid, period_grid, with_requests

if TYPE_CHECKING:
    from endpoints.models import Endpoint

RANGES: dict[str, int] = {
    "1h": 3600,
    "3h": 3 * 3600,
    "12h": 12 * 3600,
    "24h": 24 * 3600,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
}
MAX_POINTS = 360  # per series: enough for a chart, few enough to draw fast
REFRESH_SECONDS = 60
MAX_REFRESH_SECONDS = 900
LAST_GOOD_SECONDS = 7 * 86400


@dataclass(frozen=True)
class TimeRange:
    """A chart range: a preset ("1h" ...) ending now, or a custom start and end."""

    key: str
    start: datetime
    end: datetime

    @classmethod
    def preset(cls, key: str, *, now: datetime | None = None) -> TimeRange:
        now = now or timezone.now()
        end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return cls(key=key, start=end - timedelta(seconds=RANGES[key]), end=end)

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


def choose_period(*, start: datetime, end: datetime, now: datetime | None = None) -> int:
    """The finest period CloudWatch keeps for the range, coarse enough for a chart.

    One-minute data lives 15 days, five-minute 63 days, hourly 455 days; a period is a
    multiple of 60 s. Within that, keep each series at or under MAX_POINTS points.
    """
    now = now or timezone.now()
    age = now - start
    if age > timedelta(days=63):
        minimum = 3600
    elif age > timedelta(days=15):
        minimum = 300
    else:
        minimum = 60
    wanted = math.ceil((end - start).total_seconds() / MAX_POINTS / 60) * 60
    period = max(minimum, wanted)
    for nice in (60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400):
        if nice >= period and nice % minimum == 0:
            return nice
    return math.ceil(period / 86400) * 86400


def panel_queries(
    *,
    endpoint_name: str,
    variant_names: list[str],
    period: int,
    range_seconds: int,
    serverless: Collection[str] = (),
    multi_model: Collection[str] = (),
    asynchronous: bool = False,
    components: Sequence[str] | None = None,
) -> list[MetricQuery]:
    """Every query of the panel: charts and totals per period, latency percentiles over
    the whole range (its own period) for the comparison table. A variant in `serverless`
    is not asked for instance metrics it never publishes, and only it is asked for
    ModelSetupTime; only a variant in `multi_model` is asked for the model loading metrics;
    only an `asynchronous` endpoint is asked for its queue (once, by EndpointName alone).
    `components` (None: the endpoint is not built for them) are asked for what SageMaker
    counts per component, and the variants then only for their instances' utilization."""
    whole = math.ceil(range_seconds / 60) * 60
    queries = []
    if asynchronous:
        endpoint_lines = [line for c in CHARTS if c.per_endpoint for line in c.lines]
        queries += _queries(
            "e", (("EndpointName", endpoint_name),), f"{endpoint_name} ", endpoint_lines, period
        )
    for index, variant in enumerate(variant_names):
        dims: tuple[tuple[str, str], ...] = (
            ("EndpointName", endpoint_name),
            ("VariantName", variant),
        )
        charts = [
            c
            for c in CHARTS
            if c.emitted_by(serverless=variant in serverless, multi_model=variant in multi_model)
            and (components is None or instance_chart(c))
        ]
        lines = [line for chart in charts for line in chart.lines]
        if components is None:
            lines += TOTALS
        queries += _queries(f"v{index}", dims, variant, lines, period, asynchronous=asynchronous)
        if components is None:
            queries += _summary_queries(f"v{index}", dims, variant, whole)
    for index, component in enumerate(components or ()):
        dims = (("InferenceComponentName", component),)
        lines = [line for chart in COMPONENT_CHARTS for line in chart.lines] + list(TOTALS)
        queries += _queries(f"c{index}", dims, component, lines, period)
        queries += _summary_queries(f"c{index}", dims, component, whole)
    return queries


def _queries(
    prefix: str,
    dimensions: tuple[tuple[str, str], ...],
    name: str,
    lines: Sequence[Line],
    period: int,
    *,
    asynchronous: bool = False,
) -> list[MetricQuery]:
    """One query per line for one variant, component or endpoint (ids `<prefix>_<key>`)."""
    return [
        MetricQuery(
            id=f"{prefix}_{line.key}",
            namespace=line.namespace,
            metric=metric_for(line, asynchronous=asynchronous),
            dimensions=dimensions,
            stat=line.stat,
            period=period,
            label=f"{name}{line.suffix}",
        )
        for line in lines
    ]


def _summary_queries(
    prefix: str, dimensions: tuple[tuple[str, str], ...], name: str, whole: int
) -> list[MetricQuery]:
    """The latency percentiles over the whole range, for the comparison table."""
    return [
        MetricQuery(
            id=f"{prefix}_{line.key}",
            namespace=line.namespace,
            metric=line.metric,
            dimensions=dimensions,
            stat=line.stat,
            period=whole,
            label=f"{name} {line.stat} over range",
        )
        for line in SUMMARY
    ]


def refresh_seconds(*, failures: int) -> int:
    """When an open panel asks again: every minute while CloudWatch answers, then twice as
    long after each failure in a row, up to a quarter of an hour, so a room of open tabs
    does not keep knocking on an AWS that is already failing."""
    if failures <= 0:
        return REFRESH_SECONDS
    return min(REFRESH_SECONDS * 2 ** min(failures, 10), MAX_REFRESH_SECONDS)


@dataclass
class Panel:
    """What the metrics tab renders."""

    range: TimeRange
    period: int
    charts: list[dict[str, Any]]
    comparison: list[dict[str, Any]]
    fetched_at: datetime | None
    stale_since: datetime | None = None
    error: str = ""
    from_cache: bool = False
    notes: list[str] = field(default_factory=list)
    # What the comparison table's rows are: "variants", or "components" for an endpoint
    # built for inference components.
    compares: str = "variants"


def _cache_key(endpoint: Endpoint, time_range: TimeRange, period: int, *, last_good: bool) -> str:
    span = (
        time_range.key if time_range.key in RANGES else f"{time_range.start:%s}-{time_range.end:%s}"
    )
    kind = "metrics-last-good" if last_good else "metrics"
    return f"{kind}:{endpoint.pk}:{span}:{period}"


def metrics_panel(*, endpoint: Endpoint, time_range: TimeRange) -> Panel:
    """The panel for one endpoint and range, from cache, CloudWatch, or last good data."""
    period = choose_period(start=time_range.start, end=time_range.end)
    key = _cache_key(endpoint, time_range, period, last_good=False)
    cached = cache.get(key)
    if cached is not None:
        cached.from_cache = True
        return cached
    # Production variants first, then shadows: a shadow's lines and row sit beside the
    # production variant whose requests it copies.
    variants = sorted(endpoint.variants.all(), key=lambda v: v.is_shadow)
    multi_model = {v.name for v in multi_model_variants(endpoint)}
    asynchronous = is_async(endpoint)
    components = list(endpoint.inference_components or []) if hosts_components(endpoint) else None
    try:
        series = aws_cloudwatch.get_metric_data(
            target=target_by_name(endpoint.target),
            region=endpoint.region,
            queries=panel_queries(
                endpoint_name=endpoint.name,
                variant_names=[v.name for v in variants],
                period=period,
                range_seconds=time_range.seconds,
                serverless={v.name for v in variants if v.serverless},
                multi_model=multi_model,
                asynchronous=asynchronous,
                components=None if components is None else [str(c["name"]) for c in components],
            ),
            start=time_range.start,
            end=time_range.end,
        )
    except AwsError as exc:
        last_good: Panel | None = cache.get(
            _cache_key(endpoint, time_range, period, last_good=True)
        )
        if last_good is None:
            return Panel(
                range=time_range,
                period=period,
                charts=[],
                comparison=[],
                fetched_at=None,
                stale_since=timezone.now(),
                error=str(exc),
            )
        last_good.stale_since = last_good.stale_since or last_good.fetched_at
        last_good.error = str(exc)
        return last_good
    panel = _build_panel(
        time_range=time_range,
        period=period,
        variants=variants,
        series=series,
        multi_model=multi_model,
        asynchronous=asynchronous,
        components=components,
    )
    cache.set(key, panel, settings.OPSPORTAL_METRICS_CACHE_SECONDS)
    cache.set(_cache_key(endpoint, time_range, period, last_good=True), panel, LAST_GOOD_SECONDS)
    return panel


def _build_panel(
    *,
    time_range: TimeRange,
    period: int,
    variants: list[Any],
    series: list[MetricSeries],
    multi_model: Collection[str] = (),
    asynchronous: bool = False,
    components: Sequence[dict[str, Any]] | None = None,
) -> Panel:
    """The charts of the variants that publish them (a chart no variant publishes is left
    out: serverless variants have no CPU, instance-based ones no ModelSetupTime), each
    series on the range's period grid with nulls where CloudWatch had no data. A chart
    with no value at all is marked `empty`, so the page says so instead of drawing axes
    around nothing. For an endpoint built for inference `components` (None: it is not), the
    components' charts come first, one line per component (none while it hosts none), and of
    the variants' charts only their instances' utilization, which is all such variants
    may publish, and only when CloudWatch has some."""
    by_id = {s.id: s for s in series}
    grid = period_grid(
        start=time_range.start, end=time_range.end, period=period, now=timezone.now()
    )
    charts = []
    members = [(f"c{index}", str(c["name"])) for index, c in enumerate(components or ())]
    for chart in COMPONENT_CHARTS if members else ():
        charts.append(_chart(chart, _traces(chart, members=members, by_id=by_id, grid=grid)))
    for chart in CHARTS:
        if chart.per_endpoint:
            if asynchronous:
                charts.append(_endpoint_chart(chart, by_id=by_id, grid=grid))
            continue
        if components is not None and not instance_chart(chart):
            continue
        emitting = [
            (f"v{index}", v.name)
            for index, v in enumerate(variants)
            if chart.emitted_by(serverless=bool(v.serverless), multi_model=v.name in multi_model)
        ]
        if not emitting and (variants or chart.emitters != "all"):
            continue
        drawn = _chart(chart, _traces(chart, members=emitting, by_id=by_id, grid=grid))
        if components is not None and drawn["empty"]:
            continue  # the components' own charts say what there is; no empty axes beside
        charts.append(drawn)
    notes = sorted({f"{s.label}: {s.status}" for s in series if s.status != "Complete"})
    return Panel(
        range=time_range,
        period=period,
        charts=charts,
        comparison=(
            _comparison(variants=variants, by_id=by_id)
            if components is None
            else _component_comparison(components=components, by_id=by_id)
        ),
        fetched_at=timezone.now(),
        notes=notes,
        compares="variants" if components is None else "components",
    )


def _traces(
    chart: Chart,
    *,
    members: list[tuple[str, str]],
    by_id: dict[str, MetricSeries],
    grid: list[datetime],
) -> list[dict[str, Any]]:
    """One line per chart line per member (a variant or a component, given as its query id
    prefix and name), a rate left blank in the periods its member served no request."""
    traces = []
    for prefix, name in members:
        for line in chart.lines:
            data = by_id.get(f"{prefix}_{line.key}")
            if data is None:
                continue
            shown = None
            if line.per:
                counts = by_id.get(f"{prefix}_{line.per}")
                shown = (
                    with_requests(timestamps=counts.timestamps, values=counts.values)
                    if counts
                    else set()
                )
            x, y = on_grid(
                grid=grid,
                timestamps=data.timestamps,
                values=data.values,
                scale=line.scale,
                shown=shown,
            )
            traces.append(
                {"name": f"{name}{line.suffix}", "variant": name, "x": x, "y": y, "dash": line.dash}
            )
    return traces


def _chart(chart: Chart, traces: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": chart.id,
        "title": chart.title,
        "unit": chart.unit,
        "traces": traces,
        "empty": not any(v is not None for t in traces for v in t["y"]),
    }


def _endpoint_chart(
    chart: Chart, *, by_id: dict[str, MetricSeries], grid: list[datetime]
) -> dict[str, Any]:
    """A chart of the endpoint's own metrics (an asynchronous endpoint's queue): one line
    per metric, named by what it counts, not by a variant."""
    traces = []
    for line in chart.lines:
        data = by_id.get(f"e_{line.key}")
        if data is None:
            continue
        x, y = on_grid(grid=grid, timestamps=data.timestamps, values=data.values, scale=line.scale)
        traces.append(
            {"name": line.suffix, "variant": line.suffix, "x": x, "y": y, "dash": line.dash}
        )
    return _chart(chart, traces)


def _total(series: MetricSeries | None) -> float:
    return float(sum(series.values)) if series else 0.0


def _summary(series: MetricSeries | None, weights: MetricSeries | None) -> float | None:
    """The range's percentile: CloudWatch answers one point for a whole-range period;
    if the range straddles a period boundary, weight the points by invocations."""
    if not series or not series.values:
        return None
    if len(series.values) == 1 or not weights:
        return series.values[-1] * 1e-3
    counts = dict(zip(weights.timestamps, weights.values, strict=True))
    total = sum(counts.get(t, 0.0) for t in series.timestamps) or len(series.values)
    weighted = sum(
        v * counts.get(t, 1.0) for t, v in zip(series.timestamps, series.values, strict=True)
    )
    return weighted / total * 1e-3


def _comparison(*, variants: list[Any], by_id: dict[str, MetricSeries]) -> list[dict[str, Any]]:
    """Per variant: configured vs observed traffic share, error rates and latency over the
    range, and the difference to the production variant that carries the most traffic. A
    shadow variant has no share (it answers copies) and is compared like the others."""
    weights = {v.name: v.weight for v in variants if not v.is_shadow}
    weight_sum = sum(weights.values())
    rows = []
    for index, variant in enumerate(variants):
        invocations = _total(by_id.get(f"v{index}_inv"))
        share = None if variant.is_shadow else weights[variant.name]
        rows.append(
            {
                "variant": variant.name,
                "is_shadow": variant.is_shadow,
                "configured_share": (
                    None if share is None else 100 * share / weight_sum if weight_sum else 0
                ),
                "invocations": invocations,
                "errors_4xx": _total(by_id.get(f"v{index}_t4")),
                "errors_5xx": _total(by_id.get(f"v{index}_t5")),
                "p50_ms": _summary(by_id.get(f"v{index}_s50"), by_id.get(f"v{index}_inv")),
                "p99_ms": _summary(by_id.get(f"v{index}_s99"), by_id.get(f"v{index}_inv")),
            }
        )
    return _with_rates(rows)


def _component_comparison(
    *, components: Sequence[dict[str, Any]], by_id: dict[str, MetricSeries]
) -> list[dict[str, Any]]:
    """Per inference component: its copies, its share of the endpoint's requests, error
    rates and latency over the range, and the difference to the busiest component. No
    share is configured: a request names its component."""
    rows = []
    for index, component in enumerate(components):
        prefix = f"c{index}"
        rows.append(
            {
                "variant": str(component["name"]),
                "is_shadow": False,
                "configured_share": None,
                "copies": component.get("current_copies"),
                "invocations": _total(by_id.get(f"{prefix}_inv")),
                "errors_4xx": _total(by_id.get(f"{prefix}_t4")),
                "errors_5xx": _total(by_id.get(f"{prefix}_t5")),
                "p50_ms": _summary(by_id.get(f"{prefix}_s50"), by_id.get(f"{prefix}_inv")),
                "p99_ms": _summary(by_id.get(f"{prefix}_s99"), by_id.get(f"{prefix}_inv")),
            }
        )
    return _with_rates(rows)


def _with_rates(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their observed share, error rates and difference to the busiest."""
    total = sum(r["invocations"] for r in rows if not r["is_shadow"])
    for row in rows:
        calls = row["invocations"]
        row["observed_share"] = 100 * calls / total if total and not row["is_shadow"] else None
        row["rate_4xx"] = 100 * row["errors_4xx"] / calls if calls else None
        row["rate_5xx"] = 100 * row["errors_5xx"] / calls if calls else None
    if rows and total:
        leader = max((r for r in rows if not r["is_shadow"]), key=lambda r: r["invocations"])
        for row in rows:
            row["is_leader"] = row is leader
            row["delta"] = {
                key: (row[key] - leader[key])
                if row[key] is not None and leader[key] is not None
                else None
                for key in ("rate_4xx", "rate_5xx", "p50_ms", "p99_ms")
            }
    return rows


# The timeline's and a staged shift's chart: error rates on the left axis, p99 latency on
# the right.
_ERROR_LATENCY_LINES = {
    "errors5xx": ("5XX", "y"),
    "errors4xx": ("4XX", "y"),
    "latency": ("p99", "y2"),
}


def error_latency_series(
    panel: Panel, *, variants: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """The 5XX and 4XX rate and p99 latency lines of the panel (of `variants` only, when
    given), as the timeline charts draw them: taken from the cached metrics panel, so one
    GetMetricData serves the Metrics tab, the timeline and a plan's chart, and their
    periods without data (or, for a rate, without requests) are the same nulls there."""
    series = []
    for chart in panel.charts:
        line = _ERROR_LATENCY_LINES.get(chart["id"])
        if line is None:
            continue
        label, axis = line
        for trace in chart["traces"]:
            if chart["id"] == "latency" and not trace["name"].endswith(" p99"):
                continue
            if variants is not None and trace["variant"] not in variants:
                continue
            series.append(
                {
                    "name": f"{trace['variant']} {label}",
                    "variant": trace["variant"],
                    "axis": axis,
                    "x": trace["x"],
                    "y": trace["y"],
                }
            )
    return series
