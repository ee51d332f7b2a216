"""Inference components' utilization metrics, published once a minute as SageMaker does.

AWS publishes, per completed minute and for every InService component whether or not it had
traffic, in ``/aws/sagemaker/InferenceComponents`` with the dimension InferenceComponentName:

CPUUtilizationNormalized
    Percent of the CPU cores the component's copies reserve (copies x
    NumberOfCpuCoresRequired), so 100 means every reserved core was busy all minute. The
    sandbox derives it from the minute's model seconds plus a little per-request work, over
    copies x cores x 60 s, above a small idle floor.
MemoryUtilizationNormalized
    Percent of the memory the copies reserve (MinMemoryRequiredInMb): a steady footprint of
    the loaded model server plus a little per request and copy.

The per-request metrics (Invocations, InvocationsPerCopy, errors, ModelLatency in
AWS/SageMaker) are counted as requests happen (``sandbox.inference_components``); this
module only keeps what a minute of utilization needs: requests and model seconds.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sandbox.endpoint_metrics import CPU_SECONDS_PER_INVOCATION, MAX_CATCH_UP_MINUTES, PERCENT
from sandbox.metric_store import MINUTE, MetricDatum, MetricStore

COMPONENT_NAMESPACE = "/aws/sagemaker/InferenceComponents"
# An idle model server still polls and answers health checks: a floor under the CPU.
IDLE_CPU_PERCENT = 1.5
# The loaded model and its server hold this share of the reserved memory at rest.
BASE_MEMORY_PERCENT = 30.0
MEMORY_PER_INVOCATION_PER_COPY = 0.02

ComponentKey = tuple[str, str, str]  # account, region, component name


@dataclass(frozen=True)
class ServingComponent:
    """What a minute's utilization needs to know of one InService component."""

    account_id: str
    region: str
    name: str
    copies: int
    cores: float


def component_utilization(
    *, copies: int, cores: float, invocations: float, model_seconds: float, noise: float = 0.0
) -> tuple[float, float]:
    """CPUUtilizationNormalized and MemoryUtilizationNormalized (Percent) for one minute."""
    reserved_core_seconds = max(1, copies) * (cores or 1.0) * MINUTE
    busy = invocations * CPU_SECONDS_PER_INVOCATION + model_seconds
    cpu = IDLE_CPU_PERCENT + 100.0 * busy / reserved_core_seconds + noise
    memory = BASE_MEMORY_PERCENT + MEMORY_PER_INVOCATION_PER_COPY * invocations / max(1, copies)
    return (
        round(min(100.0, max(0.0, cpu)), 2),
        round(min(100.0, max(0.0, memory + noise / 4)), 2),
    )


def utilization_data(name: str, cpu: float, memory: float) -> list[MetricDatum]:
    dimensions = (("InferenceComponentName", name),)
    return [
        MetricDatum("CPUUtilizationNormalized", dimensions, [cpu], None, PERCENT),
        MetricDatum("MemoryUtilizationNormalized", dimensions, [memory], None, PERCENT),
    ]


class ComponentMetrics:
    """Collects each component's requests per minute and publishes its utilization."""

    def __init__(
        self,
        store: MetricStore,
        serving: Callable[[], Iterable[ServingComponent]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.serving = serving
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: dict[tuple[ComponentKey, int], tuple[int, float]] = {}
        self._published_until: dict[ComponentKey, int] = {}
        self._checked = 0
        self._noise = random.Random()

    def record(self, account_id: str, region: str, name: str, model_seconds: float) -> None:
        """Count one request, and the seconds its model took, in the current minute."""
        minute = int(self.clock() // MINUTE) * MINUTE
        key = ((account_id, region, name), minute)
        with self._lock:
            invocations, seconds = self._pending.get(key, (0, 0.0))
            self._pending[key] = (invocations + 1, seconds + model_seconds)

    def flush(self) -> int:
        """Publish utilization for every completed minute not yet published, for each InService
        component; returns the PutMetricData calls made (one per account, region and minute).

        A component first seen now starts with the next completed minute, as a variant does.
        """
        current = int(self.clock() // MINUTE) * MINUTE
        with self._lock:
            if current <= self._checked:
                return 0
            self._checked = current
            loads = {k: v for k, v in self._pending.items() if k[1] < current}
            for key in loads:
                del self._pending[key]
        batches: dict[tuple[str, str, int], list[MetricDatum]] = {}
        for component in self.serving():
            name: ComponentKey = (component.account_id, component.region, component.name)
            with self._lock:
                start = self._published_until.get(name, current)
                start = max(start, current - MAX_CATCH_UP_MINUTES * MINUTE)
                self._published_until[name] = max(start, current)
            for minute in range(start, current, MINUTE):
                invocations, seconds = loads.get((name, minute), (0, 0.0))
                cpu, memory = component_utilization(
                    copies=component.copies,
                    cores=component.cores,
                    invocations=invocations,
                    model_seconds=seconds,
                    noise=self._noise.gauss(0.0, 0.2),
                )
                batches.setdefault((component.account_id, component.region, minute), []).extend(
                    utilization_data(component.name, cpu, memory)
                )
        for (account, region, minute), data in batches.items():
            self.store.put_batch(account, region, COMPONENT_NAMESPACE, minute, data)
        return len(batches)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._published_until.clear()
            self._checked = 0
