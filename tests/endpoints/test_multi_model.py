"""Multi-model endpoints in the portal: the sync learns the container's mode, the endpoint
page lists the models under the prefix, the metrics tab charts model loading, and the test
invoke sends a TargetModel (checked as SageMaker checks it)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from endpoints import live as live_prefix
from endpoints.models import Endpoint
from endpoints.selectors.multi_model import multi_model_variants
from endpoints.services import inventory_sync
from monitoring.live.metrics import TimeRange, metrics_panel
from sandbox.models import holdout_rows, rows_to_csv
from sandbox.seed_multi_model import MULTI_MODEL_ENDPOINT, MULTI_MODEL_PREFIX, REGIONAL_MODELS
from sandbox.testing import (
    api_fault,
    clear_api_faults,
    multi_model_endpoint,
    unique,
    wait_for_status,
)
from tests.aws_actor import flush_metrics

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]
# A region the demo world leaves empty, for an endpoint of this file's own.
OWN_REGION = "ca-central-1"
CHURN_ROW = rows_to_csv(holdout_rows("churn")[:1])


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def regional(sandbox) -> Endpoint:
    """The demo world's multi-model endpoint, synced."""
    wait_for_status(sandbox.url, "us-east-1", MULTI_MODEL_ENDPOINT, "InService")
    report = inventory_sync(target=TARGET, region="us-east-1")
    assert report.ok, report.error
    return Endpoint.objects.get(region="us-east-1", name=MULTI_MODEL_ENDPOINT)


def test_sync_learns_which_variants_are_multi_model(regional) -> None:
    (variant,) = multi_model_variants(regional)
    assert variant.name == "AllTraffic"
    assert variant.prefix_url.endswith(f"/{MULTI_MODEL_PREFIX}")
    tumor = Endpoint.objects.get(region="us-east-1", name="tumor-classifier")
    assert multi_model_variants(tumor) == []


