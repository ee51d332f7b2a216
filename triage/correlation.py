"""Which portal action made which CloudTrail event.

CloudTrail says who called what; the portal knows why. A traffic shift is matched to its
UpdateEndpointWeightsAndCapacities by the AWS request id the portal recorded when it sent
the update, else (the call timed out but went through) by endpoint and time; a batch job
to its CreateTransformJob and StopTransformJob by its name, which the portal derives from
its own row. The linkers below are registered with the API history pages (TriageConfig),
and the timeline uses the same pairing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.urls import reverse

from apihistory.links import PortalLink
from apihistory.selectors import REQUEST_MATCH_WINDOW
from shifts.selectors import shifts_sent
from transforms.selectors import portal_jobs_named

if TYPE_CHECKING:
    from apihistory.models import TrailEvent
    from shifts.models import ShiftProposal

SHIFT_EVENT = "UpdateEndpointWeightsAndCapacities"
TRANSFORM_EVENTS = ("CreateTransformJob", "StopTransformJob")


def shift_links(events: Sequence[TrailEvent]) -> dict[int, PortalLink]:
    """Links for the successful weight updates a portal shift sent (one query a page)."""
    updates = [e for e in events if e.event_name == SHIFT_EVENT and not e.failed]
    if not updates:
        return {}
    times = [e.event_time for e in updates]
    candidates = shifts_sent(
        request_ids={e.request_id for e in updates if e.request_id},
        endpoint_names={e.endpoint_name for e in updates},
        start=min(times) - REQUEST_MATCH_WINDOW,
        end=max(times) + REQUEST_MATCH_WINDOW,
    )
    by_request = {p.aws_request_id: p for p in candidates if p.aws_request_id}
    links = {}
    for event in updates:
        proposal = by_request.get(event.request_id) if event.request_id else None
        proposal = proposal or _nearest_shift(event, candidates)
        if proposal is not None:
            links[event.pk] = PortalLink(
                "shift",
                proposal.pk,
                f"traffic shift #{proposal.pk}",
                reverse("shifts:detail", args=[proposal.pk]),
            )
    return links


def _nearest_shift(event: TrailEvent, candidates: list[ShiftProposal]) -> ShiftProposal | None:
    """The shift on the same endpoint whose update was sent closest to the event, among
    those whose request id the portal did not learn."""
    close = [
        p
        for p in candidates
        if not p.aws_request_id
        and p.update_sent_at is not None
        and p.endpoint.name == event.endpoint_name
        and p.endpoint.account_id == event.account_id
        and p.endpoint.region == event.region
        and abs(p.update_sent_at - event.event_time) <= REQUEST_MATCH_WINDOW
    ]
    return min(close, key=lambda p: abs(_sent(p) - event.event_time), default=None)


def _sent(proposal: ShiftProposal) -> datetime:
    assert proposal.update_sent_at is not None
    return proposal.update_sent_at


def transform_links(events: Sequence[TrailEvent]) -> dict[int, PortalLink]:
    """Links for the calls that created or stopped a batch job the portal launched."""
    calls = [e for e in events if e.event_name in TRANSFORM_EVENTS and e.resource_name]
    if not calls:
        return {}
    jobs = {
        (job.account_id, job.region, job.name): job
        for job in portal_jobs_named({e.resource_name for e in calls})
    }
    links = {}
    for event in calls:
        job = jobs.get((event.account_id, event.region, event.resource_name))
        if job is not None:
            links[event.pk] = PortalLink(
                "transform",
                job.pk,
                f"batch job {job.name}",
                reverse("transforms:detail", args=[job.pk]),
            )
    return links
