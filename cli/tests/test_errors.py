"""Every failure is one line on stderr that says what to do, with a non-zero exit status."""

from __future__ import annotations

import httpx
from fake_portal import BASE, problem

from opsportal_cli import client


def test_a_refusal_is_the_portals_own_sentence(portal, run):
    portal.on(
        "POST",
        "/api/v1/shifts/42/approve",
        problem(403, "Forbidden", "You cannot approve your own change request."),
    )
    result = run("shift", "approve", "42")
    assert result.code == 1 and result.out == ""
    assert result.err == "opsportal: 403 Forbidden: You cannot approve your own change request.\n"


def test_field_errors_are_named_on_the_same_line(portal, run):
    portal.on(
        "GET",
        "/api/v1/jobs/3",
        problem(
            422,
            "Unprocessable Content",
            "The job is not valid.",
            errors={"input_uri": ["Not an S3 URI."], "instance_count": ["Must be ≥ 1."]},
        ),
    )
    result = run("jobs", "show", "3")
    assert result.err.count("\n") == 1
    assert result.err == (
        "opsportal: 422 Unprocessable Content: The job is not valid. "
        "(input_uri: Not an S3 URI.; instance_count: Must be ≥ 1.)\n"
    )


def test_an_error_page_that_is_not_a_problem_is_said_by_its_status(portal, run):
    portal.on("GET", "/api/v1/incidents", httpx.Response(500, text="<html>boom</html>"))
    result = run("incidents", "list")
    assert (result.code, result.err) == (1, "opsportal: 500 Internal Server Error\n")
    # The server answered: a 500 is reported, not retried.
    assert len(portal.sent("GET", "/api/v1/incidents")) == 1


def test_a_bad_gateway_on_a_read_is_tried_again(portal, run, clock):
    portal.on(
        "GET",
        "/api/v1/incidents",
        httpx.Response(502),
        httpx.Response(429, headers={"Retry-After": "7"}),
        {"items": [], "next_cursor": None},
    )
    result = run("incidents", "list")
    assert result.code == 0 and result.out == "No incidents.\n"
    assert len(portal.sent("GET", "/api/v1/incidents")) == 3
    assert clock == [1.0, 7.0]


def test_unauthenticated_says_so(portal, run):
    portal.on(
        "GET", "/api/v1/incidents", problem(401, "Unauthorized", "Invalid or expired API token.")
    )
    result = run("incidents", "list")
    assert result.err == "opsportal: 401 Unauthorized: Invalid or expired API token.\n"


def test_a_missing_token_names_the_variable_to_set(portal, run, monkeypatch):
    monkeypatch.delenv("OPSPORTAL_TOKEN")
    result = run("endpoints", "list")
    assert result.code == 1
    assert result.err == "opsportal: no API token: set OPSPORTAL_TOKEN (or pass --token)\n"
    assert portal.requests == []


def test_a_missing_or_bad_address_names_the_variable_to_set(portal, run, monkeypatch):
    monkeypatch.delenv("OPSPORTAL_URL")
    assert "set OPSPORTAL_URL" in run("endpoints", "list").err
    bad = run("--url", "portal.example.com", "endpoints", "list")
    assert bad.code == 1 and "must begin with http:// or https://" in bad.err
    assert portal.requests == []


def test_options_win_over_the_environment(portal, run):
    portal.on("GET", "/api/v1/incidents", {"items": [], "next_cursor": None})
    run("--url", "https://other.example.com/", "--token", "tok-2", "incidents", "list")
    sent = portal.requests[0]
    assert str(sent.url).startswith("https://other.example.com/api/v1/incidents")
    assert sent.headers["Authorization"] == "Bearer tok-2"


def test_a_refused_connection_names_the_address(monkeypatch, run, clock):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    monkeypatch.setattr(httpx, "HTTPTransport", lambda **_: httpx.MockTransport(refuse))
    result = run("--url", "http://127.0.0.1:9", "--token", "t", "endpoints", "list")
    assert (result.code, result.out) == (1, "")
    assert result.err == "opsportal: cannot reach http://127.0.0.1:9: connection refused\n"


def test_a_timeout_on_a_read_is_retried_then_said(monkeypatch, run, clock):
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    monkeypatch.setattr(httpx, "HTTPTransport", lambda **_: httpx.MockTransport(slow))
    result = run("--url", BASE, "--token", "t", "jobs", "list")
    assert result.err == f"opsportal: cannot reach {BASE}: timed out\n"
    assert len(clock) == client.ATTEMPTS - 1


def test_bad_usage_is_one_line_with_where_to_look(portal, run):
    result = run("shift", "propose", "fraud-detection", "--weights", "A=50,B=x", "--reason", "r")
    assert result.code == 2
    assert result.err == (
        "opsportal: Invalid value for '--weights': 'x' is not a number (B) "
        "(see 'opsportal shift propose --help')\n"
    )
    missing = run("shift", "propose", "fraud-detection", "--weights", "A=1")
    assert missing.code == 2 and missing.err.count("\n") == 1 and "'--reason'" in missing.err
    assert portal.requests == []


def test_an_answer_that_is_not_json_says_the_address_may_be_wrong(portal, run):
    portal.on("GET", "/api/v1/incidents", httpx.Response(200, text="<html>login</html>"))
    result = run("incidents", "list")
    assert (
        result.code == 1 and "is not JSON: is https://portal.example.com the portal?" in result.err
    )


def test_help_lists_the_exit_statuses(run):
    result = run("shift", "propose", "--help")
    assert result.code == 0
    said = " ".join(result.out.split())
    assert "0 applied, 3 rejected, 4 expired, 5 failed, 6 cancelled, 7 superseded, 8" in said
