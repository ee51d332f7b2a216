"""The test suite's `flush`, able to empty the audit table on SQLite too.

The test runner flushes the database after every transactional test. PostgreSQL does it
with TRUNCATE, which the audit table's append-only row triggers do not see; SQLite does it
with DELETE, which they refuse. Lifting the triggers for the duration makes both backends
behave the same. Only the test settings install this command (the `tests.support` app):
in production the audit log cannot be emptied by `flush`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from audit.triggers import TABLE
from tests.support.triggers import append_only_suspended


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "sqlite" or TABLE not in connection.introspection.table_names():
            return super().handle(**options)
        with append_only_suspended(connection=connection):
            return super().handle(**options)
