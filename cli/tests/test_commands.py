"""What each command sends to the API and prints back."""

from __future__ import annotations

import json
import uuid

from fake_portal import endpoint, problem, shift


def test_endpoints_list_sends_the_filters_and_prints_a_table(portal, run):
    portal.on("GET", "/api/v1/endpoints", {"items": [endpoint()], "next_cursor": None})
    result = run("endpoints", "list", "--region", "us-east-1", "--status", "InService")
    assert result.code == 0 and result.err == ""
    query = dict(portal.requests[0].url.params)
    assert query == {"region": "us-east-1", "status": "InService", "limit": "50"}
    assert result.out.splitlines()[1].startswith("7   fraud-detection  sandbox  us-east-1")


def test_json_is_the_apis_json_as_is(portal, run):
    page = {"items": [endpoint()], "next_cursor": "abc"}
    portal.on("GET", "/api/v1/endpoints", page)
    result = run("endpoints", "list", "--json")
    assert json.loads(result.out) == page and result.err == ""


def test_a_list_that_goes_on_says_how_to_see_more_and_all_follows_the_cursor(portal, run):
    portal.on(
        "GET",
        "/api/v1/incidents",
        {"items": [{"id": 1, "title": "5XX", "state": "open"}], "next_cursor": "c2"},
        {"items": [{"id": 2, "title": "latency", "state": "open"}], "next_cursor": None},
    )
    first = run("incidents", "list", "--state", "open", "--limit", "1")
    assert "add --cursor c2" in first.err and len(first.out.splitlines()) == 2
    everything = run("incidents", "list", "--state", "open", "--all", "--json")
    assert [i["id"] for i in json.loads(everything.out)["items"]] == [2]
    sent = portal.sent("GET", "/api/v1/incidents")
    assert dict(sent[0].url.params) == {"state": "open", "limit": "1"}


def test_all_follows_every_page(portal, run):
    portal.on(
        "GET",
        "/api/v1/jobs",
        {"items": [{"id": 1, "name": "a", "status": "Completed"}], "next_cursor": "p2"},
        {"items": [{"id": 2, "name": "b", "status": "InProgress"}], "next_cursor": None},
    )
    result = run("jobs", "list", "--all")
    assert [line.split()[0] for line in result.out.splitlines()] == ["ID", "1", "2"]
    assert portal.sent("GET", "/api/v1/jobs")[1].url.params["cursor"] == "p2"


def test_show_finds_the_endpoint_by_its_exact_name(portal, run):
    portal.on(
        "GET",
        "/api/v1/endpoints",
        {"items": [endpoint(7, "fraud-detection-v2"), endpoint()], "next_cursor": None},
    )
    portal.on("GET", "/api/v1/endpoints/7", endpoint())
    result = run("endpoints", "show", "fraud-detection")
    assert result.code == 0 and "Endpoint: fraud-detection\n" in result.out
    assert portal.requests[0].url.params["name"] == "fraud-detection"


def test_a_name_in_several_regions_asks_for_target_and_region(portal, run):
    portal.on(
        "GET",
        "/api/v1/endpoints",
        {"items": [endpoint(7), endpoint(9, region="eu-west-1")], "next_cursor": None},
    )
    result = run("endpoints", "show", "fraud-detection")
    assert result.code == 1
    assert result.err == (
        "opsportal: 2 endpoints are named 'fraud-detection' (sandbox/us-east-1, "
        "sandbox/eu-west-1): choose one with --target and --region\n"
    )
    run("endpoints", "show", "fraud-detection", "--region", "eu-west-1")
    assert portal.requests[-1].url.params["region"] == "eu-west-1"


def test_an_unknown_name_says_so(portal, run):
    portal.on("GET", "/api/v1/endpoints", {"items": [], "next_cursor": None})
    result = run("endpoints", "show", "nope", "--region", "eu-west-1")
    assert result.err == "opsportal: no endpoint is named 'nope' in eu-west-1\n"


def test_propose_sends_the_weights_and_prints_the_new_shift(portal, run):
    portal.on("GET", "/api/v1/endpoints", {"items": [endpoint()], "next_cursor": None})
    portal.on("POST", "/api/v1/shifts", shift("pending"))
    result = run(
        "shift", "propose", "fraud-detection", "--weights", "A=50, B=49.5", "--reason", "B wins"
    )
    assert result.code == 0
    body = json.loads(portal.sent("POST", "/api/v1/shifts")[0].content)
    assert body == {"endpoint_id": 7, "weights": {"A": 50, "B": 49.5}, "reason": "B wins"}
    assert "Shift:       42\nState:       pending\n" in result.out
    assert "Page:        https://portal.example.com/shifts/42/" in result.out


