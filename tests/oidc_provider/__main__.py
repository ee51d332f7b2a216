"""`python -m tests.oidc_provider setup REDIRECT_URI LOGOUT_URI` makes the database, the
signing key, the portal's application and the users; `groups USER [GROUP...]` sets a
user's groups; `serve PORT` answers on 127.0.0.1. Every command prints nothing but
errors, except setup, which prints the client id and secret as JSON."""

import json
import os
import sys


def main(argv: list[str]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    command, *args = argv
    if command == "setup":
        _write_key()
    import django

    django.setup()
    if command == "setup":
        _setup(*args)
    elif command == "groups":
        _groups(args[0], args[1:])
    elif command == "serve":
        from django.core.servers.basehttp import run
        from django.core.wsgi import get_wsgi_application

        run("127.0.0.1", int(args[0]), get_wsgi_application(), threading=True)
    else:
        raise SystemExit(f"unknown command {command!r}")


def _write_key() -> None:
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (Path(os.environ["OIDC_PROVIDER_DIR"]) / "rsa.pem").write_bytes(pem)


# Users of the provider and their groups (the portal maps ml-viewers, ml-ops and ml-leads).
USERS = {
    "alice": ["ml-ops", "staff"],
    "bob": ["marketing"],
    "carol": ["ml-viewers"],
    "dave": ["ml-viewers"],
}


def _setup(redirect_uri: str, logout_uri: str) -> None:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for name, groups in USERS.items():
        user = User.objects.create_user(name, email=f"{name}@example.com", password=f"pw-{name}")
        user.groups.set(Group.objects.get_or_create(name=g)[0] for g in groups)
    secret = "portal-secret-0123456789"
    app = Application.objects.create(
        name="Ops Portal",
        client_id="ops-portal",
        client_secret=secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        post_logout_redirect_uris=logout_uri,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    print(json.dumps({"client_id": app.client_id, "client_secret": secret}))


def _groups(username: str, groups: list[str]) -> None:
    from django.contrib.auth.models import Group, User

    user = User.objects.get(username=username)
    user.groups.set(Group.objects.get_or_create(name=g)[0] for g in groups)


if __name__ == "__main__":
    main(sys.argv[1:])
