"""`manage.py sync_alarms`: sync CloudWatch alarms of every target-region now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from monitoring.services import alarm_sync_configured


class Command(BaseCommand):
    help = "Sync CloudWatch metric alarms of every configured target and region."

    def handle(self, *args: Any, **options: Any) -> None:
        reports = alarm_sync_configured()
        for report in reports:
            self.stdout.write(report.summary())
        failed = [r for r in reports if r.error]
        if failed:
            raise CommandError(f"{len(failed)} of {len(reports)} target-regions failed to sync.")
