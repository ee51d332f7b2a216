"""`manage.py verify_audit`: prove the audit log has not been edited since it was written."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Walk the audit hash chain in id order; exit non-zero at the first broken entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        report = audit_chain_verify(batch_size=batch_size)
        if report.first_break is not None:
            raise CommandError(
                f"{report.first_break.message}. The chain is broken from this entry on."
            )
        self.stdout.write(f"Audit chain intact: {report.checked} entries")
