"""audit_record writes one hash-chained row carrying who, what, where and the change."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from audit.models import GENESIS_HASH, AuditEntry
from audit.services import audit_denied, audit_record
from audit.signing import hmac_key, row_hash

ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn"


def _request(**meta: str):
    request = RequestFactory().post("/endpoints/1/refresh", **meta)
    request.request_id = "req-0123456789"
    return request


@pytest.mark.django_db
def test_entries_chain_their_hashes():
    first = audit_record(actor=None, action="inventory.sync", target="sandbox/us-east-1")
    second = audit_record(
        actor=None, action="inventory.refresh", target=ARN, before={"a": 1}, after={"a": 2}
    )

    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    for entry in (first, second):
        stored = AuditEntry.objects.get(pk=entry.pk)
        canonical = json.dumps(stored.canonical_payload(), sort_keys=True, separators=(",", ":"))
        # Keyed: without the key nobody can compute it, and plain SHA-256 is not it.
        key = settings.OPSPORTAL_AUDIT_HMAC_KEY.encode()
        assert stored.hash == hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()
        assert stored.hash != hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.django_db
def test_hash_covers_the_previous_hash_and_every_field():
    entry = audit_record(actor=None, action="x.y", target="t")
    for field, value in [
        ("prev_hash", "f" * 64),
        ("target", "other"),
        ("outcome", "failed"),
        ("after", {"k": 1}),
        ("time", datetime(2020, 1, 1, tzinfo=UTC)),
    ]:
        copy = AuditEntry.objects.get(pk=entry.pk)
        setattr(copy, field, value)
        assert row_hash(copy.canonical_text(), key=hmac_key()) != entry.hash, field


@pytest.mark.django_db
def test_actor_request_and_change_are_stored(user_factory):
    alice = user_factory("alice", "Operator")
    request = _request(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 900)

    entry = audit_record(
        actor=alice,
        action="inventory.refresh",
        target=ARN,
        before={"status": "Updating"},
        after={"status": "InService"},
        request=request,
    )

    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.actor_id, stored.username) == (alice.pk, "alice")
    assert stored.action == "inventory.refresh" and stored.target == ARN
    assert stored.before == {"status": "Updating"} and stored.after == {"status": "InService"}
    assert stored.outcome == "ok" and stored.error == ""
    assert stored.request_id == "req-0123456789"
    assert stored.source_ip == "203.0.113.9"
    assert stored.user_agent.startswith("Mozilla/5.0") and len(stored.user_agent) == 512
    assert abs((stored.time - datetime.now(UTC)).total_seconds()) < 60


@pytest.mark.django_db
def test_system_and_anonymous_actors():
    system = audit_record(actor=None, action="inventory.sync", target="sandbox")
    anonymous = audit_record(actor=AnonymousUser(), action="auth.login_failed", target="user:x")

    assert (system.actor_id, system.username) == (None, "system")
    assert (anonymous.actor_id, anonymous.username) == (None, "anonymous")


@pytest.mark.django_db
def test_values_round_trip_so_the_stored_hash_still_verifies():
    """Datetimes, decimals, unicode, big and small floats, nested lists: what the database
    hands back must hash exactly as what was written."""
    entry = audit_record(
        actor=None,
        action="shift.apply",
        target=ARN,
        before={"weights": {"blue": 0.9, "green": 0.1}, "at": datetime(2025, 5, 1, tzinfo=UTC)},
        after={
            "cost": Decimal("12.50"),
            "note": "Zürich \u2713 \x00end",
            "big": 1e20,
            "tiny": 1.5e-07,
            "nested": [{"z": 1, "a": [True, None]}],
            7: "int key",
        },
    )

    stored = AuditEntry.objects.get(pk=entry.pk)
    assert row_hash(stored.canonical_text(), key=hmac_key()) == stored.hash == entry.hash
    assert stored.after["note"] == "Zürich \u2713 end"
    assert stored.after["7"] == "int key"


@pytest.mark.django_db
def test_secrets_are_never_stored():
    entry = audit_record(
        actor=None,
        action="target.configure",
        target="sandbox",
        after={
            "password": "hunter2",
            "nested": {"SecretAccessKey": "abc", "SessionToken": "def"},
            "region": "us-east-1",
        },
    )

    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.after == {
        "password": "[redacted]",
        "nested": {"SecretAccessKey": "[redacted]", "SessionToken": "[redacted]"},
        "region": "us-east-1",
    }
    assert "hunter2" not in json.dumps(stored.canonical_payload())


@pytest.mark.django_db
def test_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome"):
        audit_record(actor=None, action="x", target="y", outcome="maybe")
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_deleting_a_user_keeps_their_audit_entries(user_factory):
    bob = user_factory("bob", "Viewer")
    entry = audit_record(actor=bob, action="inventory.refresh", target=ARN)

    bob.delete()

    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.actor_id, stored.username) == (entry.actor_id, "bob")


@pytest.mark.django_db
def test_audit_denied_records_the_refusal(user_factory):
    request = _request(REMOTE_ADDR="198.51.100.4")
    request.user = user_factory("val", "Viewer")

    entry = audit_denied(request=request, reason="This page needs the Operator role.")

    assert entry.action == "access.denied"
    assert entry.outcome == "denied"
    assert entry.target == "/endpoints/1/refresh"
    assert entry.error == "This page needs the Operator role."
    assert entry.username == "val" and entry.source_ip == "198.51.100.4"
