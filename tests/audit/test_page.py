"""The audit page: who may read it, what it shows, how it filters and pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEntry
from audit.services import audit_record

URL = reverse("audit:list")
ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/"


def _row_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-entry="(\d+)"', response.content.decode())]


@pytest.fixture
def approver(role_client):
    return role_client("Approver")


def _at(monkeypatch, when: datetime) -> None:
    monkeypatch.setattr("audit.services.timezone.now", lambda: when)


@pytest.fixture
def mixed_entries(user_factory, monkeypatch):
    """A small, varied log written on three different days."""
    olga = user_factory("olga", "Operator")
    _at(monkeypatch, datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    a = audit_record(actor=olga, action="inventory.refresh", target=ARN + "churn")
    _at(monkeypatch, datetime(2025, 3, 2, 9, 0, tzinfo=UTC))
    b = audit_record(
        actor=olga,
        action="shift.propose",
        target=ARN + "fraud",
        before={"weights": {"blue": 1.0}},
        after={"weights": {"blue": 0.5, "green": 0.5}},
    )
    c = audit_record(actor=None, action="inventory.sync", target="sandbox/us-east-1")
    _at(monkeypatch, datetime(2025, 3, 3, 23, 59, tzinfo=UTC))
    d = audit_record(actor=None, action="auth.login_failed", target="user:olga", outcome="failed")
    monkeypatch.undo()
    return {"refresh": a, "propose": b, "sync": c, "failed": d}


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["Viewer", "Operator"])
def test_roles_below_approver_are_refused(role_client, role):
    response = role_client(role).get(URL)
    assert response.status_code == 403
    assert b"Approver" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["Approver", "Admin"])
def test_approver_and_admin_read_the_log_newest_first(role_client, role, mixed_entries):
    response = role_client(role).get(URL)

    assert response.status_code == 200
    ids = _row_ids(response)
    assert ids == sorted(ids, reverse=True)
    assert {e.pk for e in mixed_entries.values()} <= set(ids)
    html = response.content.decode()
    assert "shift.propose" in html and ARN + "fraud" in html
    assert "<details>" in html and "&quot;green&quot;: 0.5" in html
    assert 'class="pill pill-bad">failed' in html


@pytest.mark.django_db
def test_each_row_shows_request_id_and_source_ip(approver, user_factory, rf):
    request = rf.post("/x", REMOTE_ADDR="192.0.2.44")
    request.request_id = "req-abcdef123456"
    entry = audit_record(
        actor=user_factory("ivan", "Operator"),
        action="inventory.refresh",
        target=ARN + "x",
        request=request,
    )

    html = approver.get(URL).content.decode()
    row = html[html.index(f'data-entry="{entry.pk}"') :].split("</tr>")[0]
    assert "req-abcdef123456" in row and "192.0.2.44" in row and "ivan" in row


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actor": "OLGA"}, {"refresh", "propose"}),
        ({"action": "inventory."}, {"refresh", "sync"}),
        ({"action": "auth", "target": "user:olga"}, {"failed"}),
        ({"outcome": "failed"}, {"failed"}),
        ({"target": "FRAUD"}, {"propose"}),
        ({"date_from": "2025-03-02", "date_to": "2025-03-02"}, {"propose", "sync"}),
        ({"date_from": "2025-03-03", "date_to": "2025-03-03"}, {"failed"}),
        ({"date_to": "2025-03-01"}, {"refresh"}),
        ({"actor": "system", "action": "inventory"}, {"sync"}),
        ({"actor": "nobody"}, set()),
    ],
)
def test_filters_narrow_the_list(approver, mixed_entries, params, expected):
    response = approver.get(URL, params)

    assert response.status_code == 200
    wanted = {mixed_entries[name].pk for name in expected}
    assert set(_row_ids(response)) == wanted
    if not expected:
        assert b"No entries match these filters." in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"action": "auth'; DROP TABLE x"}, "Use lowercase letters"),
        ({"date_from": "2025-13-45"}, "Enter a valid date"),
        ({"date_from": "2025-03-03", "date_to": "2025-03-01"}, "From date is after the To date"),
        ({"outcome": "sideways"}, "Select a valid choice"),
        ({"before": "abc"}, "page link is malformed"),
        ({"target": "x" * 600}, "at most 512 characters"),
    ],
)
def test_bad_filters_give_a_message_and_no_rows(approver, mixed_entries, params, message):
    response = approver.get(URL, params)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert b"Some filters are not valid" in response.content
    assert _row_ids(response) == []


@pytest.mark.django_db
def test_pages_of_fifty_walk_older_and_back(approver):
    for i in range(120):
        audit_record(actor=None, action="test.page", target=f"t{i}")
    params = {"action": "test."}

    first = approver.get(URL, params)
    ids1 = _row_ids(first)
    assert len(ids1) == 50
    assert f"before={ids1[-1]}" in first.content.decode()
    assert "after=" not in first.content.decode()

    second = approver.get(URL, {**params, "before": ids1[-1]})
    ids2 = _row_ids(second)
    third = approver.get(URL, {**params, "before": ids2[-1]})
    ids3 = _row_ids(third)
    assert len(ids2) == 50 and len(ids3) == 20
    assert ids1 + ids2 + ids3 == sorted(ids1 + ids2 + ids3, reverse=True)
    assert len(set(ids1 + ids2 + ids3)) == 120
    assert "before=" not in third.content.decode()

    back = approver.get(URL, {**params, "after": ids3[0]})
    assert _row_ids(back) == ids2
    assert "action=test." in back.content.decode()


@pytest.mark.django_db
def test_query_count_does_not_grow_with_entries(approver, django_assert_max_num_queries):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert approver.get(URL).status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        audit_record(actor=None, action="test.q", target=f"t{i}", after={"i": i})
    few = count_queries()
    for i in range(200):
        audit_record(actor=None, action="test.q", target=f"t{i}", after={"i": i})
    many = count_queries()

    assert few == many
    with django_assert_max_num_queries(8):
        approver.get(URL, {"before": AuditEntry.objects.order_by("-id")[10].pk})


@pytest.mark.django_db
def test_entries_are_escaped(approver):
    audit_record(actor=None, action="test.xss", target="<script>alert(1)</script>")
    html = approver.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
