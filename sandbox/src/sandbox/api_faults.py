"""Control-plane faults: make an AWS API misbehave as it does during an AWS incident.

Endpoint faults (``sandbox/faults.py``) break one model; these break the API around it, so a
test or an on-call drill can rehearse what the portal does when SageMaker throttles
DescribeEndpoint, CloudWatch's GetMetricData hangs or S3 answers 503s. A fault names an API as
``service:Operation`` or ``service:*`` (``sandbox/api_names.py``), optionally one region, and
combines these effects, applied by the middleware before the call is dispatched to the
sandbox's own handlers or to moto:

- ``hang``: the call does not answer until the fault is cleared or replaced (then it is served
  as if nothing happened) or ``HANG_SECONDS`` pass (then the other effects apply); in practice
  the client's read timeout ends it first;
- ``latency_ms``: the answer comes this much later (clearing the fault cuts the wait short);
- ``throttle_rate``: this fraction of calls gets the protocol's throttling error;
- ``error_rate``: this fraction of the calls not throttled gets a 500 from the service;
- ``reset_rate``: this fraction of calls gets no answer at all: the connection is reset (a TCP
  RST, as from a load balancer or a host that went away), which SDKs report as a connection
  error and retry. Refusing the connection itself cannot name an operation (it is refused
  before the request is read); a reset is what a caller of one API sees.

The most specific fault wins: one naming the operation over ``service:*``, then one for the
call's region over one for any region. A call refused here is answered like any other failed
call, so CloudTrail records a refused management call with its error code, as AWS does; a
call whose connection is reset never reached the service and is not recorded.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.api_names import (
    WILDCARD,
    ApiName,
    ApiNameError,
    canonical_service,
    parse_api,
    request_api,
)
from sandbox.aws_protocol import AwsError, AwsRequest, server_error, throttling_error

# Past a client's default 60 s read timeout, a delay is a hang: set ``hang`` for that.
MAX_LATENCY_MS = 60_000
# A hung call gives up after this long, so a forgotten fault cannot hold threads forever.
HANG_SECONDS = 300.0
EFFECTS = ("throttle_rate", "error_rate", "reset_rate", "latency_ms", "hang")
_FIELDS = ("api", "region", *EFFECTS)

Scope = tuple[str, str, str | None]


class ApiFaultError(ValueError):
    """A fault request that cannot be applied; the message says which field and why."""


class ConnectionReset(ConnectionResetError):
    """The call's connection is to be reset rather than answered (``reset_rate``)."""


@dataclass(frozen=True)
class ApiFault:
    """The misbehaviour injected into one API (or every API of a service)."""

    api: ApiName
    region: str | None = None
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    reset_rate: float = 0.0
    latency_ms: float = 0.0
    hang: bool = False
    # Set when the fault is cleared or replaced: calls waiting on it go on at once.
    released: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    @property
    def scope(self) -> Scope:
        return (self.api.service, self.api.operation, self.region)

    def to_json(self) -> dict[str, Any]:
        return {
            "api": str(self.api),
            "region": self.region,
            "throttle_rate": self.throttle_rate,
            "error_rate": self.error_rate,
            "reset_rate": self.reset_rate,
            "latency_ms": self.latency_ms,
            "hang": self.hang,
        }


def parse_api_fault(document: Any) -> ApiFault:
    """Validate a ``POST /_sandbox/api-faults`` body into an ApiFault."""
    if not isinstance(document, dict):
        raise ApiFaultError("The body must be a JSON object.")
    unknown = sorted(set(document) - set(_FIELDS) - {"clear"})
    if unknown:
        raise ApiFaultError(
            f"Unknown field(s): {', '.join(unknown)}. Known fields: {', '.join(_FIELDS)}."
        )
    api = document.get("api")
    if not isinstance(api, str) or not api.strip():
        raise ApiFaultError(
            'api is required: "service:Operation" or "service:*", e.g. "sagemaker:ListEndpoints".'
        )
    try:
        name = parse_api(api)
    except ApiNameError as error:
        raise ApiFaultError(str(error)) from None
    latency = _number(document, "latency_ms")
    if not 0.0 <= latency <= MAX_LATENCY_MS:
        raise ApiFaultError(
            f"latency_ms must be between 0 and {MAX_LATENCY_MS} (longer is a hang: set "
            f"hang instead); got {latency:g}."
        )
    hang = document.get("hang", False)
    if not isinstance(hang, bool):
        raise ApiFaultError(f"hang must be true or false; got {hang!r}.")
    fault = ApiFault(
        api=name,
        region=_region(document),
        throttle_rate=_rate(document, "throttle_rate"),
        error_rate=_rate(document, "error_rate"),
        reset_rate=_rate(document, "reset_rate"),
        latency_ms=latency,
        hang=hang,
    )
    if not any(getattr(fault, effect) for effect in EFFECTS):
        raise ApiFaultError(
            "The fault has no effect: set throttle_rate, error_rate, reset_rate, latency_ms or "
            "hang."
        )
    return fault


