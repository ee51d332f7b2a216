"""`manage.py create_api_token USERNAME [--name NAME] [--expires-days N]`: a token for a
script or a first CLI setup; the token alone is the last line printed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import PortalError
from tokens.services import token_create


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME and print it (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line")
        parser.add_argument("--expires-days", type=int, default=90)

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None or not user.is_active:
            raise CommandError(f"No active user named {options['username']!r}.")
        try:
            issued = token_create(
                actor=user, name=options["name"], expires_days=options["expires_days"]
            )
        except PortalError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Token {issued.token.name!r} for {user.get_username()}, expires "
            f"{issued.token.expires_at:%Y-%m-%d %H:%M} UTC. It is not shown again:"
        )
        self.stdout.write(issued.secret)
