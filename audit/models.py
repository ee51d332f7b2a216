"""The portal audit log: one append-only, hash-chained row per state change.

Each row carries the keyed hash (`audit.signing`) of its own canonical JSON together with
the previous row's hash, so editing, inserting or removing a row in the middle of the
chain is detected by `manage.py verify_audit`; signed digests of the chain head kept
outside the database (`AuditDigest`) cover the end of it. Database triggers (migration
0002) refuse UPDATE and DELETE.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.db import models

GENESIS_HASH = "0" * 64


class Outcome(models.TextChoices):
    OK = "ok", "ok"
    DENIED = "denied", "denied"
    FAILED = "failed", "failed"


def canonical_time(value: datetime) -> str:
    """Microsecond ISO time in UTC: both SQLite and PostgreSQL round-trip it unchanged."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class AuditEntry(models.Model):
    """Who did what to which object, when, from where, and what it looked like before
    and after. The actor is a plain integer, not a foreign key, so deleting a user never
    touches (or is blocked by) the audit rows that name them."""

    time = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    username = models.CharField(max_length=150, db_index=True)
    action = models.CharField(max_length=100, db_index=True)
    target = models.CharField(max_length=512)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OK)
    error = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=[c.value for c in Outcome]),
                name="audit_entry_outcome_valid",
            ),
            # A second row claiming the same predecessor would fork the chain.
            models.UniqueConstraint(fields=["prev_hash"], name="audit_entry_prev_hash_unique"),
            models.UniqueConstraint(fields=["hash"], name="audit_entry_hash_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.target} by {self.username}"

    def canonical_payload(self) -> dict[str, Any]:
        """Every stored field except the id and the row's own hash."""
        return {
            "time": canonical_time(self.time),
            "actor_id": self.actor_id,
            "username": self.username,
            "action": self.action,
            "target": self.target,
            "before": self.before,
            "after": self.after,
            "outcome": self.outcome,
            "error": self.error,
            "request_id": self.request_id,
            "source_ip": self.source_ip,
            "user_agent": self.user_agent,
            "prev_hash": self.prev_hash,
        }

    def canonical_text(self) -> str:
        """What the row's hash is computed over."""
        return json.dumps(self.canonical_payload(), sort_keys=True, separators=(",", ":"))

    @property
    def before_pretty(self) -> str:
        return json.dumps(self.before, indent=2, sort_keys=True)

    @property
    def after_pretty(self) -> str:
        return json.dumps(self.after, indent=2, sort_keys=True)


class LoginLockTally(models.Model):
    """The sign-ins one login lock has refused so far, counted here because an audit entry
    can never be updated: the log gets the lock when it starts, the count at 10, 100, 1000,
    ... refusals, and the total once the lock has ended (audit.login_refusals). Not part of
    the chain; a row is deleted once its total is in the log."""

    lock = models.CharField(max_length=600, unique=True, help_text="core.login_limits key")
    scope = models.CharField(max_length=32)
    username = models.CharField(max_length=255, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    failures = models.PositiveIntegerField(help_text="failures that started the lock")
    locked_until = models.DateTimeField(db_index=True)
    refusals = models.PositiveIntegerField(default=0)
    recorded = models.PositiveIntegerField(default=0, help_text="refusals already in the log")
    first_refused_at = models.DateTimeField(null=True, blank=True)
    last_refused_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.lock}: {self.refusals} refused until {self.locked_until}"


class AuditDigest(models.Model):
    """The digests this portal has signed, newest last: only where the next digest links
    from. The digests themselves live outside the database (OPSPORTAL_AUDIT_DIGESTS), and
    verification reads them from there, so editing this table proves nothing."""

    name = models.CharField(max_length=255, unique=True)
    signed_at = models.DateTimeField()
    head_id = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64, help_text="of the digest file as written")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} (up to #{self.head_id})"
