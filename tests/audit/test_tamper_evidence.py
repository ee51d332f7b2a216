"""Someone with full write access to the database, but not the HMAC key or the signing
key, cannot rewrite the audit log without `verify_audit` saying so: not by editing a row
and re-hashing everything after it, not by re-hashing the whole chain, and not by
removing the newest entries."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from audit import tasks
from audit.digests import audit_digest_write
from audit.models import GENESIS_HASH, AuditEntry
from audit.services import audit_record
from audit.signing import row_hash
from audit.triggers import append_only_triggers_install, append_only_triggers_remove
from sandbox.testing import keyed_client
from tests.opsportal.test_health_and_security import ROOT, production_env

pytestmark = pytest.mark.django_db


@pytest.fixture
def digests(settings, tmp_path) -> Path:
    folder = tmp_path / "digests"
    settings.OPSPORTAL_AUDIT_DIGESTS = str(folder)
    return folder


def _verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def _shift_history() -> list[AuditEntry]:
    """Alice proposes, Bob approves, the portal applies, and the log goes on."""
    alice, bob = _user("alice"), _user("bob")
    entries = [
        audit_record(actor=alice, action="shift.propose", target="shift/7"),
        audit_record(actor=bob, action="shift.approve", target="shift/7"),
    ]
    entries += [
        audit_record(actor=None, action="shift.apply", target=f"shift/{i}") for i in range(4)
    ]
    return entries


def _user(name: str) -> User:
    return User.objects.get_or_create(username=name)[0]


def _rewrite(*, start: AuditEntry, edit: dict[str, object]) -> None:
    """The attack: take the triggers away, edit one row, give it and every row after it a
    plain SHA-256 hash and the matching links, put the triggers back."""
    append_only_triggers_remove(connection=connection)
    rows = list(AuditEntry.objects.filter(id__gte=start.pk).order_by("id"))
    previous = (
        AuditEntry.objects.filter(id__lt=start.pk).order_by("-id").values_list("hash", flat=True)
    ).first() or GENESIS_HASH
    for row in rows:
        if row.pk == start.pk:
            for field, value in edit.items():
                setattr(row, field, value)
        row.prev_hash = previous
        row.hash = row_hash(row.canonical_text(), key=None)
        AuditEntry.objects.filter(pk=row.pk).update(
            prev_hash=row.prev_hash, hash=row.hash, **{f: getattr(row, f) for f in edit}
        )
        previous = row.hash
    append_only_triggers_install(connection=connection)


def _remove_newest(count: int) -> None:
    append_only_triggers_remove(connection=connection)
    newest = AuditEntry.objects.order_by("-id").values_list("id", flat=True)[:count]
    AuditEntry.objects.filter(id__in=list(newest)).delete()
    append_only_triggers_install(connection=connection)


def test_a_self_approval_re_hashed_without_the_key_is_found():
    entries = _shift_history()
    approve = entries[1]
    alice = _user("alice")
    assert approve.username == "bob"
    _rewrite(start=approve, edit={"username": "alice", "actor_id": alice.pk})
    assert AuditEntry.objects.get(pk=approve.pk).username == "alice"

    with pytest.raises(CommandError) as failure:
        _verify()
    message = str(failure.value)
    assert f"Audit entry #{approve.pk} (shift.approve shift/7)" in message
    assert "re-hashed by someone who does not have the key" in message


def test_re_hashing_the_whole_chain_does_not_match_the_signed_digest(digests):
    entries = _shift_history()
    assert audit_digest_write(now=timezone.now()) is not None
    _rewrite(start=entries[0], edit={"username": "mallory"})

    with pytest.raises(CommandError) as failure:
        _verify()
    assert f"Audit entry #{entries[-1].pk} is not the entry the digest" in str(failure.value)
    assert "the log was rewritten up to here" in str(failure.value)


def test_entries_removed_from_the_end_since_the_last_digest_are_found(digests):
    entries = _shift_history()
    assert audit_digest_write(now=timezone.now()) is not None
    audit_record(actor=None, action="shift.apply", target="shift/9")
    _remove_newest(3)

    with pytest.raises(CommandError) as failure:
        _verify()
    message = str(failure.value)
    assert f"The log ends at #{entries[-3].pk}" in message
    assert f"covers entries up to #{entries[-1].pk}: entries were removed from the end" in message


def test_entries_from_before_the_key_still_verify_and_a_later_downgrade_does_not(settings):
    key = settings.OPSPORTAL_AUDIT_HMAC_KEY
    settings.OPSPORTAL_AUDIT_HMAC_KEY = ""
    legacy = [audit_record(actor=None, action="inventory.sync", target=f"t/{i}") for i in range(3)]
    settings.OPSPORTAL_AUDIT_HMAC_KEY = key
    keyed = [audit_record(actor=None, action="inventory.sync", target=f"u/{i}") for i in range(2)]

    out = _verify()
    assert out.splitlines()[0] == "Audit chain intact: 5 entries"
    assert "3 entries from before the HMAC key was set carry plain SHA-256 hashes" in out
    assert "the 2 after them are keyed" in out

    _rewrite(start=keyed[1], edit={"target": "u/forged"})
    with pytest.raises(CommandError, match=rf"Audit entry #{keyed[1].pk} .*re-hashed"):
        _verify()
    assert legacy[0].hash == row_hash(legacy[0].canonical_text(), key=None)


def test_a_keyed_log_read_without_its_key_is_not_called_intact(settings):
    _shift_history()
    settings.OPSPORTAL_AUDIT_HMAC_KEY = "another-key-of-at-least-32-characters!!"
    with pytest.raises(CommandError, match="hash mismatch"):
        _verify()


def test_the_beat_task_signs_each_new_head_once_and_the_digests_verify(digests):
    assert tasks.audit_digest_write() is None  # an empty log has no head to sign
    first = _shift_history()
    name = tasks.audit_digest_write()
    assert name and (digests / name).exists()
    assert tasks.audit_digest_write() is None  # nothing appended since
    audit_record(actor=None, action="shift.apply", target="shift/10")
    second = tasks.audit_digest_write()
    assert second and second != name

    document = json.loads((digests / second).read_text())
    assert document["digest"]["previous"] == {
        "name": name,
        "sha256": hashlib.sha256((digests / name).read_bytes()).hexdigest(),
    }
    assert document["digest"]["entries"] == len(first) + 1
    out = _verify()
    assert f"2 signed digests in {digests} verify" in out
    assert f"covers up to #{document['digest']['head_id']}." in out


def _three_digests(folder: Path) -> list[str]:
    names = []
    for i in range(3):
        audit_record(actor=None, action="shift.apply", target=f"shift/{i}")
        written = audit_digest_write(now=timezone.now())
        assert written is not None
        names.append(written.name)
    assert sorted(p.name for p in folder.iterdir()) == names
    return names


def test_an_altered_digest_does_not_verify(digests):
    names = _three_digests(digests)
    middle = digests / names[1]
    document = json.loads(middle.read_text())
    document["digest"]["head_id"] -= 1
    middle.write_text(json.dumps(document))

    with pytest.raises(CommandError, match=rf"Digest {names[1]}: the signature does not verify"):
        _verify()


def test_a_digest_removed_from_the_middle_is_missed(digests):
    names = _three_digests(digests)
    (digests / names[1]).unlink()

    with pytest.raises(CommandError, match=rf"Digest {names[2]} follows '{names[1]}', not"):
        _verify()


def test_an_auditor_checks_the_digests_with_only_the_public_key(digests, settings, tmp_path):
    _three_digests(digests)
    private = serialization.load_pem_private_key(
        Path(settings.OPSPORTAL_AUDIT_SIGNING_KEY_FILE).read_bytes(), password=None
    )
    public = tmp_path / "audit.pub"
    public.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    out = _verify("--public-key", str(public), "--digests", str(digests))
    assert "3 signed digests" in out

    other = tmp_path / "other.pub"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(CommandError, match="signature does not verify"):
        _verify("--public-key", str(other))
    with pytest.raises(CommandError, match="--public-key: .* is not a PEM key"):
        _verify("--public-key", str(digests / sorted(p.name for p in digests.iterdir())[0]))


def test_digests_go_to_s3_and_an_overwritten_one_is_found(sandbox, settings):
    bucket = f"audit-digests-{uuid.uuid4().hex[:8]}"
    s3 = keyed_client(sandbox.url, "s3", "us-east-1", "testing")
    s3.create_bucket(Bucket=bucket)
    settings.OPSPORTAL_AUDIT_DIGESTS = f"s3://{bucket}/portal"
    _shift_history()
    first = audit_digest_write(now=timezone.now())
    audit_record(actor=None, action="shift.apply", target="shift/11")
    second = audit_digest_write(now=timezone.now())
    assert first and second
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == [f"portal/{first.name}", f"portal/{second.name}"]
    assert f"2 signed digests in s3://{bucket}/portal/ verify" in _verify()

    forged = json.loads(s3.get_object(Bucket=bucket, Key=listed[0])["Body"].read())
    forged["digest"]["entries"] += 1
    s3.put_object(Bucket=bucket, Key=listed[0], Body=json.dumps(forged).encode())
    with pytest.raises(CommandError, match=rf"Digest {first.name}: the signature does not"):
        _verify()


def _check_deploy(**extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(**extra),
        capture_output=True,
        text=True,
    )


def test_production_without_the_audit_keys_fails_the_deploy_check():
    result = _check_deploy(
        OPSPORTAL_AUDIT_HMAC_KEY="", OPSPORTAL_AUDIT_SIGNING_KEY_FILE="", OPSPORTAL_AUDIT_DIGESTS=""
    )
    assert result.returncode != 0
    for check in ("audit.W001", "audit.W002", "audit.W003"):
        assert check in result.stderr


def test_a_signing_key_that_is_not_ed25519_stops_start_up(tmp_path):
    key = tmp_path / "audit.pem"
    key.write_text("not a key")
    result = _check_deploy(OPSPORTAL_AUDIT_SIGNING_KEY_FILE=str(key))
    assert result.returncode != 0
    assert "OPSPORTAL_AUDIT_SIGNING_KEY_FILE=" in result.stderr
    assert "is not a readable, unencrypted PEM private key" in result.stderr
    short = _check_deploy(OPSPORTAL_AUDIT_HMAC_KEY="too-short")
    assert "OPSPORTAL_AUDIT_HMAC_KEY must be at least 32 characters" in short.stderr
