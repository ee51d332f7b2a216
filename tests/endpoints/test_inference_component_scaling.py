"""An inference component's copy-count auto scaling on the endpoint page: the sync reads the
scalable target and its target-tracking policy beside the component, and the components
card shows the bounds and the target; a component without scaling says so."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from sandbox.testing import aws_client
from tests.endpoints.test_inference_component_metrics import second_component
from tests.endpoints.test_inference_components_gateway import REGION, _component_endpoint

pytestmark = pytest.mark.django_db
DIMENSION = "sagemaker:inference-component:DesiredCopyCount"


def register_copy_scaling(
    url: str, component: str, *, low: int, high: int, target_value: float
) -> None:
    """What the SageMaker guide does to scale a component's copies: a scalable target on
    its DesiredCopyCount and a target-tracking policy on its InvocationsPerCopy."""
    aas = aws_client(url, "application-autoscaling", REGION)
    resource = f"inference-component/{component}"
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension=DIMENSION,
        MinCapacity=low,
        MaxCapacity=high,
    )
    aas.put_scaling_policy(
        PolicyName=f"{component}-per-copy",
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": target_value,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"
            },
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    )


def test_the_components_card_shows_each_components_copy_scaling(sandbox, role_client) -> None:
    endpoint, scaled, model = _component_endpoint(sandbox.url)
    fixed = second_component(sandbox.url, endpoint=endpoint, model=model)
    register_copy_scaling(sandbox.url, scaled, low=1, high=4, target_value=5.0)
    assert inventory_sync(target=target_by_name("sandbox"), region=REGION).ok

    stored = Endpoint.objects.get(region=REGION, name=endpoint)
    rows = {c["name"]: c for c in stored.inference_components}
    assert rows[fixed]["scaling"] is None
    scaling = rows[scaled]["scaling"]
    assert (scaling["min_capacity"], scaling["max_capacity"]) == (1, 4)
    (policy,) = scaling["policies"]
    assert policy["metric"] == "SageMakerInferenceComponentInvocationsPerCopy"
    assert policy["target_value"] == 5.0

    html = role_client("Viewer").get(reverse("endpoints:detail", args=[stored.pk])).content
    page = html.decode()
    card = page[page.index('data-testid="inference-components"') :]
    card = card[: card.index("</section>")]
    scaled_row = card[card.index(f'data-component="{scaled}"') :].split("</tr>")[0]
    fixed_row = card[card.index(f'data-component="{fixed}"') :].split("</tr>")[0]
    assert "1–4 copies" in scaled_row
    assert "InvocationsPerCopy target 5" in scaled_row
    assert "scale-in cooldown 300 s" in scaled_row
    assert "Not scaled" in fixed_row


def test_the_demo_fraud_scorer_shows_its_copy_scaling(sandbox, role_client) -> None:
    assert inventory_sync(target=target_by_name("sandbox"), region="us-east-1").ok
    shared = Endpoint.objects.get(region="us-east-1", name="shared-scoring")
    page = role_client("Viewer").get(reverse("endpoints:detail", args=[shared.pk])).content
    html = page.decode()
    fraud = html[html.index('data-component="fraud-scorer"') :].split("</tr>")[0]
    churn = html[html.index('data-component="churn-scorer"') :].split("</tr>")[0]
    assert "1–4 copies" in fraud and "InvocationsPerCopy target 50" in fraud
    assert "Not scaled" in churn
