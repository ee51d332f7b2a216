"""Signing in and out: audited, throttled, and the user-management admin. The sign-in limits
themselves are in test_login_limits.py; their audit entries in tests/audit."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.urls import reverse

from audit.models import AuditEntry

LOGIN = reverse("login")
LOGOUT = reverse("logout")
BROWSER = {"REMOTE_ADDR": "203.0.113.50", "HTTP_USER_AGENT": "Mozilla/5.0 (X11) Firefox/130"}


@pytest.fixture
def alice(user_factory):
    return user_factory("alice", "Viewer")  # password "pw-alice"


def _login(client, username: str, password: str, **meta: str):
    return client.post(LOGIN, {"username": username, "password": password}, **{**BROWSER, **meta})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.mark.django_db
def test_login_page_renders_a_form(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert "<script>" not in html and "style=" not in html


@pytest.mark.django_db
def test_successful_login_is_audited_with_address_and_browser(client, alice):
    response = _login(client, "alice", "pw-alice")

    assert response.status_code == 302 and _signed_in(client)
    [entry] = _entries("auth.login")
    assert (entry.actor_id, entry.username) == (alice.pk, "alice")
    assert entry.target == "user:alice" and entry.outcome == "ok"
    assert entry.source_ip == "203.0.113.50"
    assert entry.user_agent == "Mozilla/5.0 (X11) Firefox/130"
    assert entry.request_id == response["X-Request-ID"]


@pytest.mark.django_db
def test_failed_login_shows_an_error_and_is_audited_without_the_password(client, alice):
    response = _login(client, "alice", "Wr0ng-Secret-Guess")

    assert response.status_code == 200 and not _signed_in(client)
    assert "Please enter a correct username and password" in response.content.decode()
    [entry] = _entries("auth.login_failed")
    assert entry.actor_id is None and entry.target == "user:alice"
    assert entry.after == {"username": "alice", "failures": 1} and entry.outcome == "failed"
    assert entry.source_ip == "203.0.113.50" and entry.user_agent.startswith("Mozilla/5.0")
    everything = json.dumps([e.canonical_payload() for e in AuditEntry.objects.all()])
    assert "Wr0ng-Secret-Guess" not in everything


@pytest.mark.django_db
def test_failed_login_for_an_unknown_user_is_audited(client):
    _login(client, "mallory", "guess")
    [entry] = _entries("auth.login_failed")
    assert entry.target == "user:mallory"


@pytest.mark.django_db
def test_logout_is_post_only_and_audited(client, alice):
    _login(client, "alice", "pw-alice")

    assert client.get(LOGOUT).status_code == 405
    assert _signed_in(client)
    response = client.post(LOGOUT, **BROWSER)

    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not _signed_in(client)
    [entry] = _entries("auth.logout")
    assert entry.username == "alice" and entry.source_ip == "203.0.113.50"


def _fail_until_locked(client, username: str = "alice", **meta: str) -> None:
    for _ in range(settings.OPSPORTAL_LOGIN_FAILURE_LIMIT):
        _login(client, username, "not-it", **meta)


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_even_for_the_right_password(client, alice, clock):
    _fail_until_locked(client)

    response = _login(client, "alice", "pw-alice")

    assert response.status_code == 429
    assert not _signed_in(client)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    until = (clock.now + settings.AXES_COOLOFF_TIME).strftime("%H:%M")
    assert (
        "Too many failed attempts for this account from your address; "
        f"try again in {minutes} minutes (at {until} UTC)" in response.content.decode()
    )
    locked = _entries("auth.locked_out")
    assert locked and locked[0].target == "user:alice" and locked[0].outcome == "denied"
    assert locked[0].source_ip == "203.0.113.50"
    assert not _entries("auth.login")


@pytest.mark.django_db
def test_rotating_address_or_browser_reaches_the_account_wide_limit(client, alice):
    """One failure from each of many addresses and browsers: the account alone locks, at
    its own (much higher) limit, and then refuses every address."""
    for i in range(settings.OPSPORTAL_LOGIN_ACCOUNT_FAILURE_LIMIT):
        _login(client, "alice", "not-it", REMOTE_ADDR=f"198.51.100.{i}", HTTP_USER_AGENT=f"ua{i}")

    response = _login(client, "alice", "pw-alice", REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 429
    assert "Too many failed attempts for this account;" in response.content.decode()


@pytest.mark.django_db
def test_lockout_is_per_account(client, alice, user_factory):
    user_factory("bob", "Viewer")
    _fail_until_locked(client)

    assert _login(client, "bob", "pw-bob").status_code == 302


@pytest.mark.django_db
def test_lockout_expires_after_the_cool_off(client, alice, clock):
    _fail_until_locked(client)
    assert _login(client, "alice", "pw-alice").status_code == 429

    clock.advance(seconds=settings.AXES_COOLOFF_TIME.total_seconds() + 1)

    response = _login(client, "alice", "pw-alice")
    assert response.status_code == 302 and _signed_in(client)


@pytest.mark.django_db
def test_admin_role_manages_users_in_the_admin(role_client):
    client = role_client("Admin")

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200
    response = client.post("/admin/auth/group/add/", {"name": "Auditors"})
    assert response.status_code == 302

    [entry] = _entries("admin.group.add")
    assert entry.username == "user-admin" and entry.target == "group:Auditors"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["Viewer", "Operator", "Approver"])
def test_other_roles_are_refused_by_the_admin(role_client, role):
    client = role_client(role)

    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert b"needs the Admin role" in response.content
    assert client.get("/admin/auth/user/", follow=True).status_code == 403


@pytest.mark.django_db
def test_anonymous_admin_visit_goes_to_the_portal_login(client):
    response = client.get("/admin/auth/user/", follow=True)
    assert response.redirect_chain[-1][0].startswith(LOGIN)
    assert response.status_code == 200


@pytest.mark.django_db
def test_forbidden_page_names_the_role_and_who_to_ask(role_client):
    response = role_client("Viewer").get(reverse("audit:list"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "This page needs the Approver role." in html
    assert "Admin" in html and "user-viewer" in html


@pytest.mark.django_db
def test_unknown_page_is_a_friendly_404(role_client):
    response = role_client("Viewer").get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
