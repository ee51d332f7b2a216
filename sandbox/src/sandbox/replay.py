"""Replayed traffic: a burst of invocations accounted to a minute of the caller's choosing.

A staged traffic shift judges each step by the per-variant CloudWatch metrics of the minutes
it ran; rehearsing ten such minutes through InvokeEndpoint would take ten minutes of wall
clock. A replay routes ``requests`` invocations at once, exactly as InvokeEndpoint would
route them (``Runtime.pick``: the live CurrentWeight per variant, a pending deployment's share
on its new fleet), gives each the fate InvokeEndpoint would (``decide_fate``: the variant's
fault from the fault store, then its own failure rate), and records every outcome in the
CloudWatch minute containing ``at``, then publishes it.

What a replay does not do, on purpose:

- run the model or sleep: a served request's ModelLatency is drawn log-normally around the
  model's measured one-row latency (as ``sandbox.backfill`` writes history), and a latency
  fault's ``latency_ms`` is added to it rather than waited for, so 10,000 requests take a
  fraction of a second;
- send bodies: replayed requests are well formed, so the container never rejects one (no
  4xx model errors; 4xx come from throttling only);
- offer anything to data capture: there is no payload to capture, and a monitoring job
  reading invented rows would judge data no one sent;
- write container log lines (``sandbox.container_logs``): no request reached a container,
  so its CloudWatch Logs show no traceback or access line for a replayed one (an
  endpoint's Logs tab shows the failures of real invocations only);
- move utilization: CPU and memory utilization are published once per completed minute, so a
  replayed minute the sandbox has already seen complete keeps the utilization it had (only a
  minute not yet judged, such as the current one, may count replayed invocations).
"""

from __future__ import annotations

import math
import random
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sandbox import moto_bridge
from sandbox.aws_protocol import AwsError
from sandbox.backfill import (
    MODEL_LATENCY_SPREAD,
    OVERHEAD_MEDIAN_US,
    OVERHEAD_SPREAD,
    measured_latency_us,
)
from sandbox.endpoint_metrics import Outcome
from sandbox.endpoints import EndpointRecord
from sandbox.faults import Fault
from sandbox.metric_store import MINUTE
from sandbox.models import SandboxModel
from sandbox.runtime import Fate, Runtime, decide_fate, endpoint_not_found
from sandbox.variants import VariantState

MAX_REQUESTS = 100_000
# CloudWatch takes data up to two weeks old; a replay further back would be refused by AWS.
MAX_AGE_SECONDS = 14 * 86400
# A little ahead of the clock is allowed for a caller whose clock runs slightly fast.
MAX_AHEAD_SECONDS = 60
_FIELDS = ("endpoint", "region", "account", "requests", "at")
# The model latency of a variant without a model to measure (its requests fail anyway).
_UNMEASURED_LATENCY_US = 1000.0


