"""InvokeEndpoint routes by CurrentWeight, or to the variant the caller names."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from scipy.stats import chisquare

from sandbox.models import holdout_rows, rows_to_csv
from sandbox.server import SandboxServer
from sandbox.testing import control, live_endpoint
from tests.world import TRAFFIC_REGION, runtime_client, upload_tumor_model, variant_metric

INVOCATIONS = 2000
ROW = rows_to_csv(holdout_rows("tumor")[:1])


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, TRAFFIC_REGION)


@pytest.fixture(scope="module")
def split_traffic(running_sandbox: SandboxServer, model: str) -> tuple[str, Counter[str]]:
    """2,000 invocations of an endpoint weighted 25/75, counted by the variant that answered."""
    name = live_endpoint(running_sandbox.url, model, weights=(25.0, 75.0))
    runtime = runtime_client(running_sandbox.url)

    def invoke(_: int) -> str:
        answer = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=ROW)
        return str(answer["InvokedProductionVariant"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        answered = Counter(pool.map(invoke, range(INVOCATIONS)))
    return name, answered


def test_traffic_splits_by_current_weight(split_traffic: tuple[str, Counter[str]]) -> None:
    _name, answered = split_traffic
    assert set(answered) == {"v0", "v1"}
    observed = [answered["v0"], answered["v1"]]
    statistic, p_value = chisquare(observed, f_exp=[INVOCATIONS * 0.25, INVOCATIONS * 0.75])
    assert p_value > 0.001, f"{observed} does not fit 25/75 (chi-square {statistic:.1f})"


def test_cloudwatch_counts_every_invocation_per_variant(
    running_sandbox: SandboxServer, split_traffic: tuple[str, Counter[str]]
) -> None:
    name, answered = split_traffic
    status, _ = control(running_sandbox.url, "flush-metrics")
    assert status == 200
    for variant in ("v0", "v1"):
        assert (
            sum(variant_metric(running_sandbox.url, name, variant, "Invocations", "Sum"))
            == (answered[variant])
        )
        samples = variant_metric(running_sandbox.url, name, variant, "ModelLatency", "SampleCount")
        assert sum(samples) == answered[variant]


def test_target_variant_always_wins(running_sandbox: SandboxServer, model: str) -> None:
    name = live_endpoint(running_sandbox.url, model, weights=(99.0, 1.0))
    runtime = runtime_client(running_sandbox.url)
    answered = {
        runtime.invoke_endpoint(
            EndpointName=name, ContentType="text/csv", Body=ROW, TargetVariant="v1"
        )["InvokedProductionVariant"]
        for _ in range(50)
    }
    assert answered == {"v1"}


def test_a_variant_of_weight_zero_gets_nothing_unless_named(
    running_sandbox: SandboxServer, model: str
) -> None:
    name = live_endpoint(running_sandbox.url, model, weights=(1.0, 0.0))
    runtime = runtime_client(running_sandbox.url)
    answered = Counter(
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=ROW)[
            "InvokedProductionVariant"
        ]
        for _ in range(200)
    )
    assert answered == Counter({"v0": 200})
    named = runtime.invoke_endpoint(
        EndpointName=name, ContentType="text/csv", Body=ROW, TargetVariant="v1"
    )
    assert named["InvokedProductionVariant"] == "v1"


def test_weight_change_moves_traffic_once_the_update_completes(
    running_sandbox: SandboxServer, model: str
) -> None:
    from sandbox.testing import aws_client, wait_for_status

    name = live_endpoint(running_sandbox.url, model, weights=(1.0, 0.0))
    aws_client(
        running_sandbox.url, "sagemaker", TRAFFIC_REGION
    ).update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 0.0, "DesiredInstanceCount": 1},
            {"VariantName": "v1", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
        ],
    )
    runtime = runtime_client(running_sandbox.url)
    while_updating = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=ROW)
    assert while_updating["InvokedProductionVariant"] == "v0"
    wait_for_status(running_sandbox.url, TRAFFIC_REGION, name, "InService")
    after = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=ROW)
    assert after["InvokedProductionVariant"] == "v1"
