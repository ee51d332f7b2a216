"""A shadow test on the endpoint page: the shadow variant judged against production.

A shadow variant answers copies of production's requests and its answers are dropped, so
its CloudWatch numbers are the only way to know whether it could take production's place.
The panel reads the last hour of both variants' invocations, 5XX and 4XX errors and p50/p99
model latency in one GetMetricData call (the staged shifts' gate read, shifts.gate_metrics)
and judges the shadow as a staged shift judges its candidate, with the default thresholds
(shifts.gates): the same statistics, so "the shadow would pass" means what a plan's gate
means. Promoting the shadow is a deploy change request, proposed from the panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from core.live_cache import LiveRead, read_through
from core.targets import target_by_name
from shifts.gate_metrics import read_windows
from shifts.gates import GateThresholds, VariantWindow, Verdict, judge

if TYPE_CHECKING:
    from endpoints.models import Endpoint, Variant

WINDOW = timedelta(hours=1)
CACHE_SECONDS = 60


@dataclass(frozen=True)
class ShadowComparison:
    """One shadow variant beside the production variant whose requests it copies."""

    production: Variant
    shadow: Variant
    sampling_percent: float
    windows: LiveRead[dict[str, VariantWindow]]
    verdict: Verdict | None
    promote_url: str

    @property
    def production_window(self) -> VariantWindow | None:
        return (self.windows.value or {}).get(self.production.name)

    @property
    def shadow_window(self) -> VariantWindow | None:
        return (self.windows.value or {}).get(self.shadow.name)


def sampling_percent(*, production: Variant, shadow: Variant) -> float:
    """The share of production's requests copied to the shadow: its weight relative to
    production's, at most 100 %."""
    if production.weight <= 0 or shadow.weight <= 0:
        return 0.0
    return min(100.0, 100.0 * shadow.weight / production.weight)


def promote_url(*, endpoint: Endpoint, production: Variant, shadow: Variant) -> str:
    """The deploy form, filled in to put the shadow's model (on the shadow's fleet) on the
    production variant and end the shadow test. The production variant keeps its name, so
    its alarms and auto scaling keep watching it."""
    query = {
        "variant": production.name,
        "model": shadow.model_name,
        "instance_type": shadow.instance_type,
        "end_shadow_test": "1",
    }
    if shadow.instance_count is not None:
        query["instance_count"] = str(shadow.instance_count)
    base = reverse("shifts:change_propose", args=[endpoint.pk, "deploy"])
    return f"{base}?{urlencode(query)}"


def shadow_comparisons(*, endpoint: Endpoint) -> list[ShadowComparison]:
    """Each shadow variant of the endpoint against its production variant over the last hour
    (cached for CACHE_SECONDS; the last good read when CloudWatch fails)."""
    variants = list(endpoint.variants.all())
    production = [v for v in variants if not v.is_shadow]
    shadows = [v for v in variants if v.is_shadow]
    if not shadows or len(production) != 1:
        return []
    (live,) = production
    names = [live.name, *(s.name for s in shadows)]
    # Up to the end of the current minute, so the page counts what has just been served.
    end = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - WINDOW

    def read() -> dict[str, VariantWindow]:
        return read_windows(
            target=target_by_name(endpoint.target),
            region=endpoint.region,
            endpoint_name=endpoint.name,
            variants=names,
            start=start,
            end=end,
        )

    windows = read_through(
        key=f"shadow-test:{endpoint.pk}:{','.join(names)}", fresh_seconds=CACHE_SECONDS, read=read
    )
    comparisons = []
    for shadow in shadows:
        baseline = (windows.value or {}).get(live.name)
        candidate = (windows.value or {}).get(shadow.name)
        verdict = None
        if baseline is not None and candidate is not None:
            verdict = judge(
                candidate=candidate,
                baseline=baseline,
                thresholds=GateThresholds(),
                candidate_name=shadow.name,
                baseline_name=live.name,
                window_seconds=int(WINDOW.total_seconds()),
            )
        comparisons.append(
            ShadowComparison(
                production=live,
                shadow=shadow,
                sampling_percent=sampling_percent(production=live, shadow=shadow),
                windows=windows,
                verdict=verdict,
                promote_url=promote_url(endpoint=endpoint, production=live, shadow=shadow),
            )
        )
    return comparisons
