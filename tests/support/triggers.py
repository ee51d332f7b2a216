"""Lifting the audit table's append-only triggers, for emptying the test database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

from audit.triggers import append_only_triggers_install, append_only_triggers_remove


@contextmanager
def append_only_suspended(*, connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Lift the triggers for the block and put them back afterwards, even on error."""
    append_only_triggers_remove(connection=connection)
    try:
        yield
    finally:
        append_only_triggers_install(connection=connection)
