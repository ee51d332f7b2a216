"""CloudTrail history writes: ingestion of SageMaker's management events from LookupEvents
(from a cursor, within the shared rate limit), backfill, and import of trail log files."""

from apihistory.services.ingest import (
    RETENTION,
    IngestResult,
    trail_backfill,
    trail_ingest,
    trail_ingest_configured,
)
from apihistory.services.trail_files import ImportResult, TrailImportError, trail_import_s3

__all__ = [
    "RETENTION",
    "ImportResult",
    "IngestResult",
    "TrailImportError",
    "trail_backfill",
    "trail_import_s3",
    "trail_ingest",
    "trail_ingest_configured",
]
