"""Reading the single sign-on variables (README "Single sign-on") at start-up.

settings.py calls `sso_settings` before any app is loaded, so this module imports nothing
of Django but its exception: a missing or malformed value stops start-up with a message
naming the variable, instead of a sign-in that fails later for every user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# The portal's role groups (core.roles.ROLE_GROUPS, which cannot be imported this early).
ROLE_NAMES = ("Viewer", "Operator", "Approver", "Admin")
# A claim name as providers spell them: `groups`, `roles`, `cognito:groups`, a URL claim.
_CLAIM_NAME = re.compile(r"[A-Za-z0-9_.:/-]{1,200}")


def parse_role_groups(raw: str) -> dict[str, str]:
    """`Viewer=ml-viewers,Operator=ml-ops` → {"ml-viewers": "Viewer", "ml-ops": "Operator"}.

    A role may be named more than once (several groups give it); one group may not give
    two roles, since which one it meant would be a guess."""
    mapping: dict[str, str] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        role, sep, group = (s.strip() for s in item.partition("="))
        if not sep or not group:
            raise ImproperlyConfigured(
                f"OPSPORTAL_OIDC_ROLE_GROUPS: {item!r} is not Role=group "
                "(e.g. Viewer=ml-viewers,Operator=ml-ops,Approver=ml-leads,Admin=platform-admins)."
            )
        if role not in ROLE_NAMES:
            raise ImproperlyConfigured(
                f"OPSPORTAL_OIDC_ROLE_GROUPS: {role!r} is not a role (use {', '.join(ROLE_NAMES)})."
            )
        if mapping.get(group, role) != role:
            raise ImproperlyConfigured(
                f"OPSPORTAL_OIDC_ROLE_GROUPS: the group {group!r} is given two roles "
                f"({mapping[group]} and {role})."
            )
        mapping[group] = role
    return mapping


def _issuer(raw: str, *, secure: bool) -> str:
    issuer = raw.strip().rstrip("/")
    parts = urlsplit(issuer)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query:
        raise ImproperlyConfigured(
            f"OPSPORTAL_OIDC_ISSUER={raw!r} is not an issuer URL "
            "(e.g. https://login.example.com/realms/ops or https://example.okta.com)."
        )
    if parts.scheme == "http" and secure and not local:
        raise ImproperlyConfigured(
            f"OPSPORTAL_OIDC_ISSUER={raw!r} must be https:// when OPSPORTAL_SECURE is on."
        )
    return issuer


def sso_settings(
    env: Mapping[str, str],
    *,
    secure: bool,
    local_login: bool,
    backends: list[str],
    csp: dict[str, Any],
) -> dict[str, Any]:
    """The SSO settings from the environment, every one checked, with the authentication
    backends and the Content Security Policy that go with them. `env` holds the raw
    strings (os.environ, which django-environ fills from .env)."""

    def get(name: str) -> str:
        return env.get(name, "").strip()

    issuer_raw = get("OPSPORTAL_OIDC_ISSUER")
    if not issuer_raw:
        stray = [n for n in ("OPSPORTAL_OIDC_CLIENT_ID", "OPSPORTAL_OIDC_CLIENT_SECRET") if get(n)]
        if stray:
            raise ImproperlyConfigured(
                f"{stray[0]} is set but OPSPORTAL_OIDC_ISSUER is not: set the issuer to turn "
                "single sign-on on, or unset the others."
            )
        if not local_login:
            raise ImproperlyConfigured(
                "OPSPORTAL_LOCAL_LOGIN=false needs single sign-on (OPSPORTAL_OIDC_ISSUER), "
                "or nobody could sign in."
            )
        return {
            "OPSPORTAL_LOCAL_LOGIN": True,
            "OPSPORTAL_OIDC_ISSUER": "",
            "OPSPORTAL_OIDC_ROLE_GROUPS": {},
            "AUTHENTICATION_BACKENDS": list(backends),
            "CONTENT_SECURITY_POLICY": csp,
        }
    issuer = _issuer(issuer_raw, secure=secure)
    for name in ("OPSPORTAL_OIDC_CLIENT_ID", "OPSPORTAL_OIDC_CLIENT_SECRET"):
        if not get(name):
            raise ImproperlyConfigured(f"{name} is required when OPSPORTAL_OIDC_ISSUER is set.")
    role_groups = parse_role_groups(get("OPSPORTAL_OIDC_ROLE_GROUPS"))
    if not role_groups:
        raise ImproperlyConfigured(
            "OPSPORTAL_OIDC_ROLE_GROUPS is required when OPSPORTAL_OIDC_ISSUER is set: without "
            "it no one signing in would have a role (e.g. Viewer=ml-viewers,Operator=ml-ops)."
        )
    claim = get("OPSPORTAL_OIDC_GROUPS_CLAIM") or "groups"
    if not _CLAIM_NAME.fullmatch(claim):
        raise ImproperlyConfigured(
            f"OPSPORTAL_OIDC_GROUPS_CLAIM={claim!r} is not a claim name (e.g. groups)."
        )
    scopes = (get("OPSPORTAL_OIDC_SCOPES") or "openid email profile").split()
    if "openid" not in scopes:
        raise ImproperlyConfigured("OPSPORTAL_OIDC_SCOPES must include openid.")
    local = "django.contrib.auth.backends.ModelBackend"
    backends = [b for b in backends if local_login or b != local]
    # Signing out posts a form whose answer redirects to the provider's end-session
    # endpoint; browsers hold that redirect to form-action.
    parts = urlsplit(issuer)
    directives = dict(csp["DIRECTIVES"])
    directives["form-action"] = [*directives["form-action"], f"{parts.scheme}://{parts.netloc}"]
    return {
        "OPSPORTAL_LOCAL_LOGIN": local_login,
        "AUTHENTICATION_BACKENDS": [*backends, "opsportal.sso.PortalOidcBackend"],
        "CONTENT_SECURITY_POLICY": {**csp, "DIRECTIVES": directives},
        "OPSPORTAL_OIDC_ISSUER": issuer,
        "OPSPORTAL_OIDC_PROVIDER_NAME": get("OPSPORTAL_OIDC_PROVIDER_NAME") or "single sign-on",
        "OPSPORTAL_OIDC_GROUPS_CLAIM": claim,
        "OPSPORTAL_OIDC_ROLE_GROUPS": role_groups,
        "OPSPORTAL_OIDC_ACCESS_CONTACT": get("OPSPORTAL_OIDC_ACCESS_CONTACT"),
        # mozilla-django-oidc's own settings; the provider's endpoints come from discovery
        # (opsportal.sso), not from here.
        "OIDC_RP_CLIENT_ID": get("OPSPORTAL_OIDC_CLIENT_ID"),
        "OIDC_RP_CLIENT_SECRET": get("OPSPORTAL_OIDC_CLIENT_SECRET"),
        "OIDC_RP_SIGN_ALGO": "RS256",
        "OIDC_RP_SCOPES": " ".join(scopes),
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_STORE_ID_TOKEN": True,
        "OIDC_TIMEOUT": 10,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "sso_callback",
    }