class ReplayError(ValueError):
    """A replay that cannot run; ``status`` is the admin route's HTTP answer."""

    def __init__(self, message: str, status: int = 400, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    @classmethod
    def from_aws(cls, error: AwsError) -> ReplayError:
        """The runtime's refusal, in its own words and status, as InvokeEndpoint gives it."""
        return cls(error.message, error.status, error.code)


@dataclass(frozen=True)
class ReplayRequest:
    """Send ``requests`` invocations to one endpoint, accounted to the minute holding ``at``."""

    endpoint: str
    requests: int
    at: float
    region: str | None = None
    account: str | None = None

    @property
    def minute(self) -> int:
        return int(self.at // MINUTE) * MINUTE


def parse_replay(document: Any, *, now: float) -> ReplayRequest:
    """Validate a ``POST /_sandbox/replay-traffic`` body against the clock ``now``."""
    if not isinstance(document, dict):
        raise ReplayError(
            'The body must be a JSON object, e.g. {"endpoint": "my-endpoint", '
            '"requests": 1000, "at": 1700000000}.'
        )
    unknown = sorted(set(document) - set(_FIELDS))
    if unknown:
        raise ReplayError(
            f"Unknown field(s): {', '.join(unknown)}. Known fields: {', '.join(_FIELDS)}."
        )
    endpoint = _name(document, "endpoint")
    if endpoint is None:
        raise ReplayError("endpoint is required: the name of the endpoint to send traffic to.")
    return ReplayRequest(
        endpoint=endpoint,
        requests=_requests(document.get("requests")),
        at=_at(document.get("at"), now),
        region=_name(document, "region"),
        account=_name(document, "account"),
    )


def _name(document: Mapping[str, Any], field: str) -> str | None:
    value = document.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ReplayError(f"{field} must be a non-empty string when given.")
    return value.strip()


def _requests(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REQUESTS:
        raise ReplayError(
            f"requests is required: a whole number from 1 to {MAX_REQUESTS}; got {value!r}."
        )
    return value


def _at(value: Any, now: float) -> float:
    """Epoch seconds within CloudWatch's two weeks and no more than a minute ahead."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReplayError(
            f"at is required: the moment to account the requests to, in epoch seconds; "
            f"got {value!r}."
        )
    if value < now - MAX_AGE_SECONDS:
        raise ReplayError(
            f"at must be within the last 14 days (CloudWatch keeps no older minute data); "
            f"got {value!r}, {(now - value) / 86400:.1f} days ago."
        )
    if value > now + MAX_AHEAD_SECONDS:
        raise ReplayError(
            f"at must not be more than {MAX_AHEAD_SECONDS} s in the future; got {value!r}, "
            f"{value - now:.0f} s ahead."
        )
    return float(value)


@dataclass
class VariantTally:
    """What one variant answered during the burst, as the answer reports it."""

    invocations: int = 0
    errors_5xx: int = 0
    errors_4xx: int = 0

    def add(self, outcome: Outcome) -> None:
        self.invocations += 1
        self.errors_5xx += outcome.status == "5xx"
        self.errors_4xx += outcome.status == "4xx"


class LatencyModel:
    """Plausible per-request latencies without running the model for every request.

    Each model is timed once (the median of a few one-row predictions on its mean row, as
    the history backfill measures it) and remembered for as long as the model is loaded, so
    replayed minutes of one variant are comparable with each other.
    """

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()
        self._lock = threading.Lock()
        self._medians: weakref.WeakKeyDictionary[SandboxModel, float] = weakref.WeakKeyDictionary()

    def median_us(self, model: SandboxModel | None) -> float:
        if model is None:
            return _UNMEASURED_LATENCY_US
        with self._lock:
            known = self._medians.get(model)
        if known is None:
            known = measured_latency_us(model, model.scaler_mean.tolist())
            with self._lock:
                self._medians[model] = known
        return known

    def model_us(self, median_us: float) -> int:
        return round(median_us * math.exp(MODEL_LATENCY_SPREAD * self.rng.gauss(0.0, 1.0)))

    def overhead_us(self) -> int:
        return round(OVERHEAD_MEDIAN_US * math.exp(OVERHEAD_SPREAD * self.rng.gauss(0.0, 1.0)))


class TrafficReplay:
    """Replays bursts through the runtime's routing and fault decisions into chosen minutes."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        clock: Callable[[], float] | None = None,
        latency: LatencyModel | None = None,
    ) -> None:
        self.runtime = runtime
        self.clock = clock or runtime.metrics.clock
        self.latency = latency or LatencyModel()

    def parse(self, document: Any) -> ReplayRequest:
        return parse_replay(document, now=self.clock())

    def replay(self, request: ReplayRequest) -> dict[str, Any]:
        """Route, decide and record the burst, publish its minute, and answer the tallies.

        Every request is routed and decided before any is recorded, so a refused burst
        (the endpoint stopped serving, no variant has weight) leaves the metrics untouched.
        """
        record = self._target(request)
        outcomes = self._outcomes(record, request.requests)
        tallies = {variant.name: VariantTally() for variant in record.variants}
        metrics = self.runtime.metrics
        for variant, outcome in outcomes:
            metrics.record(
                record.account_id, record.region, record.name, variant, outcome, at=request.at
            )
            tallies.setdefault(variant.name, VariantTally()).add(outcome)
        # A past minute is complete, so any flush publishes it; the forced one also covers
        # a replay into the current (or next) minute.
        metrics.flush(include_current=True)
        return {
            "endpoint": record.name,
            "region": record.region,
            "minute": request.minute,
            "variants": {name: asdict(tally) for name, tally in tallies.items()},
        }

    def _target(self, request: ReplayRequest) -> EndpointRecord:
        """The serving endpoint named, found as bad-deploy finds one: in the only region (and
        account) that has it unless told which; refused in InvokeEndpoint's words."""
        records = [
            r
            for r in self.runtime.endpoints.all_records()
            if r.name == request.endpoint
            and request.region in (None, r.region)
            and request.account in (None, r.account_id)
        ]
        if len(records) > 1:
            places = ", ".join(sorted(f"{r.region} ({r.account_id})" for r in records))
            raise ReplayError(
                f"Endpoint {request.endpoint} exists in {places}; name the region (and account)."
            )
        try:
            if not records:
                account = request.account or moto_bridge.account_for(None, None)
                raise endpoint_not_found(request.endpoint, account)
            found = records[0]
            return self.runtime.serving(found.account_id, found.region, found.name)
        except AwsError as error:
            raise ReplayError.from_aws(error) from None

    def _outcomes(self, record: EndpointRecord, count: int) -> list[tuple[VariantState, Outcome]]:
        """Each request's variant and outcome, routed and decided as InvokeEndpoint would."""
        faults: dict[str, Fault | None] = {}
        medians: dict[int, float] = {}
        outcomes = []
        try:
            for _ in range(count):
                variant = self.runtime.pick(record).variant
                if variant.name not in faults:
                    faults[variant.name] = self.runtime.faults.for_variant(
                        record.region, record.name, variant.name
                    )
                fate = decide_fate(faults[variant.name], variant, self.runtime.rng)
                if id(variant) not in medians:
                    medians[id(variant)] = self.latency.median_us(variant.model)
                outcomes.append((variant, self._outcome(fate, variant, medians[id(variant)])))
        except AwsError as error:
            raise ReplayError.from_aws(error) from None
        return outcomes

    def _outcome(self, fate: Fate, variant: VariantState, median_us: float) -> Outcome:
        """What the metrics see of one request, as ``Runtime._serve`` accounts it."""
        overhead = self.latency.overhead_us()
        injected = round(fate.injected_seconds * 1e6)
        if fate.verdict == "throttled":
            return Outcome("4xx", False, None, overhead)
        if fate.verdict == "failed":
            return Outcome("5xx", False, None, overhead)
        if fate.verdict == "crashed":
            # The container dies after the injected delay, before the model answers.
            return Outcome("5xx", True, injected, overhead)
        if variant.model is None:
            return Outcome("5xx", False, None, overhead)
        return Outcome("ok", False, injected + self.latency.model_us(median_us), overhead)
