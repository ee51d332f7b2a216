"""Shadow tests on the portal: the endpoint page judges the shadow against production from
CloudWatch, and promoting the shadow is a deploy change request (two people, guardrails)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from sandbox.models import holdout_rows, rows_to_csv
from shifts import services
from shifts.models import ChangeType, ShiftProposal, ShiftState
from tests.aws_actor import flush_metrics, runtime, wait_for_status
from tests.shifts.helpers import adopt, console, make_endpoint, settle
from tests.shifts.test_change_views import ALL_AT_ONCE, login

ROWS = rows_to_csv(holdout_rows("tumor")[:2])


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _variant(name: str, model: str, weight: float) -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": model,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
        "InitialVariantWeight": weight,
    }


@pytest.fixture
def shadowed(aws_sandbox, db):
    """A fresh sandbox endpoint: production `live` on tumor-model-v1, shadow `next` on
    tumor-model-v2 copying every request; 20 requests served; in the inventory."""
    sm = console(aws_sandbox.url)
    name = f"shadow-{uuid.uuid4().hex[:10]}"
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[_variant("live", "tumor-model-v1", 1.0)],
        ShadowProductionVariants=[_variant("next", "tumor-model-v2", 1.0)],
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(sm, name, "InService")
    invoke = runtime(aws_sandbox.url)
    for _ in range(20):
        invoke.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=ROWS)
    flush_metrics(aws_sandbox.url)
    return adopt(name)


def test_the_page_compares_the_shadow_with_production(client, people, shadowed) -> None:
    html = login(client, people.viewer).get(reverse("endpoints:detail", args=[shadowed.pk]))
    page = html.content.decode()
    assert 'data-testid="shadow-test"' in page
    assert "Production and shadow variants" in page
    assert 'data-testid="sampling">100 %' in page
    assert 'data-testid="shadow-invocations">20<' in page
    assert 'data-testid="shadow-5xx">0<' in page
    assert "not enough traffic yet" in page  # 20 copies are under the gates' 100 minimum
    assert 'data-testid="promote-shadow"' not in page  # a Viewer proposes nothing


def test_the_metrics_tab_compares_the_shadow_beside_production(client, people, shadowed) -> None:
    response = login(client, people.viewer).get(
        reverse("monitoring:endpoint_metrics_panel", args=[shadowed.pk]), {"range": "1h"}
    )
    rows = {r["variant"]: r for r in response.context["panel"].comparison}
    assert rows["live"]["invocations"] == 20 and rows["live"]["observed_share"] == 100.0
    assert rows["next"]["invocations"] == 20  # every request copied
    assert rows["next"]["is_shadow"] and rows["next"]["configured_share"] is None
    assert rows["next"]["rate_5xx"] == 0 and rows["next"]["p99_ms"] is not None
    body = response.content.decode()
    assert '<span class="pill">shadow</span>' in body and "copies" in body


def test_promoting_the_shadow_deploys_its_model_and_ends_the_test(
    client, people, shadowed, aws_sandbox, held_tasks, run_commits
) -> None:
    login(client, people.operator)
    page = client.get(reverse("endpoints:detail", args=[shadowed.pk])).content.decode()
    assert "Propose promoting next…" in page
    link = reverse("shifts:change_propose", args=[shadowed.pk, "deploy"])
    form = client.get(
        f"{link}?variant=live&model=tumor-model-v2&instance_type=ml.m5.large"
        "&instance_count=1&end_shadow_test=1"
    ).content.decode()
    assert 'value="tumor-model-v2"' in form
    assert 'name="end_shadow_test"' in form and "checked" in form
    response = client.post(
        link,
        {
            "variant": "live",
            "model": "tumor-model-v2",
            "instance_type": "ml.m5.large",
            "instance_count": "1",
            "end_shadow_test": "on",
            **ALL_AT_ONCE,
            "reason": "the shadow matched production for a week",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    proposal = ShiftProposal.objects.get(endpoint=shadowed)
    assert proposal.change == ChangeType.DEPLOY
    assert proposal.spec["promoted_shadow"] == "next"
    shown = client.get(reverse("shifts:detail", args=[proposal.pk])).content.decode()
    assert "Promote shadow next: deploy model tumor-model-v2 to live" in shown
    assert "ends: next is promoted and no shadow variant is kept" in shown
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    wait_for_status(console(aws_sandbox.url), shadowed.name, "InService")
    done = settle(held_tasks, proposal)
    assert done.state == ShiftState.APPLIED, done.error
    described = console(aws_sandbox.url).describe_endpoint(EndpointName=shadowed.name)
    assert described["EndpointConfigName"] == f"{shadowed.name}-cr{proposal.pk}"
    assert "ShadowProductionVariants" not in described
    config = console(aws_sandbox.url).describe_endpoint_config(
        EndpointConfigName=described["EndpointConfigName"]
    )
    assert [(v["VariantName"], v["ModelName"]) for v in config["ProductionVariants"]] == [
        ("live", "tumor-model-v2")
    ]


def test_ending_a_shadow_test_that_does_not_exist_is_refused(people, live) -> None:
    with pytest.raises(Exception, match="runs no shadow test to end"):
        services.change_propose(
            endpoint_id=live.pk,
            actor=people.operator,
            change=ChangeType.DEPLOY,
            spec={"variant": "v0", "model": "tumor-model-v2", "end_shadow_test": True},
            reason="no shadow here",
        )
    assert not ShiftProposal.objects.filter(endpoint=live).exists()


def test_no_shift_is_offered_where_one_variant_takes_all_traffic(client, people, db) -> None:
    single = make_endpoint("single-variant", weights=(1.0,))
    login(client, people.operator)
    detail = client.get(reverse("endpoints:detail", args=[single.pk])).content.decode()
    assert "Propose a shift" not in detail
    traffic = client.get(reverse("shifts:endpoint", args=[single.pk])).content.decode()
    assert 'data-testid="propose-link"' not in traffic
    assert "nothing to shift" in traffic
    two = make_endpoint("two-variants")
    detail = client.get(reverse("endpoints:detail", args=[two.pk])).content.decode()
    assert "Propose a shift" in detail
