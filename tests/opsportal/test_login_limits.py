"""The sign-in limits people meet: an account from one address locks after a few failures,
an address after more whatever usernames it tries, the account everywhere only at a much
higher count; each lock lasts one cool-off from the failures that caused it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]
LOGIN = reverse("login")
ATTACKER = "203.0.113.66"
OFFICE = "192.0.2.10"

PAIR_LIMIT = settings.OPSPORTAL_LOGIN_FAILURE_LIMIT
ADDRESS_LIMIT = settings.OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT
ACCOUNT_LIMIT = settings.OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT
COOL_OFF_SECONDS = settings.AXES_COOLOFF_TIME.total_seconds()

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(user_factory):
    return user_factory("alice", "Approver")  # password "pw-alice"


def _login(username: str, password: str, address: str):
    """One sign-in attempt from a fresh browser at `address`."""
    return Client().post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _fail(username: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        assert _login(username, "not-it", address).status_code in (200, 429)


def _address(i: int) -> str:
    return f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"


def test_the_account_locks_from_that_address_only(alice, user_factory):
    user_factory("bob", "Viewer")
    _fail("alice", ATTACKER, PAIR_LIMIT - 1)
    assert _login("alice", "pw-alice", ATTACKER).status_code == 302  # one short of the limit

    _fail("alice", ATTACKER, PAIR_LIMIT)
    refused = _login("alice", "pw-alice", ATTACKER)

    assert refused.status_code == 429
    assert "for this account from your address" in refused.content.decode()
    # The owner signs in from anywhere else, and the address still serves other accounts.
    assert _login("alice", "pw-alice", OFFICE).status_code == 302
    assert _login("bob", "pw-bob", ATTACKER).status_code == 302


def test_an_address_is_refused_after_failures_spread_over_usernames(user_factory):
    user_factory("bob", "Viewer")
    for i in range(ADDRESS_LIMIT - 1):  # a spray: one guess per username
        _fail(f"guess{i}", ATTACKER)
    assert _login("bob", "pw-bob", ATTACKER).status_code == 302  # one short of the limit

    _fail("guess-last", ATTACKER)
    refused = _login("bob", "pw-bob", ATTACKER)

    assert refused.status_code == 429
    assert "Too many failed sign-ins from your address" in refused.content.decode()
    assert _login("bob", "pw-bob", OFFICE).status_code == 302


def test_the_account_locks_everywhere_only_at_the_high_count(alice):
    for i in range(ACCOUNT_LIMIT - 1):  # one guess from each of many addresses
        _fail("alice", _address(i))
    assert _login("alice", "pw-alice", OFFICE).status_code == 302  # one short of the limit

    _fail("alice", _address(ACCOUNT_LIMIT))
    refused = _login("alice", "pw-alice", OFFICE)

    assert refused.status_code == 429
    assert "Too many failed attempts for this account; try again" in refused.content.decode()


def test_an_attacker_on_a_few_addresses_cannot_lock_the_account(alice):
    """Each address is stopped by its own limits, and its refused attempts are not counted,
    so a few addresses hammering an Approver never reach the account-wide limit."""
    addresses = ("203.0.113.1", "203.0.113.2", "203.0.113.3")
    for address in addresses:  # more attempts in all than the account-wide limit
        _fail("alice", address, ACCOUNT_LIMIT // len(addresses) + 1)
        assert _login("alice", "pw-alice", address).status_code == 429

    assert _login("alice", "pw-alice", OFFICE).status_code == 302


def test_a_lock_ends_one_cool_off_after_the_failures_whatever_is_tried_meanwhile(alice, clock):
    _fail("alice", ATTACKER, PAIR_LIMIT)
    clock.advance(seconds=COOL_OFF_SECONDS - 60)
    _fail("alice", ATTACKER, 3)  # refused, and they do not start the wait again
    refused = _login("alice", "pw-alice", ATTACKER)
    assert refused.status_code == 429
    assert "try again in 1 minute (at" in refused.content.decode()

    clock.advance(seconds=61)

    assert _login("alice", "pw-alice", ATTACKER).status_code == 302


def test_the_page_gives_the_wait_until_every_lock_on_the_attempt_has_ended(alice, clock):
    """Guesses from many addresses, then ten minutes later from one address: its fifth
    failure locks the account everywhere (until a cool-off after the oldest guesses) and
    the account from that address (a cool-off from now). From there, the later end counts."""
    for i in range(ACCOUNT_LIMIT - PAIR_LIMIT):
        _fail("alice", _address(i))
    clock.advance(minutes=10)
    _fail("alice", ATTACKER, PAIR_LIMIT)

    refused = _login("alice", "pw-alice", ATTACKER)
    minutes = int(COOL_OFF_SECONDS // 60)
    until = (clock.now + settings.AXES_COOLOFF_TIME).strftime("%H:%M")
    assert "Too many failed attempts for this account; try again" in refused.content.decode()
    assert f"try again in {minutes} minutes (at {until} UTC)" in refused.content.decode()

    clock.advance(seconds=COOL_OFF_SECONDS - 10 * 60 + 1)  # the account-wide lock is over
    assert _login("alice", "pw-alice", OFFICE).status_code == 302
    assert _login("alice", "pw-alice", ATTACKER).status_code == 429
    clock.advance(minutes=10)
    assert _login("alice", "pw-alice", ATTACKER).status_code == 302


def _start_up(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "OPSPORTAL_SECURE": "false",
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        **env,
    }
    show = (
        "from django.conf import settings as s; print(s.OPSPORTAL_LOGIN_FAILURE_LIMIT, "
        "s.OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT, s.OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT, "
        "s.AXES_COOLOFF_TIME)"
    )
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", show],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_the_limits_come_from_the_environment():
    result = _start_up(
        OPSPORTAL_LOGIN_FAILURE_LIMIT="3",
        OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT="20",
        OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT="500",
        OPSPORTAL_LOGIN_COOLOFF_MINUTES="30",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "20", "500", "0:30:00"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT": "lots"},
            "OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT='lots' is not a whole number",
        ),
        (
            {"OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT": "0"},
            "OPSPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT=0 must be at least 1",
        ),
        (
            {"OPSPORTAL_LOGIN_FAILURE_LIMIT": "10", "OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT": "8"},
            "OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT=8 must be at least "
            "OPSPORTAL_LOGIN_FAILURE_LIMIT (10)",
        ),
    ],
)
def test_a_bad_limit_stops_start_up_naming_it(env, message):
    result = _start_up(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_behind_the_portals_proxy_each_client_is_counted_by_its_own_address(alice, settings):
    settings.OPSPORTAL_BEHIND_PROXY = True
    proxy = "10.0.0.5"

    def through_proxy(password: str, client: str, claimed: str = ""):
        forwarded = f"{claimed}, {client}" if claimed else client
        return Client().post(
            LOGIN,
            {"username": "alice", "password": password},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for _ in range(PAIR_LIMIT):
        # What the attacker writes into X-Forwarded-For itself changes nothing.
        through_proxy("not-it", ATTACKER, claimed=_address(_))
    assert through_proxy("pw-alice", ATTACKER).status_code == 429
    # Alice, behind the same load balancer, signs in from her own address.
    assert through_proxy("pw-alice", OFFICE).status_code == 302
    entry = AuditEntry.objects.filter(action="auth.login").latest("id")
    assert entry.source_ip == OFFICE
