"""Shadow variants: the copy of production traffic SageMaker sends to a shadow variant.

An endpoint config with ShadowProductionVariants has one production variant and one shadow.
Every request the production variant takes is copied to the shadow with the probability
its weights give — the shadow's weight relative to the production variant's, so a shadow
of weight 0.5 beside a production variant of weight 1 gets half the requests, and one of
equal weight or more gets them all (AWS: "the traffic sampling percentage"). The shadow
answers with its own model, faults and failures; its answer is dropped and never reaches
the caller, but its invocations, errors and latency are published under its own
VariantName, its container logs are written, and data capture sees it, as on AWS.

Copies run on a small pool of threads after the production answer is decided, so a slow or
failing shadow never delays or fails the caller. When the pool is saturated (a shadow slowed
by an injected latency) further copies are dropped rather than queued without end.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sandbox.endpoints import EndpointRecord
from sandbox.variants import VariantState

logger = logging.getLogger(__name__)

WORKERS = 2
MAX_IN_FLIGHT = 32


def sampling_fraction(production: VariantState, shadow: VariantState) -> float:
    """The share of the production variant's requests copied to the shadow (0 to 1)."""
    production_weight = production.current_weight or 0.0
    shadow_weight = shadow.current_weight or 0.0
    if production_weight <= 0.0 or shadow_weight <= 0.0:
        return 0.0
    return min(1.0, shadow_weight / production_weight)


def shadows_to_copy(
    record: EndpointRecord, production: VariantState, rng: random.Random
) -> list[VariantState]:
    """The shadow variants that receive a copy of one request served by ``production``.

    A multi-model shadow is left out: its copy would need the request's TargetModel loaded
    on the shadow, which the sandbox does not do.
    """
    if record.variant(production.name) is None:
        return []
    return [
        shadow
        for shadow in record.shadow_variants
        if shadow.model_data_prefix is None and rng.random() < sampling_fraction(production, shadow)
    ]


class ShadowCopies:
    """Runs shadow copies off the caller's thread, with a bound on copies in flight."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="shadow-copy")
        self._in_flight = threading.BoundedSemaphore(MAX_IN_FLIGHT)

    def send(self, serve_copy: Callable[[], None]) -> bool:
        """Start one copy; False when too many are already running and this one is dropped."""
        if not self._in_flight.acquire(blocking=False):
            return False
        try:
            self._pool.submit(self._run, serve_copy)
        except RuntimeError:  # the pool is shut down: the sandbox is stopping
            self._in_flight.release()
            return False
        return True

    def _run(self, serve_copy: Callable[[], None]) -> None:
        try:
            serve_copy()
        except Exception:
            # The shadow's answer, error or crash is dropped, as SageMaker drops it; the
            # metrics and container logs already say what happened.
            logger.debug("shadow copy failed", exc_info=True)
        finally:
            self._in_flight.release()
