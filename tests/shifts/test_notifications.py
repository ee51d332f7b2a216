"""Who hears about a shift, by email and webhook, and why a broken channel never matters
to the shift itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core import mail

from shifts import services
from shifts.models import ShiftState
from tests.shifts.helpers import reload
from tests.support.receiver import Webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(settings) -> Iterator[Webhook]:
    hook = Webhook()
    settings.OPSPORTAL_WEBHOOK_URL = hook.url
    yield hook
    hook.close()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def _propose(endpoint, people):
    return services.shift_propose(
        endpoint_id=endpoint.pk,
        actor=people.operator,
        desired={"A": 90, "B": 10},
        reason="B's latency doubled",
    )


def test_approvers_are_told_a_proposal_waits_for_them(endpoint, people, commit, webhook):
    proposal = commit(lambda: _propose(endpoint, people))
    to = sorted(address for m in mail.outbox for address in m.to)
    assert to == ["admin@example.com", "approver2@example.com", "approver@example.com"]
    message = mail.outbox[0]
    assert f"Shift #{proposal.pk} on checkout: proposed" in message.subject
    assert "A 50.0 %, B 50.0 % → A 90.0 %, B 10.0 %" in message.body
    assert "B's latency doubled" in message.body and f"/shifts/{proposal.pk}/" in message.body
    [hook] = webhook.received
    assert hook["content_type"] == "application/json"
    assert set(hook["body"]) == {"text"} and "checkout" in hook["body"]["text"]


def test_the_proposer_hears_the_decision(endpoint, people, commit, monkeypatch):
    from shifts import tasks

    monkeypatch.setattr(tasks.shift_apply, "apply_async", lambda **kwargs: None)
    proposal = _propose(endpoint, people)
    commit(
        lambda: services.shift_reject(
            proposal_id=proposal.pk, actor=people.approver, comment="not during the sale"
        )
    )
    [message] = mail.outbox
    assert message.to == ["operator@example.com"]
    assert "rejected by approver: not during the sale" in message.body


def test_a_dead_webhook_and_mail_server_do_not_block_the_flow(
    endpoint, people, commit, settings, caplog
):
    settings.OPSPORTAL_WEBHOOK_URL = "http://127.0.0.1:9/hook"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
    proposal = commit(lambda: _propose(endpoint, people))
    assert reload(proposal).state == ShiftState.PENDING
    assert "email for shift" in caplog.text and "webhook for shift" in caplog.text
    commit(lambda: services.shift_cancel(proposal_id=proposal.pk, actor=people.operator))
    assert reload(proposal).state == ShiftState.CANCELLED


def test_a_reason_cannot_mention_the_channel_or_disguise_a_link(endpoint, people, commit, webhook):
    commit(
        lambda: services.shift_propose(
            endpoint_id=endpoint.pk,
            actor=people.operator,
            desired={"A": 90, "B": 10},
            reason="<!channel> see <https://evil.example|the runbook> & act",
        )
    )
    [hook] = webhook.received
    text = hook["body"]["text"]
    assert "&lt;!channel&gt; see &lt;https://evil.example|the runbook&gt; &amp; act" in text
    assert "<!channel>" not in text and "<https://evil" not in text
    # Email is plain text: it says what was typed.
    assert "<!channel> see <https://evil.example|the runbook> & act" in mail.outbox[0].body
