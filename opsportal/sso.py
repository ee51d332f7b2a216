"""Single sign-on with OpenID Connect, beside (or instead of) local accounts.

mozilla-django-oidc does the protocol: state, nonce and PKCE in the session, the code
exchange, the RS256 signature against the provider's keys. This module adds what the
portal needs around it: the provider's endpoints from its discovery document, a role
from the groups claim at every sign-in (the provider is the source of truth: a user
removed from a group loses the role at the next sign-in), a refusal page for people no
group admits, sign-out at the provider, and an audit entry for each of these.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from audit.services import Outcome, audit_record
from core.roles import ROLE_GROUPS, Role, role_of

log = logging.getLogger(__name__)

# More groups than this in one claim is not a person's membership list but a fault (or an
# attack on the mapping): no role, rather than a guess from part of it.
MAX_GROUPS = 1000
# Longest group name compared with the mapping; longer ones are ignored.
MAX_GROUP_LENGTH = 256
DISCOVERY_SECONDS = 3600
USERNAME_CLAIMS = ("preferred_username", "email", "sub")


def _conf(name: str) -> Any:
    """A setting sso_config added (settings.py takes them as one dict, so the type checker
    does not see their names)."""
    return getattr(settings, name)


def sso_enabled() -> bool:
    return bool(getattr(settings, "OPSPORTAL_OIDC_ISSUER", ""))


def local_login_enabled() -> bool:
    return bool(getattr(settings, "OPSPORTAL_LOCAL_LOGIN", True))


# --- The role mapping ---------------------------------------------------------------------


def role_for_groups(claim: object, role_groups: Mapping[str, str]) -> Role:
    """The highest role any of the user's groups gives; Role.NONE when none does.

    Only a list of strings is a groups claim: a string (one group, or a comma-joined
    list some providers send when misconfigured), a number, an object or an over-long
    list gives no role, so a malformed token never grants more than a well-formed one."""
    if not isinstance(claim, list) or len(claim) > MAX_GROUPS:
        return Role.NONE
    return max(
        (
            ROLE_GROUPS[role_groups[group]]
            for group in claim
            if isinstance(group, str) and len(group) <= MAX_GROUP_LENGTH and group in role_groups
        ),
        default=Role.NONE,
    )


def _matched_groups(claim: object, role_groups: Mapping[str, str]) -> list[str]:
    """The claim's groups that the mapping knows (for the audit entry: never the whole,
    possibly huge, list)."""
    if not isinstance(claim, list) or len(claim) > MAX_GROUPS:
        return []
    return sorted({g for g in claim if isinstance(g, str) and g in role_groups})


# --- The provider ----------------------------------------------------------------------


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read or is not usable."""


@dataclass(frozen=True)
class Provider:
    """The endpoints the portal uses, from `<issuer>/.well-known/openid-configuration`."""

    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str
    end_session_endpoint: str


_discovered: dict[str, tuple[float, Provider]] = {}
_discovery_lock = threading.Lock()


def provider() -> Provider:
    """The provider's endpoints, read on first use and kept for an hour (a failure is not
    kept: the next sign-in tries again)."""
    issuer = _conf("OPSPORTAL_OIDC_ISSUER")
    with _discovery_lock:
        cached = _discovered.get(issuer)
        if cached and time.monotonic() - cached[0] < DISCOVERY_SECONDS:
            return cached[1]
    found = _discover(issuer)
    with _discovery_lock:
        _discovered[issuer] = (time.monotonic(), found)
    return found


def _discover(issuer: str) -> Provider:
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=_conf("OIDC_TIMEOUT"))
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"{url} could not be read ({exc.__class__.__name__}).") from exc
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url} is not a discovery document.")
    # The document must be the issuer's own (OpenID Connect Discovery 1.0, section 4.3).
    if str(document.get("issuer", "")).rstrip("/") != issuer:
        raise ProviderUnavailable(
            f"{url} names the issuer {document.get('issuer')!r}, not {issuer!r}."
        )

    def endpoint(key: str, *, required: bool) -> str:
        value = document.get(key)
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            return value
        if required:
            raise ProviderUnavailable(f"{url} has no {key}.")
        return ""

    return Provider(
        authorization_endpoint=endpoint("authorization_endpoint", required=True),
        token_endpoint=endpoint("token_endpoint", required=True),
        jwks_uri=endpoint("jwks_uri", required=True),
        userinfo_endpoint=endpoint("userinfo_endpoint", required=False),
        end_session_endpoint=endpoint("end_session_endpoint", required=False),
    )


