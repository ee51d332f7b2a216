"""Trail log files: recorded events written to a logging trail's S3 bucket, as CloudTrail does.

CloudTrail batches a region's events every few minutes into one gzip JSON file
``{"Records": [...]}`` under ``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/``. Tools that
import history older than LookupEvents' 90 days read exactly these files, so the layout and
name follow AWS. Only events recorded after the trail started logging are delivered, and each
at most once per trail. Digest files (log integrity validation) are not written.
"""

from __future__ import annotations

import gzip
import json
import secrets
import string
import threading
from datetime import UTC, datetime

from sandbox import moto_bridge
from sandbox.cloudtrail import EventStore
from sandbox.moto_bridge import LoggingTrail

_NAME_ALPHABET = string.ascii_letters + string.digits


def log_file_key(trail_prefix: str, account_id: str, region: str, at: datetime) -> str:
    """``[prefix/]AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_..json.gz``."""
    unique = "".join(secrets.choice(_NAME_ALPHABET) for _ in range(16))
    name = f"{account_id}_CloudTrail_{region}_{at.strftime('%Y%m%dT%H%MZ')}_{unique}.json.gz"
    key = f"AWSLogs/{account_id}/CloudTrail/{region}/{at.strftime('%Y/%m/%d')}/{name}"
    prefix = trail_prefix.strip("/")
    return f"{prefix}/{key}" if prefix else key


class TrailDelivery:
    """Remembers, per trail, the last event delivered, and writes what came since."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._delivered: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()

    def flush(self) -> list[str]:
        """Deliver every logging trail's new events now; returns the S3 URIs written."""
        written: list[str] = []
        with self._lock:
            for trail in moto_bridge.logging_trails():
                written.extend(self._deliver(trail))
        return written

    def _deliver(self, trail: LoggingTrail) -> list[str]:
        trail_key = (trail.account_id, trail.home_region, trail.name)
        after = self._delivered.get(trail_key, 0)
        newest = after
        now = datetime.now(UTC)
        written = []
        for account_id, region in self.store.regions():
            if account_id != trail.account_id:
                continue
            if not trail.multi_region and region != trail.home_region:
                continue
            events = [
                e for e in self.store.since(account_id, region, after) if e.time >= trail.started
            ]
            if not events:
                continue
            newest = max(newest, max(e.seq for e in events))
            events.sort(key=lambda e: (e.time, e.seq))
            body = json.dumps({"Records": [e.record for e in events]}, separators=(",", ":"))
            key = log_file_key(trail.key_prefix, account_id, region, now)
            if moto_bridge.write_s3_object(
                account_id,
                trail.home_region,
                trail.bucket,
                key,
                gzip.compress(body.encode()),
                "application/x-gzip",
            ):
                written.append(f"s3://{trail.bucket}/{key}")
        self._delivered[trail_key] = max(newest, self._delivered.get(trail_key, 0))
        return written

    def clear(self) -> None:
        with self._lock:
            self._delivered.clear()
