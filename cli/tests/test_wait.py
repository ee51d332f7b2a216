"""``shift propose --wait``: progress on stderr, and the exit status a CI job gates on."""

from __future__ import annotations

import json

import httpx
import pytest
from fake_portal import endpoint, problem, shift

PROPOSE = ("shift", "propose", "fraud-detection", "--weights", "A=50,B=50", "--reason", "B wins")


@pytest.fixture
def proposed(portal):
    portal.on("GET", "/api/v1/endpoints", {"items": [endpoint()], "next_cursor": None})
    portal.on("POST", "/api/v1/shifts", shift("pending"))
    return portal


def test_waits_through_approval_and_apply_and_exits_0(proposed, run, clock):
    proposed.on(
        "GET",
        "/api/v1/shifts/42",
        shift("pending"),
        shift("approved"),
        shift("applying"),
        shift("applying"),
        shift("applied", outcome="Applied: AWS shows A 50, B 50."),
    )
    result = run(*PROPOSE, "--wait", "--interval", "2")
    assert result.code == 0
    assert result.err.splitlines() == [
        "opsportal: proposed: https://portal.example.com/shifts/42/",
        "opsportal: shift 42 on fraud-detection: pending (waiting for an Approver)",
        "opsportal: shift 42 on fraud-detection: approved (approved; waiting for the portal "
        "to apply it)",
        "opsportal: shift 42 on fraud-detection: applying (applying on AWS)",
        "opsportal: shift 42 on fraud-detection: applied: Applied: AWS shows A 50, B 50.",
    ]
    assert "State:       applied" in result.out
    assert clock == [2.0] * 5


@pytest.mark.parametrize(
    ("state", "code"),
    [("rejected", 3), ("expired", 4), ("failed", 5), ("cancelled", 6), ("superseded", 7)],
)
def test_each_end_has_its_own_exit_status(proposed, run, state, code):
    proposed.on("GET", "/api/v1/shifts/42", shift("approved"), shift(state, outcome="Why."))
    result = run(*PROPOSE, "--wait", "--json")
    assert result.code == code
    assert json.loads(result.out)["state"] == state
    assert result.err.splitlines()[-1] == f"opsportal: shift 42 on fraud-detection: {state}: Why."


def test_gives_up_at_the_timeout_with_its_own_status(proposed, run, clock):
    proposed.on("GET", "/api/v1/shifts/42", shift("pending"))
    result = run(*PROPOSE, "--wait", "--timeout", "60", "--interval", "5")
    assert result.code == 8
    assert sum(clock) == 60
    assert result.err.splitlines()[-1] == (
        "opsportal: gave up waiting after 60 s: shift 42 on fraud-detection: pending "
        "(waiting for an Approver) (the change request goes on)"
    )


def test_a_portal_restart_while_waiting_is_said_once_and_waited_out(proposed, run):
    unavailable = problem(503, "Service Unavailable", "Deploying.")
    proposed.on(
        "GET",
        "/api/v1/shifts/42",
        *[unavailable] * 6,
        shift("applied"),
    )
    result = run(*PROPOSE, "--wait")
    assert result.code == 0
    assert result.err.count("still waiting: 503 Service Unavailable: Deploying.") == 1


def test_losing_access_while_waiting_ends_the_wait_with_the_error(proposed, run):
    proposed.on(
        "GET", "/api/v1/shifts/42", problem(401, "Unauthorized", "The API token was revoked.")
    )
    result = run(*PROPOSE, "--wait")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "opsportal: 401 Unauthorized: The API token was revoked."
    )


def test_a_refused_proposal_is_not_waited_on(proposed, run):
    proposed.on(
        "POST",
        "/api/v1/shifts",
        problem(409, "Conflict", "fraud-detection already has an open change request (#41)."),
    )
    result = run(*PROPOSE, "--wait")
    assert result.code == 1
    assert result.err == (
        "opsportal: 409 Conflict: fraud-detection already has an open change request (#41).\n"
    )
    assert proposed.sent("GET", "/api/v1/shifts/42") == []


def test_unknown_states_are_followed_not_misread(proposed, run):
    proposed.on("GET", "/api/v1/shifts/42", shift("queued"), shift("applied"))
    result = run(*PROPOSE, "--wait")
    assert result.code == 0 and "shift 42 on fraud-detection: queued" in result.err


def test_connection_lost_while_waiting_is_waited_out(proposed, run, monkeypatch):
    calls = {"n": 0}
    real = proposed.handle

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/shifts/42":
            calls["n"] += 1
            if calls["n"] <= 3:
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
            return httpx.Response(200, json=shift("applied"))
        return real(request)

    monkeypatch.setattr(httpx, "HTTPTransport", lambda **_: httpx.MockTransport(flaky))
    result = run(*PROPOSE, "--wait")
    assert result.code == 0
    assert result.err.count("still waiting: cannot reach") == 1