def test_the_page_shows_the_mode_and_the_models_under_the_prefix(regional, role_client) -> None:
    page = role_client("Viewer").get(reverse("endpoints:detail", args=[regional.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Mode <strong>MultiModel</strong>" in html
    assert '3 models</strong> under <span class="mono">s3://' in html
    for target in REGIONAL_MODELS:
        assert f'data-target-model="{target}"' in html
    # What the sync kept beside DescribeEndpoint's answer is not shown as part of it.
    assert "OpsPortalModelContainers" not in html


def test_a_single_model_endpoint_page_has_no_multi_model_section(sandbox, role_client) -> None:
    assert inventory_sync(target=TARGET, region="us-east-1").ok
    tumor = Endpoint.objects.get(region="us-east-1", name="tumor-classifier")
    html = role_client("Viewer").get(reverse("endpoints:detail", args=[tumor.pk])).content
    assert b'data-testid="multi-model"' not in html


def test_a_prefix_that_cannot_be_listed_is_said_so(sandbox, role_client) -> None:
    name = multi_model_endpoint(
        sandbox.url,
        OWN_REGION,
        model_data_url=f"s3://{unique('mme-nowhere')}-missing-bucket/models/",
        repository="sagemaker-scikit-learn",
    )
    assert inventory_sync(target=TARGET, region=OWN_REGION).ok
    stored = Endpoint.objects.get(region=OWN_REGION, name=name)
    page = role_client("Viewer").get(reverse("endpoints:detail", args=[stored.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "The prefix could not be listed" in html
    assert "NoSuchBucket" in html or "does not exist" in html


def test_when_s3_fails_the_page_keeps_the_last_listing_and_says_so(
    sandbox, regional, role_client
) -> None:
    client = role_client("Viewer")
    page_url = reverse("endpoints:detail", args=[regional.pk])
    assert "3 models</strong> under" in client.get(page_url).content.decode()
    (variant,) = multi_model_variants(regional)
    cache.delete(live_prefix._cache_key(regional, variant))  # the listing is no longer fresh
    api_fault(sandbox.url, "s3:ListObjectsV2", error_rate=1.0)
    try:
        html = client.get(page_url).content.decode()
    finally:
        clear_api_faults(sandbox.url)
    assert "S3 did not answer now" in html
    for target in REGIONAL_MODELS:
        assert f'data-target-model="{target}"' in html


def test_test_invoke_sends_the_target_model(regional, role_client) -> None:
    client = role_client("Operator")
    url = reverse("endpoints:invoke", args=[regional.pk])
    form = client.get(url).content.decode()
    assert 'data-testid="target-model"' in form
    for target in REGIONAL_MODELS:
        assert f'<option value="{target}">' in form  # suggested from the prefix
    answers = set()
    for target in REGIONAL_MODELS:
        answer = client.post(
            url, {"content_type": "text/csv", "payload": CHURN_ROW, "target_model": target}
        )
        assert answer.status_code == 200
        result = answer.context["result"]
        assert result.ok, result.error
        answers.add(result.body)
    assert len(answers) == len(REGIONAL_MODELS)  # each region's model answers its own way


def test_a_target_model_that_is_not_there_shows_sagemakers_answer(regional, role_client) -> None:
    client = role_client("Operator")
    answer = client.post(
        reverse("endpoints:invoke", args=[regional.pk]),
        {"content_type": "text/csv", "payload": CHURN_ROW, "target_model": "churn-mars.tar.gz"},
    )
    result = answer.context["result"]
    assert not result.ok
    assert result.error_code == "ValidationError"
    assert "Failed to download model data" in result.error
    assert "churn-mars.tar.gz" in result.error


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "needs a target model"),
        (" churn-emea.tar.gz", "cannot start with a space"),
        ("churn\temea.tar.gz", "only printable ASCII"),
        ("modèle.tar.gz", "only printable ASCII"),
        ("m" * 1025, "at most 1024"),
    ],
)
def test_a_bad_target_model_is_refused_on_the_form(
    regional, role_client, value: str, message: str
) -> None:
    answer = role_client("Operator").post(
        reverse("endpoints:invoke", args=[regional.pk]),
        {"content_type": "text/csv", "payload": CHURN_ROW, "target_model": value},
    )
    assert answer.status_code == 400
    assert message in answer.content.decode()


def test_a_single_model_endpoint_offers_no_target_model(sandbox, role_client) -> None:
    assert inventory_sync(target=TARGET, region="us-east-1").ok
    tumor = Endpoint.objects.get(region="us-east-1", name="tumor-classifier")
    form = role_client("Operator").get(reverse("endpoints:invoke", args=[tumor.pk]))
    assert b'data-testid="target-model"' not in form.content


def test_the_metrics_tab_charts_model_loading_for_multi_model_variants(
    sandbox, regional, role_client
) -> None:
    client = role_client("Operator")
    url = reverse("endpoints:invoke", args=[regional.pk])
    for target in ("churn-amer.tar.gz", "churn-amer.tar.gz", "churn-apac.tar.gz"):
        sent = client.post(
            url, {"content_type": "text/csv", "payload": CHURN_ROW, "target_model": target}
        )
        assert sent.context["result"].ok
    flush_metrics(sandbox.url)
    panel = metrics_panel(endpoint=regional, time_range=TimeRange.preset("1h"))
    assert not panel.error
    charts = {c["id"]: c for c in panel.charts}
    for chart in ("modelcachehit", "modelloading", "loadedmodels"):
        assert not charts[chart]["empty"], chart
    loaded = [v for t in charts["loadedmodels"]["traces"] for v in t["y"] if v is not None]
    assert max(loaded) >= 2  # amer and apac, at least
    tumor = Endpoint.objects.get(region="us-east-1", name="tumor-classifier")
    single = metrics_panel(endpoint=tumor, time_range=TimeRange.preset("1h"))
    assert "modelcachehit" not in {c["id"] for c in single.charts}
