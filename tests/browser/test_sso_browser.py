"""Single sign-on in a real browser against a real OpenID Connect provider: the test
provider (tests/oidc_provider, django-oauth-toolkit, RS256) runs in its own process, and
the portal talks to it over HTTP exactly as to Okta, Entra ID or Keycloak."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from audit.models import AuditEntry
from opsportal import sso
from opsportal.sso_config import sso_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent.parent
ROLE_GROUPS = "Viewer=ml-viewers,Operator=ml-ops,Approver=ml-leads,Admin=platform-admins"


@dataclass(frozen=True)
class OidcTestProvider:
    issuer: str
    client_id: str
    client_secret: str
    env: dict[str, str]

    def set_groups(self, username: str, *groups: str) -> None:
        """Change a user's groups at the provider (as its administrator would)."""
        subprocess.run(
            [sys.executable, "-m", "tests.oidc_provider", "groups", username, *groups],
            env=self.env,
            cwd=ROOT,
            check=True,
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def oidc_provider(live_server) -> Iterator[OidcTestProvider]:
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}/o"
    with tempfile.TemporaryDirectory(prefix="oidc-provider-") as state:
        env = {**os.environ, "OIDC_PROVIDER_DIR": state, "OIDC_PROVIDER_ISSUER": issuer}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        made = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.oidc_provider",
                "setup",
                f"{live_server.url}/accounts/sso/callback/",
                f"{live_server.url}/accounts/login/",
            ],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        client = json.loads(made.stdout)
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_provider", "serve", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                        break
                except requests.RequestException:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the test OpenID Connect provider did not start")
                time.sleep(0.1)
            yield OidcTestProvider(issuer, client["client_id"], client["client_secret"], env)
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.fixture
def sso_on(oidc_provider, settings):
    """The portal configured for the test provider through the same checks as at start-up."""

    def configure(*, local_login: bool = True) -> None:
        env = {
            "OPSPORTAL_OIDC_ISSUER": oidc_provider.issuer,
            "OPSPORTAL_OIDC_CLIENT_ID": oidc_provider.client_id,
            "OPSPORTAL_OIDC_CLIENT_SECRET": oidc_provider.client_secret,
            "OPSPORTAL_OIDC_ROLE_GROUPS": ROLE_GROUPS,
            "OPSPORTAL_OIDC_PROVIDER_NAME": "Test IdP",
            "OPSPORTAL_OIDC_ACCESS_CONTACT": "the ML platform team",
        }
        values = sso_settings(
            env,
            secure=False,
            local_login=local_login,
            backends=[
                "axes.backends.AxesStandaloneBackend",
                "django.contrib.auth.backends.ModelBackend",
            ],
            csp=settings.CONTENT_SECURITY_POLICY,
        )
        for name, value in values.items():
            setattr(settings, name, value)

    return configure


