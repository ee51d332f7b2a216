"""`manage.py verify_audit`: prove the audit log has not been edited since it was written.

Checks every entry's link and keyed hash, then the signed digests in the digest store
against the entries they cover. An auditor can run it with only the public key:
`--public-key audit.pub --digests s3://bucket/prefix/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.digest_store import store_at
from audit.digests import DigestChain, digests_read
from audit.signing import hmac_key, public_key_read, signing_key
from audit.verification import ChainReport, audit_chain_verify
from core.aws.errors import AwsError


class Command(BaseCommand):
    help = (
        "Walk the audit hash chain in id order and check it against the signed digests; "
        "exit non-zero at the first thing that does not hold."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--digests",
            default=settings.OPSPORTAL_AUDIT_DIGESTS,
            help="Digest store, s3://bucket/prefix/ or a directory (default: "
            "OPSPORTAL_AUDIT_DIGESTS).",
        )
        parser.add_argument(
            "--public-key",
            type=Path,
            help="PEM file with the Ed25519 public (or private) key the digests were signed "
            "with (default: the public half of OPSPORTAL_AUDIT_SIGNING_KEY_FILE).",
        )

    def handle(
        self, *args: Any, batch_size: int, digests: str, public_key: Path | None, **options: Any
    ) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        chain = self._digests(location=digests, public_key=public_key)
        report = audit_chain_verify(
            key=hmac_key(), digests=chain.digests if chain else (), batch_size=batch_size
        )
        if report.first_break is not None:
            raise CommandError(
                f"{report.first_break.message}. The chain is broken from this entry on."
                if report.first_break.entry_id is not None
                else f"{report.first_break.message}."
            )
        if chain is not None and chain.problem:
            raise CommandError(f"{chain.problem}.")
        self.stdout.write(f"Audit chain intact: {report.checked} entries")
        self._describe(report, chain)

    def _digests(self, *, location: str, public_key: Path | None) -> DigestChain | None:
        if not location:
            return None
        if public_key is not None:
            try:
                key = public_key_read(public_key)
            except ValueError as exc:
                raise CommandError(f"--public-key: {exc}.") from None
        else:
            private = signing_key()
            if private is None:
                raise CommandError(
                    "No key to check the digests with: pass --public-key or set "
                    "OPSPORTAL_AUDIT_SIGNING_KEY_FILE."
                )
            key = private.public_key()
        try:
            return digests_read(store=store_at(location), key=key)
        except ValueError as exc:
            raise CommandError(f"--digests: {exc}") from None
        except (AwsError, OSError) as exc:
            raise CommandError(f"Cannot read the digests in {location}: {exc}") from None

    def _describe(self, report: ChainReport, chain: DigestChain | None) -> None:
        if report.legacy and report.keyed:
            self.stdout.write(
                f"{report.legacy} entries from before the HMAC key was set carry plain "
                f"SHA-256 hashes; the {report.keyed} after them are keyed."
            )
        elif report.legacy:
            self.stdout.write(
                "Entries carry plain SHA-256 hashes: set OPSPORTAL_AUDIT_HMAC_KEY so that "
                "someone who can write the database cannot re-hash them."
            )
        if chain is None:
            self.stdout.write(
                "No digests checked (OPSPORTAL_AUDIT_DIGESTS is not set): entries removed "
                "from the end of the log would go unnoticed."
            )
        elif not chain.digests:
            self.stdout.write(f"No signed digests in {chain.location} yet.")
        else:
            newest = chain.digests[-1]
            after = (
                f"; entries after #{newest.head_id} are not covered by a digest yet"
                if report.last_id is not None and report.last_id > newest.head_id
                else ""
            )
            count = len(chain.digests)
            self.stdout.write(
                f"{count} signed digest{'s' if count != 1 else ''} in {chain.location} "
                f"{'verify' if count != 1 else 'verifies'}; the newest, "
                f"signed at {newest.signed_at}, covers up to #{newest.head_id}{after}."
            )