def parse_filter(api: str | None) -> tuple[str | None, str | None]:
    """(service, operation) to clear by: ``"s3"`` is every s3 fault, ``"s3:*"`` only that one."""
    if api is None or not api.strip():
        return None, None
    try:
        if ":" not in api:
            return canonical_service(api), None
        name = parse_api(api)
    except ApiNameError as error:
        raise ApiFaultError(str(error)) from None
    return name.service, name.operation


def _number(document: Mapping[str, Any], name: str) -> float:
    value = document.get(name)
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiFaultError(f"{name} must be a number; got {value!r}.")
    return float(value)


def _rate(document: Mapping[str, Any], name: str) -> float:
    value = _number(document, name)
    if not 0.0 <= value <= 1.0:
        raise ApiFaultError(f"{name} must be between 0 and 1 (a fraction of calls); got {value:g}.")
    return value


def _region(document: Mapping[str, Any]) -> str | None:
    value = document.get("region")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiFaultError("region must be a non-empty string when given, e.g. us-east-1.")
    return value.strip()


class ApiFaultStore:
    """The active API faults, safe to read from every request thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[Scope, ApiFault] = {}

    def put(self, fault: ApiFault) -> None:
        """Set the fault for its scope; calls held by the one it replaces go on at once."""
        with self._lock:
            previous = self._faults.get(fault.scope)
            self._faults[fault.scope] = fault
        if previous is not None:
            previous.released.set()

    def match(self, api: ApiName, region: str) -> ApiFault | None:
        """The fault a call to this API in this region suffers, most specific first."""
        with self._lock:
            for operation, where in (
                (api.operation, region),
                (api.operation, None),
                (WILDCARD, region),
                (WILDCARD, None),
            ):
                fault = self._faults.get((api.service, operation, where))
                if fault is not None:
                    return fault
        return None

    def all(self) -> list[ApiFault]:
        with self._lock:
            faults = list(self._faults.values())
        return sorted(faults, key=lambda f: (f.api.service, f.api.operation, f.region or ""))

    def remove(
        self,
        service: str | None = None,
        operation: str | None = None,
        region: str | None = None,
    ) -> list[ApiFault]:
        """Remove the faults matching every given filter (all of them when none is given)."""
        with self._lock:
            gone = [
                scope
                for scope in self._faults
                if service in (None, scope[0])
                and operation in (None, scope[1])
                and region in (None, scope[2])
            ]
            removed = [self._faults.pop(scope) for scope in gone]
        for fault in removed:
            fault.released.set()
        return removed

    def clear(self) -> None:
        self.remove()


class ApiFaultInjector:
    """Applies the matching fault to a call before it is dispatched."""

    def __init__(
        self,
        store: ApiFaultStore,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        hang_seconds: float = HANG_SECONDS,
    ) -> None:
        self.store = store
        self.rng = rng or random.Random()
        self.clock = clock
        self.hang_seconds = hang_seconds

    def refusal(self, request: AwsRequest) -> AwsError | None:
        """Wait as the fault says, then the error to answer instead of serving, if any;
        ConnectionReset when the call's connection is to be reset instead.

        A fault cleared or replaced while the call waits is looked up again, so clearing a
        hang lets held calls through at once and replacing it applies the new fault.
        """
        api = request_api(request)
        if api is None:
            return None
        fault = self._hold(api, request.region)
        if fault is None:
            return None
        if fault.reset_rate and self.rng.random() < fault.reset_rate:
            raise ConnectionReset(f"{api} connection reset by an API fault")
        if fault.throttle_rate and self.rng.random() < fault.throttle_rate:
            return throttling_error(request)
        if fault.error_rate and self.rng.random() < fault.error_rate:
            return server_error(request)
        return None

    def _hold(self, api: ApiName, region: str) -> ApiFault | None:
        """Hang and delay the call as its fault says; the fault in force once that is over."""
        hang_until = self.clock() + self.hang_seconds
        fault = self.store.match(api, region)
        while fault is not None:
            hanging = fault.hang and self.clock() < hang_until
            delay = max(0.0, hang_until - self.clock()) if hanging else fault.latency_ms / 1000
            if delay and fault.released.wait(delay):
                fault = self.store.match(api, region)  # cleared or replaced meanwhile
            elif not hanging:
                return fault
            # else the hang gave up: the fault's other effects apply on the next turn
        return None
