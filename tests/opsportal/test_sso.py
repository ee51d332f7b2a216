"""Single sign-on without a browser: the groups → role mapping, the start-up checks of the
OPSPORTAL_OIDC_* variables, and the sign-in routes' answers to odd requests. The flow
itself, against a real provider, is tests/browser/test_sso_browser.py."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from audit.models import AuditEntry
from core.roles import ROLE_GROUPS, Role, role_of
from opsportal.sso import MAX_GROUPS, PortalOidcBackend, role_for_groups, username_from_claims
from opsportal.sso_config import ROLE_NAMES, parse_role_groups, sso_settings
from tests.opsportal.test_health_and_security import ROOT, production_env

MAPPING = parse_role_groups(
    "Viewer=ml-viewers,Operator=ml-ops,Approver=ml-leads,Admin=platform-admins,Operator=sre"
)
BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
CSP = {"DIRECTIVES": {"form-action": ["'self'"], "script-src": ["'self'"]}}
GOOD = {
    "OPSPORTAL_OIDC_ISSUER": "https://login.example.com/realms/ops/",
    "OPSPORTAL_OIDC_CLIENT_ID": "ops-portal",
    "OPSPORTAL_OIDC_CLIENT_SECRET": "s3cret",
    "OPSPORTAL_OIDC_ROLE_GROUPS": "Viewer=ml-viewers,Operator=ml-ops",
}


def configured(env: dict[str, str], *, secure: bool = True, local_login: bool = True) -> dict:
    return sso_settings(env, secure=secure, local_login=local_login, backends=BACKENDS, csp=CSP)


# --- The mapping ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        (["ml-viewers"], Role.VIEWER),
        (["ml-viewers", "ml-ops"], Role.OPERATOR),
        (["ml-ops", "ml-leads", "ml-viewers"], Role.APPROVER),
        (["platform-admins", "ml-viewers"], Role.ADMIN),
        (["sre"], Role.OPERATOR),
        (["marketing", "ml-viewers", "everyone"], Role.VIEWER),
        (["marketing"], Role.NONE),
        ([], Role.NONE),
    ],
)
def test_the_highest_mapped_group_wins_and_unknown_groups_are_ignored(groups, role):
    assert role_for_groups(groups, MAPPING) is role


@pytest.mark.parametrize(
    "claim",
    [
        "ml-ops",  # a string, not a list
        "ml-ops,platform-admins",
        None,
        42,
        {"ml-ops": True},
        [["ml-ops"]],
        [{"name": "platform-admins"}],
        ["ML-OPS", "ml-ops ", " platform-admins", "ml‐ops", "ml-ops\x00"],  # near misses
        ["platform-admins"] * (MAX_GROUPS + 1),  # huge
        [f"g{i}" for i in range(MAX_GROUPS)] + ["platform-admins"],
    ],
)
def test_a_malformed_groups_claim_gives_no_role(claim):
    assert role_for_groups(claim, MAPPING) is Role.NONE


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.lists(st.one_of(st.text(), st.integers(), st.none()), max_size=50),
        st.text(),
        st.dictionaries(st.text(), st.text()),
        st.integers(),
    )
)
def test_any_claim_gives_at_most_the_role_of_its_mapped_groups(claim):
    role = role_for_groups(claim, MAPPING)
    mapped = (
        [MAPPING[g] for g in claim if isinstance(g, str) and g in MAPPING]
        if isinstance(claim, list)
        else []
    )
    assert role == max((ROLE_GROUPS[r] for r in mapped), default=Role.NONE)


def test_the_settings_know_the_same_roles_as_core():
    assert set(ROLE_NAMES) == set(ROLE_GROUPS)


@pytest.mark.parametrize(
    ("claims", "username"),
    [
        ({"preferred_username": "alice", "email": "a@example.com", "sub": "1"}, "alice"),
        ({"preferred_username": "al ice", "email": "a@example.com", "sub": "1"}, "a@example.com"),
        ({"preferred_username": "x" * 151, "sub": "abc-123"}, "abc-123"),
        ({"preferred_username": ["alice"], "sub": "<script>"}, ""),
    ],
)
def test_the_username_is_the_first_claim_django_accepts(claims, username):
    assert username_from_claims(claims) == username


# --- Start-up checks ---------------------------------------------------------------------


def test_a_complete_configuration_adds_the_backend_and_the_providers_origin():
    values = configured(GOOD, local_login=False)
    assert values["OPSPORTAL_OIDC_ISSUER"] == "https://login.example.com/realms/ops"
    assert values["OPSPORTAL_OIDC_GROUPS_CLAIM"] == "groups"
    assert values["OPSPORTAL_OIDC_ROLE_GROUPS"] == {"ml-viewers": "Viewer", "ml-ops": "Operator"}
    assert values["AUTHENTICATION_BACKENDS"] == [
        "axes.backends.AxesStandaloneBackend",
        "opsportal.sso.PortalOidcBackend",
    ]
    directives = values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert directives["form-action"] == ["'self'", "https://login.example.com"]
    assert CSP["DIRECTIVES"]["form-action"] == ["'self'"]  # the original is left alone


def test_without_an_issuer_nothing_changes():
    values = configured({})
    assert values["OPSPORTAL_OIDC_ISSUER"] == ""
    assert values["AUTHENTICATION_BACKENDS"] == BACKENDS
    assert values["CONTENT_SECURITY_POLICY"] is CSP


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"OPSPORTAL_OIDC_CLIENT_ID": ""}, "OPSPORTAL_OIDC_CLIENT_ID is required"),
        ({"OPSPORTAL_OIDC_CLIENT_SECRET": " "}, "OPSPORTAL_OIDC_CLIENT_SECRET is required"),
        ({"OPSPORTAL_OIDC_ROLE_GROUPS": ""}, "OPSPORTAL_OIDC_ROLE_GROUPS is required"),
        ({"OPSPORTAL_OIDC_ROLE_GROUPS": "Operator"}, "is not Role=group"),
        ({"OPSPORTAL_OIDC_ROLE_GROUPS": "Operator="}, "is not Role=group"),
        ({"OPSPORTAL_OIDC_ROLE_GROUPS": "Root=ml-ops"}, "'Root' is not a role"),
        ({"OPSPORTAL_OIDC_ROLE_GROUPS": "Viewer=ml,Admin=ml"}, "is given two roles"),
        ({"OPSPORTAL_OIDC_ISSUER": "login.example.com"}, "is not an issuer URL"),
        ({"OPSPORTAL_OIDC_ISSUER": "ftp://login.example.com"}, "is not an issuer URL"),
        ({"OPSPORTAL_OIDC_ISSUER": "http://login.example.com"}, "must be https://"),
        ({"OPSPORTAL_OIDC_GROUPS_CLAIM": "groups claim"}, "is not a claim name"),
        ({"OPSPORTAL_OIDC_SCOPES": "email profile"}, "must include openid"),
    ],
)
def test_a_bad_configuration_stops_start_up_naming_the_variable(change, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        configured({**GOOD, **change})


def test_a_client_without_an_issuer_or_no_way_to_sign_in_stops_start_up():
    with pytest.raises(ImproperlyConfigured, match="OPSPORTAL_OIDC_ISSUER is not"):
        configured({"OPSPORTAL_OIDC_CLIENT_ID": "ops-portal"})
    with pytest.raises(ImproperlyConfigured, match="nobody could sign in"):
        configured({}, local_login=False)


def test_start_up_fails_with_the_message_and_production_passes_check_deploy(tmp_path):
    bad = production_env(OPSPORTAL_OIDC_ISSUER="https://idp.example.com/oauth2/default")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=bad, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "OPSPORTAL_OIDC_CLIENT_ID is required when OPSPORTAL_OIDC_ISSUER is set" in (
        result.stderr
    )

    signing_key = tmp_path / "audit.pem"
    signing_key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    good = production_env(
        OPSPORTAL_OIDC_ISSUER="https://idp.example.com/oauth2/default",
        OPSPORTAL_OIDC_CLIENT_ID="ops-portal",
        OPSPORTAL_OIDC_CLIENT_SECRET="s3cret",
        OPSPORTAL_OIDC_ROLE_GROUPS="Viewer=ml-viewers,Admin=platform-admins",
        OPSPORTAL_LOCAL_LOGIN="false",
        OPSPORTAL_AUDIT_HMAC_KEY="k" * 48,
        OPSPORTAL_AUDIT_SIGNING_KEY_FILE=str(signing_key),
        OPSPORTAL_AUDIT_DIGESTS="s3://opsportal-audit/digests/",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=good,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- The routes -------------------------------------------------------------------------


@pytest.fixture
def sso(settings):
    """Single sign-on configured for a provider that is not running (a closed port)."""
    values = sso_settings(
        {**GOOD, "OPSPORTAL_OIDC_ISSUER": "http://127.0.0.1:9/idp"},
        secure=False,
        local_login=True,
        backends=BACKENDS,
        csp=settings.CONTENT_SECURITY_POLICY,
    )
    for name, value in values.items():
        setattr(settings, name, value)
    return settings


@pytest.mark.django_db
def test_sso_routes_are_not_found_when_sso_is_off(client):
    assert client.get(reverse("sso_login")).status_code == 404
    assert client.get(reverse("sso_callback"), {"code": "x", "state": "y"}).status_code == 404
    body = client.get(reverse("login")).content.decode()
    assert "Sign in with" not in body and 'name="password"' in body


@pytest.mark.django_db
def test_an_unreachable_provider_is_a_clear_503_not_a_500(client, sso):
    response = client.get(reverse("sso_login"))
    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"code": "abc", "state": "unknown"},
        {"error": "access_denied", "state": "x"},
        {"error": "é" * 5000},
        {"code": "\x00", "state": "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")},
    ],
)
def test_odd_callbacks_leave_nobody_signed_in_and_never_fail(client, sso, query):
    response = client.get(reverse("sso_callback"), query)
    assert response.status_code == 302
    assert response["Location"] == reverse("sso_no_access")
    page = client.get(response["Location"])
    assert page.status_code == 403
    assert "did not succeed" in page.content.decode()
    assert client.get(reverse("overview")).status_code == 302


@pytest.mark.django_db
def test_a_forged_state_is_a_bad_request(client, sso):
    session = client.session
    session["oidc_states"] = {"real": {"nonce": "n", "code_verifier": "v", "added_on": 0}}
    session.save()
    response = client.get(reverse("sso_callback"), {"code": "abc", "state": "forged"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_the_login_page_offers_the_provider_and_local_login_can_be_switched_off(
    client, sso, user_factory
):
    body = client.get(reverse("login")).content.decode()
    assert "Sign in with single sign-on" in body and 'name="password"' in body

    sso.OPSPORTAL_LOCAL_LOGIN = False
    body = client.get(reverse("login")).content.decode()
    assert "Sign in with single sign-on" in body and 'name="password"' not in body
    user_factory("local", "Admin")
    response = client.post(reverse("login"), {"username": "local", "password": "pw-local"})
    assert response.status_code == 403
    assert client.get(reverse("overview")).status_code == 302
    refusal = AuditEntry.objects.filter(action="access.denied").get()
    assert refusal.target == reverse("login") and "switched off" in refusal.error


def _backend(sso) -> PortalOidcBackend:
    request = RequestFactory().get(reverse("sso_callback"))
    request.session = SessionStore()
    backend = PortalOidcBackend()
    backend.request = request
    backend.OIDC_OP_USER_ENDPOINT = ""  # the ID token's claims alone
    return backend


@pytest.mark.django_db
@pytest.mark.parametrize(
    "groups",
    ["ml-ops", ["ml-ops"] * (MAX_GROUPS + 1), {"ml-ops": 1}, ["ML-OPS", "ml‐ops"], None],
)
def test_a_malformed_claim_at_sign_in_refuses_and_takes_the_role_away(sso, user_factory, groups):
    user = user_factory("erin", None)
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get_or_create(name="Operator")[0])
    claims = {"sub": "erin-1", "preferred_username": "erin", "groups": groups}
    assert _backend(sso).get_or_create_user("access", "id", claims) is None
    user.refresh_from_db()
    assert role_of(user) is Role.NONE
    refusal = AuditEntry.objects.get(action="sso.refused")
    assert (refusal.error, refusal.outcome) == ("no_role", "denied")
    change = AuditEntry.objects.get(action="sso.role_change")
    assert (change.before, change.after) == ({"role": "Operator"}, {"role": "None"})


@pytest.mark.django_db
def test_sso_never_takes_over_a_local_account_with_a_password(sso, user_factory):
    user_factory("frank", "Viewer")
    claims = {"sub": "frank-1", "preferred_username": "frank", "groups": ["ml-ops"]}
    assert _backend(sso).get_or_create_user("access", "id", claims) is None
    assert AuditEntry.objects.get(action="sso.refused").error == "local_account"