def test_each_run_has_an_idempotency_key_of_its_own_and_a_retry_keeps_it(portal, run, clock):
    portal.on("GET", "/api/v1/endpoints", {"items": [endpoint()], "next_cursor": None})
    portal.on("POST", "/api/v1/shifts", shift("pending"))
    for _ in range(2):
        run("shift", "propose", "fraud-detection", "--weights", "A=1,B=1", "--reason", "r")
    keys = [r.headers["Idempotency-Key"] for r in portal.sent("POST", "/api/v1/shifts")]
    assert len(set(keys)) == 2 and all(uuid.UUID(k) for k in keys)

    portal.requests.clear()
    portal.on("POST", "/api/v1/shifts", problem(503, "Service Unavailable", ""), shift("pending"))
    result = run(
        "shift", "propose", "fraud-detection", "--weights", "A=1,B=1", "--reason", "r",
        "--idempotency-key", "deploy-1234",
    )  # fmt: skip
    assert result.code == 0
    sent = portal.sent("POST", "/api/v1/shifts")
    assert [r.headers["Idempotency-Key"] for r in sent] == ["deploy-1234", "deploy-1234"]


def test_a_decision_without_a_key_is_never_sent_twice(portal, run):
    portal.on("POST", "/api/v1/shifts/42/reject", problem(503, "Service Unavailable", "Busy."))
    result = run("shift", "reject", "42", "--comment", "no")
    assert result.err == "opsportal: 503 Service Unavailable: Busy.\n"
    assert len(portal.sent("POST", "/api/v1/shifts/42/reject")) == 1


def test_a_throttled_decision_is_sent_again_after_retry_after(portal, run, clock):
    throttled = problem(429, "Too Many Requests", "Slow down.")
    throttled.headers["Retry-After"] = "3"
    portal.on("POST", "/api/v1/shifts/42/approve", throttled, shift("applying"))
    result = run("shift", "approve", "42", "--comment", "ok")
    assert result.code == 0 and "State:       applying" in result.out
    assert len(portal.sent("POST", "/api/v1/shifts/42/approve")) == 2 and clock == [3.0]


def test_jobs_launch_sends_the_launch_forms_fields(portal, run):
    portal.on("POST", "/api/v1/jobs", {"id": 5, "name": "score-1", "status": "Pending"})
    result = run(
        "jobs", "launch", "--target", "sandbox", "--region", "us-east-1",
        "--model", "tumor-model", "--input", "s3://in/data.csv", "--output", "s3://out/",
        "--input-filter", "$[1:]", "--join-source", "Input", "--env", "A=1", "--env", "B=x=y",
        "--instance-count", "2", "--overwrite-output",
    )  # fmt: skip
    assert result.code == 0 and "Status: Pending" in result.out
    body = json.loads(portal.sent("POST", "/api/v1/jobs")[0].content)
    assert body == {
        "target_region": "sandbox/us-east-1",
        "name": "",
        "model_name": "tumor-model",
        "input_uri": "s3://in/data.csv",
        "content_type": "text/csv",
        "split_type": "Line",
        "compression_type": "None",
        "batch_strategy": "MultiRecord",
        "max_payload_mb": 6,
        "max_concurrent_transforms": 1,
        "instance_type": "ml.m5.xlarge",
        "instance_count": 2,
        "output_path": "s3://out/",
        "accept": "",
        "assemble_with": "Line",
        "input_filter": "$[1:]",
        "output_filter": "",
        "join_source": "Input",
        "kms_key_id": "",
        "environment": "A=1\nB=x=y",
        "overwrite_output": True,
    }


def test_jobs_launch_refuses_a_variable_without_a_value_before_sending(portal, run):
    result = run(
        "jobs", "launch", "--target", "sandbox", "--region", "us-east-1", "--model", "m",
        "--input", "s3://in/", "--output", "s3://out/", "--env", "NOVALUE",
    )  # fmt: skip
    assert result.code == 2 and "'NOVALUE' is not KEY=value" in result.err
    assert portal.requests == []


def test_jobs_show_and_incident_table(portal, run):
    portal.on(
        "GET",
        "/api/v1/jobs/5",
        {"id": 5, "name": "score-1", "status": "Completed", "environment": {"A": "1"}},
    )
    assert run("jobs", "show", "5").out.splitlines() == [
        "Id:          5",
        "Name:        score-1",
        "Status:      Completed",
        "Environment: A=1",
    ]
    portal.on(
        "GET",
        "/api/v1/incidents",
        {
            "items": [
                {
                    "id": 3,
                    "title": "5XX on\nfraud",
                    "state": "open",
                    "endpoint_name": "fraud-detection",
                    "opened_at": "2026-12-04T15:00:00+00:00",
                    "owner": None,
                }
            ],
            "next_cursor": None,
        },
    )
    lines = run("incidents", "list").out.splitlines()
    assert lines[0].split() == ["ID", "STATE", "ENDPOINT", "OWNER", "OPENED", "TITLE"]
    assert lines[1].split() == [
        "3", "open", "fraud-detection", "-", "2026-12-04", "15:00:00", "UTC", "5XX", "on", "fraud"
    ]  # fmt: skip
