"""Periodic work in a daemon thread that stops promptly with the server.

The sandbox publishes each minute's metrics once the minute is over, writes data capture
files and evaluates alarms without anyone asking, as AWS does. One small helper runs each
such loop so that every background thread starts with ``start()`` and is gone after
``stop()`` (a restarted server must not keep a previous run's threads).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Periodic:
    """Calls ``action`` every ``interval`` seconds until stopped; failures are logged, not fatal."""

    def __init__(self, name: str, interval: float, action: Callable[[], object]) -> None:
        if interval <= 0:
            raise ValueError(f"{name}: the interval must be positive, got {interval}.")
        self.name = name
        self.interval = interval
        self.action = action
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.action()
            except Exception:
                logger.exception("Background task %s failed", self.name)
