"""The chain is append-only in the database, and verify_audit finds any tampering."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections, transaction

from audit.models import GENESIS_HASH, AuditEntry
from audit.services import audit_record
from audit.signing import hmac_key, row_hash


def _entries(count: int) -> list[AuditEntry]:
    return [
        audit_record(actor=None, action="inventory.refresh", target=f"arn:endpoint/{i}")
        for i in range(count)
    ]


def _verify(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def _raw_update(sql: str, params: list) -> None:
    """What an attacker with table-owner rights does: get the trigger out of the way, then
    write SQL directly. The test's transaction puts the trigger back on rollback."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER audit_entry_no_update")
            cursor.execute("DROP TRIGGER audit_entry_no_delete")
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_orm_update_is_refused_by_the_database():
    entry = _entries(1)[0]
    entry.target = "arn:endpoint/forged"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        entry.save()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(outcome="failed")
    assert AuditEntry.objects.get(pk=entry.pk).target == "arn:endpoint/0"


@pytest.mark.django_db
def test_orm_delete_is_refused_by_the_database():
    entry = _entries(1)[0]
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        entry.delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_verify_reports_an_intact_chain():
    assert _verify().splitlines()[0] == "Audit chain intact: 0 entries"
    _entries(7)
    assert _verify().splitlines()[0] == "Audit chain intact: 7 entries"
    # Batches smaller than the chain must still link across their boundaries.
    assert _verify("--batch-size", "2").splitlines()[0] == "Audit chain intact: 7 entries"


@pytest.mark.django_db
def test_verify_names_an_edited_row():
    entries = _entries(5)
    victim = entries[2]
    _raw_update("UPDATE audit_auditentry SET target = %s WHERE id = %s", ["arn:forged", victim.pk])

    with pytest.raises(CommandError, match=rf"Audit entry #{victim.pk} .*hash mismatch"):
        _verify()


@pytest.mark.django_db
def test_verify_names_a_row_rehashed_to_hide_an_edit():
    entries = _entries(5)
    victim = entries[1]
    forged = AuditEntry.objects.get(pk=victim.pk)
    forged.target = "arn:forged"
    _raw_update(
        "UPDATE audit_auditentry SET target = %s, hash = %s WHERE id = %s",
        [forged.target, row_hash(forged.canonical_text(), key=hmac_key()), victim.pk],
    )

    with pytest.raises(
        CommandError, match=rf"Audit entry #{entries[2].pk}: prev_hash does not match #{victim.pk}"
    ):
        _verify()


@pytest.mark.django_db
def test_verify_notices_a_deleted_row():
    entries = _entries(4)
    _raw_update("DELETE FROM audit_auditentry WHERE id = %s", [entries[1].pk])

    with pytest.raises(
        CommandError,
        match=rf"Audit entry #{entries[2].pk}: prev_hash does not match #{entries[0].pk}",
    ):
        _verify()


@pytest.mark.django_db
def test_sequential_writes_form_one_line():
    entries = _entries(30)
    rows = list(AuditEntry.objects.order_by("id").values_list("prev_hash", "hash"))
    assert rows[0][0] == GENESIS_HASH
    assert all(rows[i][0] == rows[i - 1][1] for i in range(1, len(rows)))
    assert len({h for _, h in rows}) == len(entries)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_linear():
    """Writers on separate connections at once: the chain lock makes each row link to the
    one committed just before it, so there is no fork and nothing is lost."""
    threads_count, per_thread = 4, 10
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit_record(actor=None, action="test.concurrent", target=f"w{n}/{i}")
        except BaseException as exc:  # surfaced below, a thread cannot fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert AuditEntry.objects.count() == threads_count * per_thread
    assert _verify().splitlines()[0] == f"Audit chain intact: {threads_count * per_thread} entries"