def _unavailable(request: HttpRequest, exc: ProviderUnavailable) -> HttpResponse:
    log.warning("single sign-on provider unavailable: %s", exc)
    context = {"provider_name": _conf("OPSPORTAL_OIDC_PROVIDER_NAME")}
    return render(request, "registration/sso_unavailable.html", context, status=503)


# --- Signing in ------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in through the provider was refused, for the page the person sees."""

    reason: str
    username: str


class PortalOidcBackend(OIDCAuthenticationBackend):
    """Authenticates the callback of the code flow and gives the user the role their
    groups map to. Listed in AUTHENTICATION_BACKENDS only when single sign-on is on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parent reads the provider's endpoints here; Django makes a backend for every
        # authenticate() call, local sign-ins included, which must not wait on discovery.
        self.UserModel = get_user_model()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        # Only the callback view passes a nonce: a local sign-in is none of this backend's.
        if request is None or "nonce" not in kwargs or not sso_enabled():
            return None
        endpoints = provider()
        self.OIDC_OP_TOKEN_ENDPOINT = endpoints.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = endpoints.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = endpoints.jwks_uri
        self.OIDC_RP_CLIENT_ID = _conf("OIDC_RP_CLIENT_ID")
        self.OIDC_RP_CLIENT_SECRET = _conf("OIDC_RP_CLIENT_SECRET")
        self.OIDC_RP_SIGN_ALGO = _conf("OIDC_RP_SIGN_ALGO")
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, **kwargs)

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        """The ID token's verified claims, completed by the userinfo endpoint when the
        provider has one (Entra puts groups in the ID token only, Okta may put them in
        userinfo only). Userinfo about another subject is refused (OIDC Core 5.3.2)."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = super().get_userinfo(access_token, id_token, payload)
            if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
                return {}
            claims = {**userinfo, **claims}
        return claims

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return isinstance(claims.get("sub"), str) and bool(claims["sub"])

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(claims):
            return self._refuse(reason="claims", username="", user=None)
        username = username_from_claims(claims)
        if not username:
            return self._refuse(reason="claims", username="", user=None)
        claim = claims.get(_conf("OPSPORTAL_OIDC_GROUPS_CLAIM"))
        role = role_for_groups(claim, _conf("OPSPORTAL_OIDC_ROLE_GROUPS"))
        with transaction.atomic():
            user = self.UserModel.objects.select_for_update().filter(username=username).first()
            if user is not None and user.has_usable_password():
                # A local account of that name is someone's with a password: signing in
                # through the provider must not take it over.
                return self._refuse(reason="local_account", username=username, user=None)
            if user is not None and not user.is_active:
                return self._refuse(reason="inactive", username=username, user=user)
            before = role_of(user) if user is not None else Role.NONE
            if user is None and role is Role.NONE:
                return self._refuse(reason="no_role", username=username, user=None)
            if user is None:
                user = self.UserModel(username=username)
                user.set_unusable_password()
            self._update_profile(user, claims)
            user.save()
            _set_role(user, role)
            if before != role:
                audit_record(
                    actor=user,
                    action="sso.role_change",
                    target=f"user:{username}",
                    before={"role": before.label},
                    after={"role": role.label},
                    request=self.request,
                )
            if role is Role.NONE:
                return self._refuse(reason="no_role", username=username, user=user)
            audit_record(
                actor=user,
                action="sso.login",
                target=f"user:{username}",
                after={
                    "role": role.label,
                    "groups": _matched_groups(claim, _conf("OPSPORTAL_OIDC_ROLE_GROUPS")),
                },
                request=self.request,
            )
        return user

    def _update_profile(self, user: Any, claims: Mapping[str, Any]) -> None:
        for field, claim, limit in (
            ("email", "email", 254),
            ("first_name", "given_name", 150),
            ("last_name", "family_name", 150),
        ):
            value = claims.get(claim)
            if isinstance(value, str):
                setattr(user, field, value[:limit])
        # The provider's groups are the only source of the role: no local flag outranks them.
        user.is_superuser = False
        user.is_staff = False

    def _refuse(self, *, reason: str, username: str, user: Any) -> None:
        audit_record(
            actor=user,
            action="sso.refused",
            target=f"user:{username}" if username else "sso",
            outcome=Outcome.DENIED,
            error=reason,
            request=self.request,
        )
        self.request.sso_refusal = Refusal(reason=reason, username=username)
        return None


def username_from_claims(claims: Mapping[str, Any]) -> str:
    """The first of preferred_username, email and sub that Django accepts as a username."""
    validator = get_user_model().username_validator
    for name in USERNAME_CLAIMS:
        value = claims.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= 150:
            continue
        try:
            validator(value)
        except ValidationError:
            continue
        return value
    return ""


