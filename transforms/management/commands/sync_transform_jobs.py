"""`manage.py sync_transform_jobs`: bring in transform jobs of every configured
target-region now, in this process (the beat task's job, for first runs and debugging)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.aws.errors import AwsError
from transforms.services import transform_jobs_sync


class Command(BaseCommand):
    help = "Sync SageMaker batch transform jobs of every configured target and region."

    def handle(self, *args: Any, **options: Any) -> None:
        failures = 0
        for target in settings.OPSPORTAL_TARGETS:
            for region in target.regions:
                try:
                    report = transform_jobs_sync(target=target, region=region)
                except AwsError as exc:
                    failures += 1
                    self.stdout.write(f"{target.name}/{region}: FAILED {exc}")
                    continue
                self.stdout.write(
                    f"{target.name}/{region}: {len(report['created'])} new, "
                    f"{len(report['updated'])} changed"
                )
        if failures:
            raise CommandError(f"{failures} target-region(s) failed to sync.")
