"""Which portal action made which CloudTrail event.

CloudTrail says who called what; the portal knows why. A change request is matched to its
UpdateEndpointWeightsAndCapacities (traffic, capacity) or UpdateEndpoint (deploy, rollback)
by the AWS request id the portal recorded when it sent the update, else (the call timed
out but went through) by endpoint and time; a deploy's CreateEndpointConfig by the config
name the portal derives from the request's id; a batch job to its CreateTransformJob and
StopTransformJob by the TransformJobName they name (unique in an account and region, and
checked unused before the portal launches under it). The linkers below are registered with
the API history pages (TriageConfig), and the timeline uses the same pairing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.urls import reverse

from apihistory.links import PortalLink
from apihistory.selectors import REQUEST_MATCH_WINDOW
from shifts.changes.deploy import new_config_name
from shifts.selectors import proposals_by_ids, shifts_sent
from transforms.selectors import portal_jobs_named

if TYPE_CHECKING:
    from apihistory.models import TrailEvent
    from shifts.models import ShiftProposal

# The call each change type's apply sends last (its recorded request id is that call's).
SENT_EVENT: dict[str, str] = {
    "traffic": "UpdateEndpointWeightsAndCapacities",
    "capacity": "UpdateEndpointWeightsAndCapacities",
    "deploy": "UpdateEndpoint",
    "rollback": "UpdateEndpoint",
}
CONFIG_EVENT = "CreateEndpointConfig"
DEPLOY_CONFIG = re.compile(r"-cr(?P<pk>[0-9]{1,18})$")
TRANSFORM_EVENTS = ("CreateTransformJob", "StopTransformJob")


def _link(proposal: ShiftProposal) -> PortalLink:
    noun = "traffic shift" if proposal.is_traffic else "change"
    return PortalLink(
        "shift",
        proposal.pk,
        f"{noun} #{proposal.pk}",
        reverse("shifts:detail", args=[proposal.pk]),
    )


def shift_links(events: Sequence[TrailEvent]) -> dict[int, PortalLink]:
    """Links for the successful updates a change request sent (two queries a page at most)."""
    links = _config_links(events)
    names = set(SENT_EVENT.values())
    updates = [e for e in events if e.event_name in names and not e.failed]
    if not updates:
        return links
    times = [e.event_time for e in updates]
    candidates = shifts_sent(
        request_ids={e.request_id for e in updates if e.request_id},
        endpoint_names={e.endpoint_name for e in updates},
        start=min(times) - REQUEST_MATCH_WINDOW,
        end=max(times) + REQUEST_MATCH_WINDOW,
    )
    by_request = {p.aws_request_id: p for p in candidates if p.aws_request_id}
    for event in updates:
        proposal = by_request.get(event.request_id) if event.request_id else None
        proposal = proposal or _nearest_shift(event, candidates)
        if proposal is not None and SENT_EVENT.get(proposal.change) == event.event_name:
            links[event.pk] = _link(proposal)
    return links


def _config_links(events: Sequence[TrailEvent]) -> dict[int, PortalLink]:
    """A deploy's CreateEndpointConfig, by the config name derived from its request."""
    made: dict[int, int] = {}
    for event in events:
        match = DEPLOY_CONFIG.search(event.endpoint_config_name or "")
        if event.event_name == CONFIG_EVENT and not event.failed and match:
            made[event.pk] = int(match["pk"])
    if not made:
        return {}
    proposals = {p.pk: p for p in proposals_by_ids(ids=set(made.values()))}
    links = {}
    by_pk = {e.pk: e for e in events}
    for event_pk, proposal_pk in made.items():
        proposal = proposals.get(proposal_pk)
        event = by_pk[event_pk]
        if (
            proposal is not None
            and proposal.change == "deploy"
            and proposal.endpoint.account_id == event.account_id
            and proposal.endpoint.region == event.region
            and new_config_name(endpoint_name=proposal.endpoint.name, proposal_id=proposal.pk)
            == event.endpoint_config_name
        ):
            links[event_pk] = _link(proposal)
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


def transform_job_name(event: TrailEvent) -> str:
    """The TransformJobName a create or stop named, read from its request: a create names
    the model too, and rows stored before the job's name came first in `resource_name`
    carry the model's name there."""
    params = (event.record or {}).get("requestParameters")
    name = params.get("transformJobName") if isinstance(params, dict) else None
    return name if isinstance(name, str) and name else event.resource_name


def transform_links(events: Sequence[TrailEvent]) -> dict[int, PortalLink]:
    """Links for the calls that created or stopped a batch job the portal launched (one
    query a page at most); a job's name is unique in its account and region."""
    calls = {e.pk: transform_job_name(e) for e in events if e.event_name in TRANSFORM_EVENTS}
    calls = {pk: name for pk, name in calls.items() if name}
    if not calls:
        return {}
    jobs = {
        (job.account_id, job.region, job.name): job
        for job in portal_jobs_named(set(calls.values()))
    }
    links = {}
    for event in events:
        if event.pk not in calls:
            continue
        job = jobs.get((event.account_id, event.region, calls[event.pk]))
        if job is not None:
            links[event.pk] = PortalLink(
                "transform",
                job.pk,
                f"batch job {job.name}",
                reverse("transforms:detail", args=[job.pk]),
            )
    return links
