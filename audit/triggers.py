"""Database triggers that make the audit table append-only.

They stop the application (ORM `save()` on an existing row, `update()`, `delete()`) from
rewriting history; someone with table-owner rights can still drop them, which is what
the hash chain and `verify_audit` are for. TRUNCATE is left alone on PostgreSQL because
row triggers do not fire on it and the test runner's flush relies on it.

The migration installs them (and removes them when it is reversed).
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditentry"
MESSAGE = "audit entries are append-only"

_SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
]
_POSTGRES_INSTALL = [
    # integrity_constraint_violation so both backends raise django.db.IntegrityError.
    "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP "
    "USING ERRCODE = 'integrity_constraint_violation'; "
    "END $$",
    f"DROP TRIGGER IF EXISTS audit_entry_no_update ON {TABLE}",
    f"CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
    f"DROP TRIGGER IF EXISTS audit_entry_no_delete ON {TABLE}",
    f"CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
]
_POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS audit_entry_no_update ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_entry_no_delete ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_entry_append_only()",
]


class UnsupportedDatabase(RuntimeError):
    pass


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_REMOVE
    if vendor == "postgresql":
        return _POSTGRES_INSTALL if install else _POSTGRES_REMOVE
    raise UnsupportedDatabase(f"no append-only triggers for the {vendor} backend")


def append_only_triggers_install(*, connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=True):
            cursor.execute(sql)


def append_only_triggers_remove(*, connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=False):
            cursor.execute(sql)