def _sign_in_at_provider(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("[data-testid=sso-login]")
    page.wait_for_selector("[data-testid=provider-login]")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("#provider-submit")


def _log_out(page) -> None:
    page.click("form[action='/accounts/logout/'] button")


def test_operator_signs_in_through_the_provider_with_the_operator_role(page, live_server, sso_on):
    sso_on()
    _sign_in_at_provider(page, live_server, "alice")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator(".who .username").inner_text() == "alice"
    assert page.locator(".who .role-badge").inner_text() == "Operator"
    # An Operator may launch batch jobs but has no Audit entry (that is an Approver's).
    assert page.locator("nav.mainnav >> text=Audit").count() == 0
    page.goto(f"{live_server.url}/transforms/launch/")
    assert page.locator("[data-testid=forbidden]").count() == 0
    response = page.goto(f"{live_server.url}/audit/")
    assert response.status == 403
    entry = AuditEntry.objects.filter(action="sso.login").get()
    assert entry.username == "alice"
    assert entry.after == {"role": "Operator", "groups": ["ml-ops"]}


def test_user_without_a_mapped_group_sees_no_access_and_is_not_signed_in(page, live_server, sso_on):
    sso_on()
    _sign_in_at_provider(page, live_server, "bob")
    page.wait_for_url("**/accounts/sso/no-access/")
    text = page.locator("[data-testid=sso-no-access]").inner_text()
    assert "none of your groups gives a role" in text
    assert "the ML platform team" in text and "ml-ops" in text
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/accounts/login/?next=/")
    refusal = AuditEntry.objects.get(action="sso.refused")
    assert (refusal.outcome, refusal.error, refusal.target) == ("denied", "no_role", "user:bob")


def test_a_group_change_at_the_provider_changes_the_role_at_the_next_sign_in(
    page, live_server, sso_on, oidc_provider
):
    sso_on()
    _sign_in_at_provider(page, live_server, "carol")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator(".who .role-badge").inner_text() == "Viewer"
    _log_out(page)
    page.wait_for_url("**/accounts/login/")

    oidc_provider.set_groups("carol", "ml-leads", "ml-viewers")
    _sign_in_at_provider(page, live_server, "carol")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator(".who .role-badge").inner_text() == "Approver"
    assert page.locator("nav.mainnav >> text=Audit").count() == 1
    _log_out(page)
    page.wait_for_url("**/accounts/login/")

    # Removed from every mapped group: the role is gone at the next sign-in.
    oidc_provider.set_groups("carol", "staff")
    _sign_in_at_provider(page, live_server, "carol")
    page.wait_for_url("**/accounts/sso/no-access/")
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/accounts/login/?next=/")
    changes = [
        (e.before["role"], e.after["role"])
        for e in AuditEntry.objects.filter(action="sso.role_change").order_by("id")
    ]
    assert changes == [("None", "Viewer"), ("Viewer", "Approver"), ("Approver", "None")]
    oidc_provider.set_groups("carol", "ml-viewers")


def test_logging_out_of_the_portal_logs_out_at_the_provider(page, live_server, sso_on):
    sso_on()
    _sign_in_at_provider(page, live_server, "dave")
    page.wait_for_url(f"{live_server.url}/")
    _log_out(page)
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    # Still signed in at the provider, the button would come straight back; it asks again.
    page.click("[data-testid=sso-login]")
    page.wait_for_selector("[data-testid=provider-login]")
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/accounts/login/?next=/")


def test_local_login_switched_off_hides_the_form_and_refuses_a_post(
    page, live_server, sso_on, user_factory
):
    sso_on(local_login=False)
    user_factory("local-operator", "Operator")
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("[data-testid=sso-login]").inner_text() == "Sign in with Test IdP"
    assert page.locator("input[name=password]").count() == 0
    # A hand-made POST with a valid CSRF token (the login page still sets the cookie) is
    # refused, and nobody is signed in.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/accounts/login/",
        form={"username": "local-operator", "password": "pw-local-operator"},
        headers={"X-CSRFToken": csrf, "Referer": f"{live_server.url}/accounts/login/"},
    )
    assert response.status == 403
    assert "switched off" in response.text()
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/accounts/login/?next=/")


def test_a_code_the_provider_never_issued_is_refused_not_an_error(client, sso_on):
    sso_on()
    session = client.session
    session["oidc_states"] = {"s1": {"nonce": "n1", "code_verifier": "v" * 64, "added_on": 0}}
    session.save()
    response = client.get("/accounts/sso/callback/", {"code": "never-issued", "state": "s1"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/sso/no-access/"
    assert client.get("/").status_code == 302


def test_discovery_is_read_once_and_must_name_the_configured_issuer(
    sso_on, oidc_provider, monkeypatch, settings
):
    sso_on()
    sso._discovered.clear()
    fetched: list[str] = []
    real_get = requests.get

    def counting_get(url, **kwargs):
        fetched.append(url)
        return real_get(url, **kwargs)

    monkeypatch.setattr(requests, "get", counting_get)
    first = sso.provider()
    assert sso.provider() == first
    assert fetched == [f"{oidc_provider.issuer}/.well-known/openid-configuration"]
    assert first.end_session_endpoint == f"{oidc_provider.issuer}/logout/"
    # The same server under another name is not the configured issuer.
    settings.OPSPORTAL_OIDC_ISSUER = oidc_provider.issuer.replace("127.0.0.1", "localhost")
    with pytest.raises(sso.ProviderUnavailable, match="names the issuer"):
        sso.provider()
