"""Failed and refused sign-ins reach the audit log as a few counted entries, not one each:
anonymous attempts must not be able to fill a log nobody can empty."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import reverse

from audit import tasks
from audit.models import AuditEntry

LOGIN = reverse("login")
ATTACKER = "203.0.113.66"
PAIR_LIMIT = settings.OPSPORTAL_LOGIN_FAILURE_LIMIT
COOL_OFF_SECONDS = settings.AXES_COOLOFF_TIME.total_seconds()


@pytest.fixture
def alice(user_factory):
    return user_factory("alice", "Approver")  # password "pw-alice"


def _login(username: str, password: str, address: str = ATTACKER, client: Client | None = None):
    return (client or Client()).post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_USER_AGENT="curl/8.5",
    )


def _fail(times: int, username: str = "alice", address: str = ATTACKER) -> None:
    for _ in range(times):
        _login(username, "not-it", address)


def _entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def _chain_intact() -> bool:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return "intact" in out.getvalue()


@pytest.mark.django_db
def test_failures_up_to_a_lock_write_the_first_one_and_the_lock(alice):
    _fail(PAIR_LIMIT)

    [first] = _entries("auth.login_failed")
    assert first.target == "user:alice" and first.after["failures"] == 1
    assert first.source_ip == ATTACKER and first.outcome == "failed"
    [lock] = _entries("auth.locked_out")
    assert lock.target == "user:alice" and lock.outcome == "denied"
    assert lock.after["lock"] == "account_from_address" and lock.after["address"] == ATTACKER
    assert (lock.after["failures"], lock.after["limit"]) == (PAIR_LIMIT, PAIR_LIMIT)
    assert lock.after["until"] and "refused from it until" in lock.error
    assert AuditEntry.objects.count() == 2


@pytest.mark.django_db
def test_a_spray_from_one_address_is_recorded_per_username_then_the_address_lock():
    limit = settings.OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT
    for i in range(limit + 20):  # 20 more after the lock: refused, and only counted
        _login(f"guess{i}", "not-it")

    assert len(_entries("auth.login_failed")) == limit - 1
    [lock] = _entries("auth.locked_out")
    assert lock.target == f"address:{ATTACKER}" and lock.after["failures"] == limit
    [so_far] = _entries("auth.login_refused")
    assert so_far.after["refusals"] == 10 and so_far.after["lock_ended"] is False


@pytest.mark.django_db
def test_refusals_while_locked_become_one_counted_entry_when_the_lock_ends(alice, clock):
    _fail(PAIR_LIMIT)
    _fail(3)
    assert _login("alice", "pw-alice").status_code == 429
    assert not _entries("auth.login_refused")  # the total is not known yet

    clock.advance(seconds=COOL_OFF_SECONDS + 1)
    assert tasks.login_lock_tallies_close.delay().get() == 1

    [total] = _entries("auth.login_refused")
    assert total.target == "user:alice" and total.outcome == "denied"
    assert total.after["refusals"] == 4 and total.after["lock_ended"] is True
    assert total.after["address"] == ATTACKER and total.username == "anonymous"
    assert "4 sign-in attempts refused while locked" in total.error
    assert tasks.login_lock_tallies_close.delay().get() == 0  # written once
    assert _login("alice", "pw-alice").status_code == 302
    assert len(_entries("auth.login")) == 1


@pytest.mark.django_db
def test_a_new_lock_writes_the_total_of_the_ended_one_first(alice, clock):
    _fail(PAIR_LIMIT)
    _fail(2)
    clock.advance(seconds=COOL_OFF_SECONDS + 1)  # ended, and not swept yet

    _fail(PAIR_LIMIT)

    [total] = _entries("auth.login_refused")
    assert total.after["refusals"] == 2 and total.after["lock_ended"] is True
    assert len(_entries("auth.locked_out")) == 2
    assert total.id < _entries("auth.locked_out")[1].id


@pytest.mark.django_db(transaction=True)
def test_a_flood_at_a_locked_account_writes_a_handful_of_entries_that_count_it(alice, clock):
    """400 attempts from 8 threads at once: an entry or two per attempt would be 400 to 800."""
    _fail(PAIR_LIMIT)
    assert _login("alice", "pw-alice").status_code == 429
    before = AuditEntry.objects.count()
    threads_count, per_thread = 8, 50
    start = threading.Barrier(threads_count)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def attack(n: int) -> None:
        try:
            client = Client()
            start.wait()
            for i in range(per_thread):
                statuses.append(_login("alice", f"guess-{n}-{i}", client=client).status_code)
        except BaseException as exc:  # surfaced below, a thread cannot fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attack, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert statuses == [429] * (threads_count * per_thread)
    so_far = _entries("auth.login_refused")
    assert [e.after["refusals"] for e in so_far] == [10, 100]

    clock.advance(seconds=COOL_OFF_SECONDS + 1)
    tasks.login_lock_tallies_close.delay().get()

    written = AuditEntry.objects.order_by("id")[before:]
    assert len(written) <= 5
    total = _entries("auth.login_refused")[-1]
    # The refused sign-in before the flood, and the flood.
    assert total.after["refusals"] == 1 + threads_count * per_thread
    assert total.after["lock_ended"] is True
    assert _chain_intact()
