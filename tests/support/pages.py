"""Every page of the portal, with the objects its URL needs and the query parameters and
form fields it reads: the tests that walk them all (no 5xx on any input, every page within
its budget while AWS hangs) share this list."""

from __future__ import annotations

from django.urls import reverse

from endpoints.models import Endpoint
from tests.support.world import check_run, shift, trail_event, transform_job

GET_PAGES = {
    "overview": ({}, []),
    "endpoints:list": ({}, ["name", "account", "region", "status", "sort", "deleted", "page"]),
    "endpoints:detail": ({"pk": "endpoint"}, []),
    "endpoints:invoke": ({"pk": "endpoint"}, []),
    "monitoring:endpoint_list_health": ({}, ["ids"]),
    "monitoring:endpoint_metrics": ({"pk": "endpoint"}, ["range", "start", "end"]),
    "monitoring:endpoint_metrics_panel": ({"pk": "endpoint"}, ["range", "start", "end"]),
    "monitoring:endpoint_logs": (
        {"pk": "endpoint"},
        ["range", "start", "end", "text", "variant", "before", "follow"],
    ),
    "monitoring:endpoint_logs_lines": (
        {"pk": "endpoint"},
        ["range", "start", "end", "text", "variant", "before", "follow"],
    ),
    "monitoring:endpoint_monitoring": ({"pk": "endpoint"}, ["execution", "check"]),
    "monitoring:endpoint_monitoring_charts": ({"pk": "endpoint"}, ["execution", "feature"]),
    "monitoring:check_run_status": ({"pk": "endpoint", "run_id": "check_run"}, []),
    "triage:board": ({}, []),
    "triage:summary": ({"pk": "endpoint"}, []),
    "triage:endpoint_timeline": ({"pk": "endpoint"}, ["range", "start", "end"]),
    "triage:what_changed": ({"pk": "endpoint"}, ["from", "to"]),
    "apihistory:list": (
        {},
        ["range", "start", "end", "event", "principal", "endpoint", "failed", "writes", "q"]
        + ["hide_portal", "before", "after"],
    ),
    "apihistory:detail": ({"pk": "trail_event"}, []),
    "apihistory:endpoint_changes": ({"pk": "endpoint"}, ["writes", "hide_portal"]),
    "audit:list": (
        {},
        ["actor", "action", "outcome", "target", "date_from", "date_to", "before", "after"],
    ),
    "shifts:list": ({}, ["endpoint", "state", "person", "page"]),
    "shifts:detail": ({"pk": "proposal"}, []),
    "shifts:endpoint": ({"pk": "endpoint"}, []),
    "shifts:propose": ({"pk": "endpoint"}, []),
    "transforms:list": ({}, ["text", "target_region", "status", "source", "page"]),
    "transforms:launch": ({}, ["copy"]),
    "transforms:models": ({}, ["target_region"]),
    "transforms:detail": ({"pk": "transform_job"}, []),
}
POST_FORMS = {
    "shifts:propose": (
        {"pk": "endpoint"},
        ["mode", "share_0", "share_1", "move_percent", "move_from", "move_to", "reason", "action"],
    ),
    "shifts:reject": ({"pk": "proposal"}, ["comment"]),
    "shifts:approve": ({"pk": "proposal"}, ["comment"]),
    "monitoring:endpoint_check_now": (
        {"pk": "endpoint"},
        ["window", "start", "end", "baseline_uri"],
    ),
    "transforms:launch": (
        {},
        [
            "target_region",
            "model_name",
            "input_uri",
            "content_type",
            "split_type",
            "compression_type",
            "batch_strategy",
            "max_payload_mb",
            "max_concurrent_transforms",
            "instance_type",
            "instance_count",
            "output_path",
            "accept",
            "assemble_with",
            "input_filter",
            "output_filter",
            "join_source",
            "kms_key_id",
            "environment",
            "name",
            "overwrite_output",
        ],
    ),
    "triage:take": ({"pk": "endpoint"}, ["note"]),
    "endpoints:invoke": (
        {"pk": "endpoint"},
        ["content_type", "accept", "target_variant", "payload"],
    ),
}


def page_objects(endpoint: Endpoint, someone) -> dict[str, int]:
    """One of each object a page URL names, `someone` (not the viewer) proposing."""
    return {
        "endpoint": endpoint.pk,
        "proposal": shift(endpoint, someone),
        "transform_job": transform_job().pk,
        "check_run": check_run(endpoint).pk,
        "trail_event": trail_event().pk,
    }


def page_url(objects: dict[str, int], name: str, kwargs: dict[str, str] | None = None) -> str:
    kwargs = GET_PAGES[name][0] if kwargs is None else kwargs
    return reverse(name, kwargs={key: objects[kind] for key, kind in kwargs.items()})
