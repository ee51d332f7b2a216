"""End to end against the sandbox: proposed and approved through the pages, applied by the
task, and then the endpoint's real traffic follows the new weights."""

from __future__ import annotations

import functools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client
from django.urls import reverse

from shifts.models import ShiftProposal, ShiftState
from tests import aws_actor
from tests.shifts.helpers import settle, update_calls

pytestmark = pytest.mark.django_db

INVOCATIONS = 1000
# 5 binomial standard deviations at p=0.8, n=1000 is 6.3 points; a routing bug is far more.
TOLERANCE = 0.065


def test_invocations_follow_the_applied_weights(
    live, people, aws_sandbox, held_tasks, monkeypatch, django_capture_on_commit_callbacks
):
    operator, approver = Client(), Client()
    operator.force_login(people.operator)
    approver.force_login(people.approver)
    calls = update_calls()
    response = operator.post(
        reverse("shifts:propose", args=[live.pk]),
        {
            "mode": "move",
            "move_percent": "30",
            "move_from": "v1",
            "move_to": "v0",
            "reason": "v0 wins the A/B test",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    proposal = ShiftProposal.objects.get(endpoint=live)
    with django_capture_on_commit_callbacks(execute=True):
        assert approver.post(reverse("shifts:approve", args=[proposal.pk])).status_code == 302
    done = settle(held_tasks, proposal)
    assert done.state == ShiftState.APPLIED and update_calls() == calls + 1
    page = operator.get(reverse("shifts:detail", args=[proposal.pk])).content.decode()
    assert ">applied<" in page and done.aws_request_id in page

    # One runtime client for the thousand calls (aws_actor.invoke builds one per call).
    monkeypatch.setattr(aws_actor, "runtime", functools.cache(aws_actor.runtime))
    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = Counter(
            pool.map(lambda _: aws_actor.invoke(aws_sandbox.url, live.name), range(INVOCATIONS))
        )
    assert set(seen) == {"v0", "v1"}
    assert abs(seen["v0"] / INVOCATIONS - 0.80) <= TOLERANCE, seen
    assert abs(seen["v1"] / INVOCATIONS - 0.20) <= TOLERANCE, seen
