"""The Metrics tab of an endpoint built for inference components: one line per component on
each chart, with the requests each component really served, the variants' request charts
left out (such variants count none), the comparison table per component, all from one
GetMetricData call."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from core.aws import clients
from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from monitoring.live.metrics import TimeRange, metrics_panel, panel_queries
from sandbox.models import holdout_rows, rows_to_csv
from sandbox.testing import aws_client, control, unique
from tests.endpoints.test_inference_components_gateway import REGION, _component_endpoint

pytestmark = pytest.mark.django_db
ROW = rows_to_csv(holdout_rows("tumor")[:1])


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def second_component(url: str, *, endpoint: str, model: str, copies: int = 1) -> str:
    """Another component on the endpoint, serving `model`, once it is InService."""
    sagemaker = aws_client(url, "sagemaker", REGION)
    name = unique("ic-b")
    sagemaker.create_inference_component(
        InferenceComponentName=name,
        EndpointName=endpoint,
        VariantName="AllTraffic",
        Specification={
            "ModelName": model,
            "ComputeResourceRequirements": {
                "NumberOfCpuCoresRequired": 1,
                "MinMemoryRequiredInMb": 1024,
            },
        },
        RuntimeConfig={"CopyCount": copies},
    )
    deadline = time.monotonic() + 15
    while (
        sagemaker.describe_inference_component(InferenceComponentName=name)[
            "InferenceComponentStatus"
        ]
        != "InService"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return name


def invoke(url: str, *, endpoint: str, component: str, times: int) -> None:
    runtime = aws_client(url, "sagemaker-runtime", REGION)
    for _ in range(times):
        answer = runtime.invoke_endpoint(
            EndpointName=endpoint,
            InferenceComponentName=component,
            ContentType="text/csv",
            Body=ROW.encode(),
        )
        answer["Body"].read()


@pytest.fixture
def two_components(sandbox) -> tuple[Endpoint, str, str]:
    """A synced endpoint hosting two components: the first served 3 requests, the second 1."""
    endpoint, first, model = _component_endpoint(sandbox.url)
    second = second_component(sandbox.url, endpoint=endpoint, model=model)
    assert inventory_sync(target=target_by_name("sandbox"), region=REGION).ok
    invoke(sandbox.url, endpoint=endpoint, component=first, times=3)
    invoke(sandbox.url, endpoint=endpoint, component=second, times=1)
    control(sandbox.url, "flush-metrics")
    return Endpoint.objects.get(region=REGION, name=endpoint), first, second


def _sums(chart: dict) -> dict[str, float]:
    return {t["variant"]: sum(v for v in t["y"] if v is not None) for t in chart["traces"]}


def test_each_component_is_a_line_with_the_requests_it_served(two_components) -> None:
    endpoint, first, second = two_components
    before = clients.call_counts()
    panel = metrics_panel(endpoint=endpoint, time_range=TimeRange.preset("1h"))
    made = clients.call_counts() - before
    assert made[("cloudwatch", "GetMetricData")] == 1
    assert not panel.error, panel.error
    charts = {c["id"]: c for c in panel.charts}
    assert _sums(charts["invocations"]) == {first: 3, second: 1}
    assert _sums(charts["errors5xx"]) == {first: 0, second: 0}
    latency = {t["name"] for t in charts["latency"]["traces"]}
    assert latency == {f"{first} p50", f"{first} p99", f"{second} p50", f"{second} p99"}
    assert not charts["latency"]["empty"]
    for chart in ("percopy", "componentcpu", "componentmemory", "errors4xx"):
        assert {t["variant"] for t in charts[chart]["traces"]} == {first, second}, chart
    # The variant counts no requests of its own: no per-variant request charts, and its
    # instances' utilization only when CloudWatch has some (none yet on a new endpoint).
    assert not {"overhead", "perinstance", "modelcachehit"} & set(charts)
    assert all(not charts[c]["empty"] for c in ("cpu", "memory") if c in charts)
    # Warm: the same panel again without asking CloudWatch.
    before = clients.call_counts()
    metrics_panel(endpoint=endpoint, time_range=TimeRange.preset("1h"))
    assert (clients.call_counts() - before)[("cloudwatch", "GetMetricData")] == 0


def test_the_comparison_table_compares_the_components(two_components, role_client) -> None:
    endpoint, first, second = two_components
    panel = metrics_panel(endpoint=endpoint, time_range=TimeRange.preset("1h"))
    rows = {r["variant"]: r for r in panel.comparison}
    assert set(rows) == {first, second}
    assert (rows[first]["invocations"], rows[first]["copies"]) == (3, 2)
    assert (rows[second]["invocations"], rows[second]["copies"]) == (1, 1)
    assert rows[first]["observed_share"] == 75
    assert rows[first]["is_leader"] and rows[first]["p99_ms"] is not None
    cache.clear()
    html = (
        role_client("Viewer")
        .get(reverse("monitoring:endpoint_metrics_panel", args=[endpoint.pk]), {"range": "1h"})
        .content.decode()
    )
    assert "Component comparison" in html and 'data-testid="component-comparison"' in html
    assert f'data-variant="{first}"' in html and f'data-variant="{second}"' in html
    assert "Invocations per component" in html


def test_the_demo_components_utilization_and_copies_are_charted(sandbox) -> None:
    assert inventory_sync(target=target_by_name("sandbox"), region="us-east-1").ok
    shared = Endpoint.objects.get(region="us-east-1", name="shared-scoring")
    panel = metrics_panel(endpoint=shared, time_range=TimeRange.preset("3h"))
    assert not panel.error, panel.error
    charts = {c["id"]: c for c in panel.charts}
    for chart in ("invocations", "latency", "percopy", "componentcpu", "componentmemory"):
        assert not charts[chart]["empty"], chart
        assert {t["variant"] for t in charts[chart]["traces"]} == {"fraud-scorer", "churn-scorer"}
    percents = [v for t in charts["componentcpu"]["traces"] for v in t["y"] if v is not None]
    assert all(0 <= v <= 100 for v in percents)
    assert {r["variant"] for r in panel.comparison} == {"fraud-scorer", "churn-scorer"}
    assert all(r["invocations"] > 0 for r in panel.comparison)


def test_a_model_endpoint_keeps_its_variant_charts(sandbox) -> None:
    assert inventory_sync(target=target_by_name("sandbox"), region="us-east-1").ok
    tumor = Endpoint.objects.get(region="us-east-1", name="tumor-classifier")
    panel = metrics_panel(endpoint=tumor, time_range=TimeRange.preset("1h"))
    charts = {c["id"]: c for c in panel.charts}
    assert {"overhead", "perinstance"} <= set(charts) and "percopy" not in charts
    assert panel.compares == "variants"
    assert {r["variant"] for r in panel.comparison} == {v.name for v in tumor.variants.all()}


def test_the_variants_of_a_component_endpoint_are_asked_for_utilization_only() -> None:
    queries = panel_queries(
        endpoint_name="shared",
        variant_names=["AllTraffic"],
        period=60,
        range_seconds=3600,
        components=["fraud", "churn"],
    )
    by_variant = {q.metric for q in queries if ("VariantName", "AllTraffic") in q.dimensions}
    assert by_variant == {"CPUUtilization", "MemoryUtilization"}
    fraud = {
        (q.namespace, q.metric)
        for q in queries
        if q.dimensions == (("InferenceComponentName", "fraud"),)
    }
    assert ("AWS/SageMaker", "InvocationsPerCopy") in fraud
    assert ("/aws/sagemaker/InferenceComponents", "CPUUtilizationNormalized") in fraud
    assert len({q.id for q in queries}) == len(queries)
