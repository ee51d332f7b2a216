"""Django's `flush`, able to empty the audit table on SQLite too.

`flush` wipes the whole database: an operator with database-owner rights asking for
every table to be emptied. PostgreSQL does it with TRUNCATE, which the append-only row
triggers do not see; SQLite does it with DELETE, which they refuse. Lifting the triggers
for the duration makes both backends behave the same (the test runner flushes after
every transactional test).
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from audit.triggers import TABLE, append_only_suspended


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "sqlite" or TABLE not in connection.introspection.table_names():
            return super().handle(**options)
        with append_only_suspended(connection=connection):
            return super().handle(**options)
