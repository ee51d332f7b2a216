"""`manage.py sync_transform_jobs`: bring in transform jobs of every configured
target-region now, in this process (the beat task's job, for first runs and debugging)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.targets import target_regions
from transforms.services import transform_jobs_sync


class Command(BaseCommand):
    help = "Sync SageMaker batch transform jobs of every configured target and region."

    def handle(self, *args: Any, **options: Any) -> None:
        failures = 0
        for target, region in target_regions():
            report = transform_jobs_sync(target=target, region=region)
            failures += bool(report.error)
            self.stdout.write(report.summary())
        if failures:
            raise CommandError(f"{failures} target-region(s) failed to sync.")
