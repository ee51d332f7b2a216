"""What the Metrics tab charts, in which unit, for which variants; and how an alarm's
threshold reads in a chart's unit.

Pure data and arithmetic (no AWS, no database), so the panel that asks CloudWatch, the
alarm table and the threshold lines all convert a metric the same way: ModelLatency is
stored in microseconds and charted in ms; an error metric is 1 or 0 per request, so its
Average is a fraction, charted in percent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

SAGEMAKER = "AWS/SageMaker"
INSTANCE = "/aws/sagemaker/Endpoints"
COMPONENTS = "/aws/sagemaker/InferenceComponents"

# Which variants publish a chart's metrics: serverless variants have no instances, so no
# CPUUtilization, DiskUtilization or InvocationsPerInstance, and only they publish
# ModelSetupTime (the cold start of new compute); only multi-model variants (a container of
# Mode MultiModel) publish the model loading metrics (ModelCacheHit, ModelLoadingWaitTime ...).
# "async" charts are the endpoint's, not a variant's: an asynchronous endpoint publishes its
# queue (ApproximateBacklogSize ...) with the dimension EndpointName alone.
Emitters = Literal["all", "instances", "serverless", "multi_model", "async"]
# What a statistic's value is: a level in the metric's own unit (Average, Maximum, p99 ...),
# a sum over the period, or a count of datapoints.
Quantity = Literal["level", "sum", "count"]


@dataclass(frozen=True)
class Line:
    """One metric of one variant on a chart; `scale` converts CloudWatch's unit to the
    chart's. `per` names the line whose count a rate divides by: where that count is zero
    or missing, the rate has no value (0 errors of 0 requests is not 0 %)."""

    key: str
    namespace: str
    metric: str
    stat: str
    scale: float = 1.0
    dash: str = "solid"
    suffix: str = ""
    per: str = ""


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    unit: str
    lines: tuple[Line, ...]
    emitters: Emitters = "all"

    @property
    def per_endpoint(self) -> bool:
        """Whether the chart's metrics are the endpoint's own (queried once, without a
        VariantName), published by asynchronous endpoints only."""
        return self.emitters == "async"

    def emitted_by(self, *, serverless: bool, multi_model: bool = False) -> bool:
        """Whether a variant of that kind publishes this chart's metrics at all."""
        if self.per_endpoint:
            return False
        if self.emitters == "multi_model":
            return multi_model
        if self.emitters == "instances":
            return not serverless
        if self.emitters == "serverless":
            return serverless
        return True


