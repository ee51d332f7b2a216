"""`manage.py sync_model_monitor`: sync Model Monitor schedules, executions and their
violations of every target-region now (beat does it every few minutes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from monitoring.services.model_monitor import monitor_sync_configured


class Command(BaseCommand):
    help = "Sync Model Monitor schedules, executions and violations of every target-region."

    def handle(self, *args: Any, **options: Any) -> None:
        reports = monitor_sync_configured()
        for report in reports:
            self.stdout.write(report.summary())
        failed = [r for r in reports if r.error]
        if failed:
            raise CommandError(f"{len(failed)} of {len(reports)} target-regions failed to sync.")