def _set_role(user: Any, role: Role) -> None:
    """Exactly one role group (the mapped role's), or none."""
    role_group_names = list(ROLE_GROUPS)
    user.groups.remove(*Group.objects.filter(name__in=role_group_names))
    if role is not Role.NONE:
        group, _ = Group.objects.get_or_create(name=role.label)
        user.groups.add(group)
    if hasattr(user, "_opsportal_role"):
        del user._opsportal_role


class SsoLoginView(OIDCAuthenticationRequestView):
    """Starts the code flow: state, nonce and PKCE verifier into the session, then off to
    the provider's authorization endpoint."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponseBase:
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider().authorization_endpoint
        except ProviderUnavailable as exc:
            return _unavailable(request, exc)
        self.OIDC_RP_CLIENT_ID = _conf("OIDC_RP_CLIENT_ID")
        return super().get(request)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """The provider sends the browser back here. A refused sign-in leaves nobody signed
    in and shows why."""

    def get(self, request: HttpRequest) -> HttpResponseBase:
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            return super().get(request)
        except ProviderUnavailable as exc:
            return _unavailable(request, exc)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 500
            if status < 500:
                # The provider refused the code (used twice, expired): a failed sign-in.
                return self.login_failure()
            return _unavailable(request, ProviderUnavailable(f"HTTP {status}"))
        except requests.RequestException as exc:
            return _unavailable(request, ProviderUnavailable(exc.__class__.__name__))

    def login_failure(self) -> HttpResponse:
        refusal = getattr(self.request, "sso_refusal", None)
        if self.request.user.is_authenticated:
            auth.logout(self.request)
        if refusal is None:
            audit_record(
                actor=None,
                action="sso.refused",
                target="sso",
                outcome=Outcome.DENIED,
                error=str(self.request.GET.get("error", "failed"))[:200],
                request=self.request,
            )
        self.request.session["sso_refusal"] = {
            "reason": refusal.reason if refusal else "failed",
            "username": refusal.username if refusal else "",
        }
        return HttpResponseRedirect(reverse("sso_no_access"))


@require_GET
@never_cache
def no_access(request: HttpRequest) -> HttpResponse:
    """Where a refused sign-in lands: what happened and who can grant access."""
    refusal = request.session.get("sso_refusal") or {"reason": "failed", "username": ""}
    role_groups: Mapping[str, str] = getattr(settings, "OPSPORTAL_OIDC_ROLE_GROUPS", {})
    context = {
        "reason": refusal.get("reason", "failed"),
        "username": refusal.get("username", ""),
        "provider_name": getattr(settings, "OPSPORTAL_OIDC_PROVIDER_NAME", ""),
        "contact": getattr(settings, "OPSPORTAL_OIDC_ACCESS_CONTACT", ""),
        "groups": sorted(role_groups.items(), key=lambda item: (ROLE_GROUPS[item[1]], item[0])),
    }
    return render(request, "registration/sso_no_access.html", context, status=403)


class PortalLoginView(auth_views.LoginView):
    """The sign-in page: the provider's button when single sign-on is on, the username and
    password form unless local accounts are switched off (then a POST is refused too)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not local_login_enabled():
            # The 403 handler writes the refusal to the audit log.
            raise PermissionDenied("Sign-in with a username and password is switched off.")
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["local_login"] = local_login_enabled()
        context["sso_provider_name"] = (
            _conf("OPSPORTAL_OIDC_PROVIDER_NAME") if sso_enabled() else ""
        )
        return context


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Signs out of the portal and, for someone who signed in through the provider, of the
    provider too (RP-initiated logout with id_token_hint), so the next person at this
    browser is asked for credentials again."""
    id_token = request.session.get("oidc_id_token")
    target = reverse("login")
    if sso_enabled() and id_token and request.user.is_authenticated:
        try:
            end_session = provider().end_session_endpoint
        except ProviderUnavailable as exc:
            log.warning("signing out without the provider: %s", exc)
            end_session = ""
        if end_session:
            query = urlencode(
                {
                    "id_token_hint": id_token,
                    "client_id": _conf("OIDC_RP_CLIENT_ID"),
                    "post_logout_redirect_uri": request.build_absolute_uri(target),
                }
            )
            separator = "&" if "?" in end_session else "?"
            target = f"{end_session}{separator}{query}"
    auth.logout(request)
    return HttpResponseRedirect(target)
