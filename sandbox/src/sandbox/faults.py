"""Fault injection: make an endpoint or one of its variants misbehave on purpose.

An on-call drill needs an endpoint that fails, slows down or drifts while everything else
stays healthy. A fault applies to one endpoint (optionally one variant, optionally one region)
and combines up to four effects, each applied per request by the runtime:

- ``throttle_rate``: this fraction of requests is refused with ThrottlingException (400);
- ``latency_ms``: every request takes this much longer inside the model (ModelLatency grows);
- ``error_rate`` with ``error_kind``: this fraction fails, either as InternalFailure (500,
  kind ``5xx``) or as a ModelError (424) whose container answered 500 (kind ``model``);
- ``drift``: the traffic generator shifts the features it sends by this many standard
  deviations of each feature, which is what a data-quality monitor should notice. By default
  every feature moves; ``features`` names the only columns to move (a drill where one sensor
  goes bad), checked against the endpoint's model when the fault is set.

A variant's own fault wins over an endpoint-wide one; a region-specific one wins over one for
any region.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
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
    "features",
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
    # The columns drift shifts; None shifts every column.
    features: tuple[str, ...] | None = None

    @property
    def scope(self) -> tuple[str | None, str, str | None]:
        return (self.region, self.endpoint, self.variant)

    def to_json(self) -> dict[str, Any]:
        """The fault as the admin API shows it; ``features`` only when drift is per feature."""
        document = asdict(self)
        if self.features is None:
            del document["features"]
        else:
            document["features"] = list(self.features)
        return document


@dataclass(frozen=True)
class InputDrift:
    """What the traffic generator applies to an endpoint's rows: a shift, on some columns."""

    amount: float
    features: tuple[str, ...] | None = None

    def applies_to(self, feature: str) -> bool:
        return self.features is None or feature in self.features


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


def _features(document: Mapping[str, Any], drift: float) -> tuple[str, ...] | None:
    value = document.get("features")
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(name, str) and name.strip() for name in value)
    ):
        raise FaultError('features must be a non-empty list of column names, e.g. ["mean radius"].')
    if not drift:
        raise FaultError("features names the columns drift shifts; set a non-zero drift too.")
    return tuple(dict.fromkeys(name.strip() for name in value))


def _canonical(name: str) -> str:
    """Column names compare without case and with spaces as underscores ("mean radius")."""
    return "_".join(name.strip().lower().split())


def resolve_features(fault: Fault, columns: Sequence[str]) -> Fault:
    """The fault with its feature names spelled as the model's columns, or a FaultError.

    scikit-learn calls the column "mean radius" and the model "mean_radius"; either is
    accepted, and a name matching no column is refused with the list to choose from, since
    a typo would otherwise drift nothing and the drill would silently prove nothing.
    """
    if fault.features is None:
        return fault
    by_canonical = {_canonical(column): column for column in columns}
    resolved: list[str] = []
    unknown: list[str] = []
    for name in fault.features:
        column = by_canonical.get(_canonical(name))
        if column is None:
            unknown.append(name)
        elif column not in resolved:
            resolved.append(column)
    if unknown:
        raise FaultError(
            f"Endpoint {fault.endpoint}'s model has no column(s) {', '.join(map(repr, unknown))}; "
            f"its columns are {', '.join(columns)}."
        )
    return replace(fault, features=tuple(resolved))


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
        features=_features(document, drift),
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
        drift = self.input_drift(region, endpoint)
        return drift.amount if drift is not None else 0.0

    def input_drift(self, region: str, endpoint: str) -> InputDrift | None:
        """The drift traffic to an endpoint suffers (the largest), with the columns it moves."""
        with self._lock:
            drifting = [
                f
                for f in self._faults.values()
                if f.endpoint == endpoint and f.region in (None, region) and f.drift
            ]
        if not drifting:
            return None
        strongest = max(drifting, key=lambda f: abs(f.drift))
        return InputDrift(strongest.drift, strongest.features)

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