CHARTS: tuple[Chart, ...] = (
    Chart(
        "invocations", "Invocations", "requests", (Line("inv", SAGEMAKER, "Invocations", "Sum"),)
    ),
    Chart(
        "errors4xx",
        "4XX error rate",
        "%",
        (Line("e4", SAGEMAKER, "Invocation4XXErrors", "Average", scale=100, per="inv"),),
    ),
    Chart(
        "errors5xx",
        "5XX error rate",
        "%",
        (Line("e5", SAGEMAKER, "Invocation5XXErrors", "Average", scale=100, per="inv"),),
    ),
    Chart(
        "latency",
        "ModelLatency",
        "ms",
        (
            Line("lavg", SAGEMAKER, "ModelLatency", "Average", 1e-3, "dot", " avg"),
            Line("l50", SAGEMAKER, "ModelLatency", "p50", 1e-3, "dash", " p50"),
            Line("l90", SAGEMAKER, "ModelLatency", "p90", 1e-3, "dashdot", " p90"),
            Line("l99", SAGEMAKER, "ModelLatency", "p99", 1e-3, "solid", " p99"),
        ),
    ),
    Chart(
        "overhead",
        "OverheadLatency",
        "ms",
        (Line("oavg", SAGEMAKER, "OverheadLatency", "Average", 1e-3),),
    ),
    Chart(
        "setup",
        "ModelSetupTime",
        "ms",
        (
            Line("msavg", SAGEMAKER, "ModelSetupTime", "Average", 1e-3, "dot", " avg"),
            Line("msmax", SAGEMAKER, "ModelSetupTime", "Maximum", 1e-3, "solid", " max"),
        ),
        emitters="serverless",
    ),
    Chart(
        "modelcachehit",
        "Model cache hit rate",
        "%",
        (Line("mch", SAGEMAKER, "ModelCacheHit", "Average", scale=100),),
        emitters="multi_model",
    ),
    Chart(
        "modelloading",
        "Model loading (first request of a model)",
        "ms",
        (
            Line("mlw", SAGEMAKER, "ModelLoadingWaitTime", "Average", 1e-3, "solid", " wait"),
            Line("mdl", SAGEMAKER, "ModelDownloadingTime", "Average", 1e-3, "dash", " download"),
            Line("mld", SAGEMAKER, "ModelLoadingTime", "Average", 1e-3, "dot", " load"),
            Line("mul", SAGEMAKER, "ModelUnloadingTime", "Average", 1e-3, "dashdot", " unload"),
        ),
        emitters="multi_model",
    ),
    Chart(
        "loadedmodels",
        "Loaded models per instance",
        "models",
        (Line("lmc", SAGEMAKER, "LoadedModelCount", "Maximum"),),
        emitters="multi_model",
    ),
    Chart(
        "asyncbacklog",
        "Asynchronous backlog",
        "requests",
        (
            Line("abs", SAGEMAKER, "ApproximateBacklogSize", "Maximum", suffix="queued"),
            Line(
                "abi",
                SAGEMAKER,
                "ApproximateBacklogSizePerInstance",
                "Maximum",
                dash="dash",
                suffix="queued per instance",
            ),
        ),
        emitters="async",
    ),
    Chart(
        "asyncage",
        "Age of the oldest queued request",
        "min",
        (
            Line(
                "aag",
                SAGEMAKER,
                "ApproximateAgeOfOldestRequest",
                "Maximum",
                1 / 60,
                suffix="oldest",
            ),
        ),
        emitters="async",
    ),
    Chart(
        "asyncnocapacity",
        "Backlog with no instance running",
        "1 = yes",
        (Line("anc", SAGEMAKER, "HasBacklogWithoutCapacity", "Maximum", suffix="no capacity"),),
        emitters="async",
    ),
    Chart(
        "perinstance",
        "InvocationsPerInstance",
        "requests",
        (Line("ipi", SAGEMAKER, "InvocationsPerInstance", "Sum"),),
        emitters="instances",
    ),
    Chart(
        "cpu",
        "CPU utilization",
        "%",
        (Line("cpu", INSTANCE, "CPUUtilization", "Average"),),
        emitters="instances",
    ),
    Chart(
        "memory",
        "Memory utilization",
        "%",
        (Line("mem", INSTANCE, "MemoryUtilization", "Average"),),
    ),
)


# An endpoint built for inference components (its variants name no model) counts requests
# per component, with the dimension InferenceComponentName alone: its variants publish no
# Invocations, errors or latency, only their instances' utilization (the `INSTANCE` charts
# above). Each component's copies report their share of the compute reserved for them
# (the "Normalized" metrics, in percent). The first four ids are the variant charts' own, so
# the timeline's error and latency lines and the alarm thresholds find them.
def _per_component(chart_id: str, title: str, *, keep: tuple[str, ...] = ()) -> Chart:
    """A variant chart drawn per component instead (only the lines `keep` names, if any)."""
    chart = next(c for c in CHARTS if c.id == chart_id)
    lines = tuple(line for line in chart.lines if not keep or line.key in keep)
    return replace(chart, title=title, lines=lines)


COMPONENT_CHARTS: tuple[Chart, ...] = (
    _per_component("invocations", "Invocations per component"),
    _per_component("errors5xx", "5XX error rate per component"),
    _per_component("errors4xx", "4XX error rate per component"),
    _per_component("latency", "ModelLatency per component", keep=("l50", "l99")),
    Chart(
        "percopy",
        "InvocationsPerCopy",
        "requests",
        (Line("ipc", SAGEMAKER, "InvocationsPerCopy", "Sum"),),
    ),
    Chart(
        "componentcpu",
        "CPU utilization of the copies",
        "% of reserved",
        (Line("ccpu", COMPONENTS, "CPUUtilizationNormalized", "Average"),),
    ),
    Chart(
        "componentmemory",
        "Memory utilization of the copies",
        "% of reserved",
        (Line("cmem", COMPONENTS, "MemoryUtilizationNormalized", "Average"),),
    ),
)


def instance_chart(chart: Chart) -> bool:
    """Whether every line of the chart is an instance metric, the only kind the variants of
    an endpoint built for inference components publish."""
    return all(line.namespace == INSTANCE for line in chart.lines)


