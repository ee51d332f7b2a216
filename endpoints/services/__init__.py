"""Inventory writes: the sync from AWS (incremental, with a snapshot whenever an endpoint's
state changes), and what people do to one endpoint (refresh, test invoke)."""

from endpoints.services.actions import (
    TestInvocation,
    endpoint_refresh_later,
    endpoint_refresh_request,
    endpoint_test_invoke,
)
from endpoints.services.inventory import (
    SyncReport,
    endpoint_refresh,
    inventory_sync,
    inventory_sync_configured,
)
from endpoints.services.snapshots import snapshot_record

__all__ = [
    "SyncReport",
    "TestInvocation",
    "endpoint_refresh",
    "endpoint_refresh_later",
    "endpoint_refresh_request",
    "endpoint_test_invoke",
    "inventory_sync",
    "inventory_sync_configured",
    "snapshot_record",
]
