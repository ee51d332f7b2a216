"""What the Change requests tab shows of an endpoint: each variant's capacity and auto
scaling, its alarms, and the configs it has run with who deployed them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apihistory.selectors import endpoint_change_events
from endpoints.selectors import endpoint_configs
from monitoring.selectors import endpoint_alarms
from shifts.changes import autoscaling as scaling_change
from shifts.changes.capacity import describe_capacity
from shifts.changes.deploy import new_config_name
from shifts.models import (
    ChangeType,
    ShiftProposal,
    ShiftState,
)

if TYPE_CHECKING:
    from endpoints.models import Endpoint, Variant
    from monitoring.models import Alarm


from shifts.selectors.proposals import with_people
from shifts.selectors.words import CONFIG_LIMIT, TRAIL_EVENTS, suspension_words


@dataclass(frozen=True)
class VariantRow:
    """A production variant's capacity and auto scaling as the inventory last saw them."""

    name: str
    model_name: str
    instance_type: str
    desired_instances: int | None
    current_instances: int | None
    serverless: dict[str, Any] | None
    scaling: dict[str, Any] | None  # the inventory's entry: min/max, suspended, policies

    @property
    def suspended(self) -> list[str]:
        return suspension_words((self.scaling or {}).get("suspended"))

    @property
    def capacity_words(self) -> str:
        if self.serverless:
            values = {
                "max_concurrency": self.serverless.get("max_concurrency"),
                "provisioned_concurrency": self.serverless.get("provisioned_concurrency"),
            }
            return "serverless, " + describe_capacity(values)
        count = self.desired_instances if self.desired_instances is not None else 0
        return f"{self.instance_type or 'unknown type'} × {count}"


@dataclass(frozen=True)
class EndpointScaling:
    variants: list[VariantRow]
    error: str  # the inventory could not read auto scaling at its last sync


def _variant_row(variant: Variant, entries: list[dict[str, Any]]) -> VariantRow:
    return VariantRow(
        name=variant.name,
        model_name=variant.model_name,
        instance_type=variant.instance_type,
        desired_instances=(
            variant.desired_instance_count
            if variant.desired_instance_count is not None
            else variant.current_instance_count
        ),
        current_instances=variant.current_instance_count,
        serverless=variant.serverless or None,
        scaling=scaling_change.inventory_entry(entries, variant.name),
    )


def endpoint_scaling(*, endpoint: Endpoint) -> EndpointScaling:
    """Each production variant with its capacity and auto scaling (no query beyond the
    endpoint's prefetched variants)."""
    rows = [r for r in (endpoint.autoscaling or []) if isinstance(r, dict)]
    errors = [str(r["error"]) for r in rows if "error" in r]
    entries = [r for r in rows if "error" not in r]
    variants = [v for v in endpoint.variants.all() if not v.is_shadow]
    return EndpointScaling(
        variants=[_variant_row(v, entries) for v in variants],
        error="; ".join(errors),
    )


@dataclass(frozen=True)
class EndpointAlarms:
    health: list[Alarm]  # what says something is wrong: the rollback alarms to offer
    scaling: list[Alarm]  # auto scaling's own target-tracking alarms


def alarms_of(*, endpoint: Endpoint) -> EndpointAlarms:
    alarms = endpoint_alarms(endpoint=endpoint)
    return EndpointAlarms(
        health=[a for a in alarms if not a.drives_auto_scaling],
        scaling=[a for a in alarms if a.drives_auto_scaling],
    )


@dataclass(frozen=True)
class ConfigRow:
    """An endpoint config the endpoint has run, as the inventory's snapshots show it."""

    name: str
    first_seen: datetime | None
    last_seen: datetime | None
    current: bool
    deployed_by: str = ""
    deployed_at: datetime | None = None
    created_by: str = ""
    change_request: ShiftProposal | None = None


def _trail_authors(endpoint: Endpoint) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per config: the newest successful CreateEndpoint/UpdateEndpoint naming it, and its
    CreateEndpointConfig, from the ingested CloudTrail history."""
    deployed: dict[str, Any] = {}
    created: dict[str, Any] = {}
    for event in endpoint_change_events(endpoint=endpoint, limit=TRAIL_EVENTS):
        if event.error_code or not event.endpoint_config_name:
            continue
        if event.event_name in ("CreateEndpoint", "UpdateEndpoint"):
            deployed.setdefault(event.endpoint_config_name, event)
        elif event.event_name == "CreateEndpointConfig":
            created.setdefault(event.endpoint_config_name, event)
    return deployed, created


def _config_requests(endpoint: Endpoint) -> dict[str, ShiftProposal]:
    """Per config: the newest applied deploy or rollback change request that put the
    endpoint on it."""
    found: dict[str, ShiftProposal] = {}
    applied = with_people().filter(
        endpoint_id=endpoint.pk,
        change__in=(ChangeType.DEPLOY, ChangeType.ROLLBACK),
        state=ShiftState.APPLIED,
    )
    for proposal in applied.order_by("-finished_at", "-id"):
        if proposal.change == ChangeType.DEPLOY:
            name = new_config_name(endpoint_name=endpoint.name, proposal_id=proposal.pk)
        else:
            name = str(proposal.spec.get("config_name") or "")
        if name:
            found.setdefault(name, proposal)
    return found


def config_rows(*, endpoint: Endpoint) -> list[ConfigRow]:
    """The configs the endpoint has run, the current one first, then the most recently
    seen; each with who deployed it (CloudTrail) and the change request behind it."""
    uses = endpoint_configs(endpoint=endpoint, limit=CONFIG_LIMIT)
    seen = {use.config_name: use for use in uses}
    deployed, created = _trail_authors(endpoint)
    requests = _config_requests(endpoint)
    names = list(seen)
    if endpoint.config_name and endpoint.config_name not in seen:
        names.insert(0, endpoint.config_name)
    rows = []
    for name in names:
        use = seen.get(name)
        event = deployed.get(name)
        maker = created.get(name)
        rows.append(
            ConfigRow(
                name=name,
                first_seen=use.first_seen if use else None,
                last_seen=use.last_seen if use else None,
                current=name == endpoint.config_name,
                deployed_by=event.principal_name if event else "",
                deployed_at=event.event_time if event else None,
                created_by=maker.principal_name if maker else "",
                change_request=requests.get(name),
            )
        )
    rows.sort(key=lambda row: not row.current)  # stable: the rest stay newest first
    return rows
