"""`manage.py sync_inventory`: sync every configured target-region now, in this process."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from endpoints.services import inventory_sync_configured


class Command(BaseCommand):
    help = "Sync SageMaker endpoints of every configured target and region into the database."

    def handle(self, *args: Any, **options: Any) -> None:
        reports = inventory_sync_configured()
        for report in reports:
            self.stdout.write(report.summary())
        failed = [r for r in reports if not r.ok]
        if failed:
            raise CommandError(f"{len(failed)} of {len(reports)} target-regions failed to sync.")
