"""`manage.py ingest_cloudtrail`: CloudTrail's SageMaker events into the database, now.

Without options it makes the regular incremental run for every target-region; `--since 7d`
(with `--target`, `--region` to narrow it) reads the last 7 days whole; `--from-s3
s3://bucket/prefix` imports a trail's log files, for history beyond LookupEvents' 90 days.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apihistory import services
from core.targets import Target

_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: str) -> timedelta:
    """`90m`, `12h`, `7d` -> timedelta; CommandError for anything else or beyond 90 days."""
    match = _DURATION.match(value or "")
    if not match:
        raise CommandError(
            f"--since {value!r} is not a duration: use a number and m, h or d (90m, 12h, 7d)."
        )
    amount = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if amount <= timedelta(0):
        raise CommandError(f"--since {value!r} must be longer than zero.")
    if amount > services.RETENTION:
        raise CommandError(
            f"--since {value!r} reaches beyond the 90 days LookupEvents keeps; "
            "import older history from the trail's S3 bucket with --from-s3."
        )
    return amount


class Command(BaseCommand):
    help = (
        "Ingest SageMaker events from CloudTrail: the regular incremental run, a backfill "
        "(--since 7d) or an import of trail log files (--from-s3 s3://bucket/prefix)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--since", help="read this far back: 90m, 12h, 7d (at most 90d)")
        source.add_argument("--from-s3", dest="from_s3", help="s3://bucket/prefix of trail files")
        parser.add_argument("--target", help="OPSPORTAL_TARGETS name (default: all)")
        parser.add_argument("--region", help="one region of the target (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        targets = self._targets(options["target"])
        if options["from_s3"]:
            self._import(targets, options["from_s3"], options["region"])
            return
        regions = [(t, r) for t in targets for r in self._regions(t, options["region"])]
        if options["since"]:
            since = timezone.now() - parse_duration(options["since"])
            results = [services.trail_backfill(target=t, region=r, since=since) for t, r in regions]
        else:
            results = [services.trail_ingest(target=t, region=r) for t, r in regions]
        for result in results:
            self.stdout.write(result.summary())
        failed = [r for r in results if not r.ok]
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} target-regions failed.")

    def _targets(self, name: str | None) -> list[Target]:
        targets = list(settings.OPSPORTAL_TARGETS)
        if name is None:
            return targets
        chosen = [t for t in targets if t.name == name]
        if not chosen:
            known = ", ".join(t.name for t in targets)
            raise CommandError(f"No target named {name!r} in OPSPORTAL_TARGETS (have: {known}).")
        return chosen

    def _regions(self, target: Target, region: str | None) -> list[str]:
        if region is None:
            return list(target.regions)
        if region not in target.regions:
            raise CommandError(
                f"Region {region!r} is not one of target {target.name}'s regions "
                f"({', '.join(target.regions)})."
            )
        return [region]

    def _import(self, targets: list[Target], uri: str, region: str | None) -> None:
        if region is not None:
            raise CommandError("--region does not apply to --from-s3: records carry their region.")
        if len(targets) != 1:
            raise CommandError("--from-s3 needs --target when several targets are configured.")
        try:
            result = services.trail_import_s3(target=targets[0], uri=uri)
        except services.TrailImportError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(result.summary())
        for error in result.errors:
            self.stderr.write(f"  unreadable: {error}")
        if result.errors:
            raise CommandError(f"{len(result.errors)} log files could not be read.")
