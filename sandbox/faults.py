"""Fault injection: make an endpoint or one of its variants misbehave on purpose.

An on-call drill needs an endpoint that fails, slows down or drifts while everything else
stays healthy. A fault applies to one endpoint (optionally one variant, optionally one region)
and combines up to four effects, each applied per request by the runtime:

- ``throttle_rate``: this fraction of requests is refused with ThrottlingException (400);
- ``latency_ms``: every request takes this much longer inside the model (ModelLatency grows);
- ``error_rate`` with ``error_kind``: this fraction fails, either as InternalFailure (500,
  kind ``5xx``) or as a ModelError (424) whose container answered 500 (kind ``model``);
- ``drift``: the traffic generator shifts every feature it sends by this many standard
  deviations of that feature, which is what a data-quality monitor should notice.

A variant's own fault wins over an endpoint-wide one; a region-specific one wins over one for
any region.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

ErrorKind = Literal["5xx", "model"]
ERROR_KINDS: tuple[ErrorKind, ...] = ("5xx", "model")
# A container must answer within 60 s; beyond that SageMaker gives up on the request.
MAX_LATENCY_MS = 60_000
MAX_DRIFT = 10.0
_FIELDS = (
    "endpoint",
    "variant",
    "region",
    "error_rate",
    "error_kind",
    "latency_ms",
    "throttle_rate",
    "drift",
)


class FaultError(ValueError):
    """A fault request that cannot be applied; the message says which field and why."""


@dataclass(frozen=True)
class Fault:
    """The misbehaviour injected into one endpoint or variant."""

    endpoint: str
    variant: str | None = None
    region: str | None = None
    error_rate: float = 0.0
    error_kind: ErrorKind = "5xx"
    latency_ms: float = 0.0
    throttle_rate: float = 0.0
    drift: float = 0.0

    @property
    def scope(self) -> tuple[str | None, str, str | None]:
        return (self.region, self.endpoint, self.variant)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _rate(document: Mapping[str, Any], name: str) -> float:
    value = _number(document, name, 0.0)
    if not 0.0 <= value <= 1.0:
        raise FaultError(f"{name} must be between 0 and 1 (a fraction of requests); got {value}.")
    return value


def _number(document: Mapping[str, Any], name: str, default: float) -> float:
    value = document.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"{name} must be a number; got {value!r}.")
    return float(value)


def _optional_name(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise FaultError(f"{name} must be a non-empty string when given.")
    return value.strip()


def parse_fault(document: Any) -> Fault:
    """Validate a ``POST /_sandbox/faults`` body into a Fault."""
    if not isinstance(document, dict):
        raise FaultError("The body must be a JSON object.")
    unknown = sorted(set(document) - set(_FIELDS) - {"clear"})
    if unknown:
        raise FaultError(
            f"Unknown field(s): {', '.join(unknown)}. Known fields: {', '.join(_FIELDS)}."
        )
    endpoint = document.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise FaultError("endpoint is required: the name of the endpoint to make misbehave.")
    kind = document.get("error_kind") or "5xx"
    if kind not in ERROR_KINDS:
        raise FaultError(f"error_kind must be one of {', '.join(ERROR_KINDS)}; got {kind!r}.")
    latency = _number(document, "latency_ms", 0.0)
    if not 0.0 <= latency <= MAX_LATENCY_MS:
        raise FaultError(
            f"latency_ms must be between 0 and {MAX_LATENCY_MS} (a container must answer "
            f"within 60 s); got {latency}."
        )
    drift = _number(document, "drift", 0.0)
    if abs(drift) > MAX_DRIFT:
        raise FaultError(
            f"drift must be between -{MAX_DRIFT:g} and {MAX_DRIFT:g} standard deviations; "
            f"got {drift}."
        )
    return Fault(
        endpoint=endpoint.strip(),
        variant=_optional_name(document, "variant"),
        region=_optional_name(document, "region"),
        error_rate=_rate(document, "error_rate"),
        error_kind=kind,
        latency_ms=latency,
        throttle_rate=_rate(document, "throttle_rate"),
        drift=drift,
    )


class FaultStore:
    """The active faults, safe to read from every request thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[tuple[str | None, str, str | None], Fault] = {}

    def put(self, fault: Fault) -> None:
        """Set the fault for its scope, replacing whatever was injected there before."""
        with self._lock:
            self._faults[fault.scope] = fault

    def for_variant(self, region: str, endpoint: str, variant: str) -> Fault | None:
        """The fault a request routed to this variant suffers, most specific first."""
        with self._lock:
            for scope in (
                (region, endpoint, variant),
                (None, endpoint, variant),
                (region, endpoint, None),
                (None, endpoint, None),
            ):
                fault = self._faults.get(scope)
                if fault is not None:
                    return fault
        return None

    def drift_for(self, region: str, endpoint: str) -> float:
        """The input drift for traffic sent to an endpoint: the largest among its faults."""
        with self._lock:
            drifts = [
                f.drift
                for f in self._faults.values()
                if f.endpoint == endpoint and f.region in (None, region)
            ]
        return max(drifts, key=abs, default=0.0)

    def all(self) -> list[Fault]:
        with self._lock:
            return sorted(
                self._faults.values(), key=lambda f: (f.endpoint, f.variant or "", f.region or "")
            )

    def remove(
        self, endpoint: str | None = None, variant: str | None = None, region: str | None = None
    ) -> list[Fault]:
        """Remove the faults matching every given filter (all of them when none is given)."""
        with self._lock:
            gone = [
                scope
                for scope, fault in self._faults.items()
                if (endpoint is None or fault.endpoint == endpoint)
                and (variant is None or fault.variant == variant)
                and (region is None or fault.region == region)
            ]
            return [self._faults.pop(scope) for scope in gone]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