# An asynchronous endpoint publishes no Invocations: its requests are counted when served,
# as InvocationsProcessed (AWS's "Monitoring asynchronous endpoints").
ASYNC_METRICS = {"Invocations": "InvocationsProcessed"}


def metric_for(line: Line, *, asynchronous: bool) -> str:
    """The CloudWatch metric a line reads on this kind of endpoint."""
    return ASYNC_METRICS.get(line.metric, line.metric) if asynchronous else line.metric


# Totals over the range for the comparison table (not charted).
TOTALS: tuple[Line, ...] = (
    Line("t4", SAGEMAKER, "Invocation4XXErrors", "Sum"),
    Line("t5", SAGEMAKER, "Invocation5XXErrors", "Sum"),
)
SUMMARY: tuple[Line, ...] = (
    Line("s50", SAGEMAKER, "ModelLatency", "p50", 1e-3),
    Line("s99", SAGEMAKER, "ModelLatency", "p99", 1e-3),
)

_COMPARISONS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": "≥",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "≤",
}


def quantity(stat: str) -> Quantity:
    """What a CloudWatch statistic measures: Sum and trimmed sums (TS) add values up,
    SampleCount and trimmed counts (TC) count datapoints, and every other statistic
    (Average, Minimum, Maximum, percentiles, trimmed means) is a level in the metric's
    own unit."""
    upper = stat.upper()
    if upper == "SUM" or upper.startswith("TS"):
        return "sum"
    if upper == "SAMPLECOUNT" or upper.startswith("TC"):
        return "count"
    return "level"


def _line_for(*, chart: Chart, namespace: str, metric: str, stat: str) -> Line | None:
    """The chart's line showing the same quantity of the same metric as `stat`, if any."""
    for line in chart.lines:
        same_metric = line.namespace == namespace and line.metric == metric
        if same_metric and quantity(line.stat) == quantity(stat):
            return line
    return None


def threshold_on_chart(
    *,
    chart: Chart,
    namespace: str,
    metric: str,
    statistic: str,
    threshold: float,
    alarm_period: int | None,
    chart_period: int,
) -> float | None:
    """An alarm's threshold in the chart's unit, or None when the chart does not show the
    quantity the alarm watches.

    A threshold is drawn only beside the same quantity: an alarm on the Average of
    Invocation5XXErrors watches a fraction (0.05) and reads 5 % on the 5XX rate chart; an
    alarm on its Sum watches a count of errors, which no rate chart shows, so it is not
    drawn. A latency alarm on any level statistic (Average, p99, Maximum) is in
    microseconds and reads in ms beside the latency lines. A Sum (Invocations,
    InvocationsPerInstance) adds up over the alarm's period, so it is drawn only when the
    chart's period is the same: 1,000 requests in 5 minutes is not a line on a per-minute
    chart.
    """
    line = _line_for(chart=chart, namespace=namespace, metric=metric, stat=statistic)
    if line is None:
        return None
    if quantity(statistic) == "sum" and alarm_period != chart_period:
        return None
    return threshold * line.scale


def number(value: float) -> str:
    """A threshold as people write it: 500, 5, 0.25, 1234567 (never 500000.0, nor the
    5.000000000000001 that 0.05 × 100 is in floating point)."""
    return f"{value:.12g}"


def threshold_text(*, namespace: str, metric: str, statistic: str, threshold: float) -> str:
    """The threshold in the unit the charts use for that metric and statistic ("500 ms",
    "5 %"), or the bare number when no chart shows that quantity (a count)."""
    for chart in CHARTS:
        line = _line_for(chart=chart, namespace=namespace, metric=metric, stat=statistic)
        if line is not None:
            return f"{number(threshold * line.scale)} {chart.unit}"
    return number(threshold)


def condition_text(
    *, namespace: str, metric: str, statistic: str, comparison: str, threshold: float | None
) -> str:
    """An alarm's condition in the charts' units, e.g. "ModelLatency p99 > 500 ms"."""
    operator = _COMPARISONS.get(comparison, comparison)
    if threshold is None:
        return f"{metric} {statistic} {operator}".strip()
    value = threshold_text(
        namespace=namespace, metric=metric, statistic=statistic, threshold=threshold
    )
    return f"{metric} {statistic} {operator} {value}"
