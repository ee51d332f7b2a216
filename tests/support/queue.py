"""Stepping Celery tasks in tests, the way a worker would run them.

The suite runs Celery eagerly (CELERY_TASK_ALWAYS_EAGER): a task sent without a countdown
runs at once, in the test, and its errors surface there. A task sent with a countdown (a
poll, a retry) is held instead of being run at once and recursively: `HeldTasks.run()`
releases the held tasks, and the ones they delay in turn, after a short real wait, as the
broker would after each countdown. Tests that start a real worker, or take the broker
down, switch eager mode off and reach the real `apply_async`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from celery.app.task import Task
from django.test import TestCase


class HeldTasks:
    """Tasks sent with a countdown, kept until `run()` (thread-safe: race tests enqueue from
    several threads)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Task, list[Any], dict[str, Any], float]] = []
        self.lock = threading.Lock()

    def add(self, task: Task, args: Any, kwargs: Any, countdown: float) -> None:
        with self.lock:
            self.calls.append((task, list(args or []), dict(kwargs or {}), float(countdown)))

    def __len__(self) -> int:
        with self.lock:
            return len(self.calls)

    def names(self) -> list[str]:
        """The held tasks' names, in the order they were sent."""
        with self.lock:
            return [task.name for task, *_ in self.calls]

    def countdowns(self) -> list[float]:
        with self.lock:
            return [countdown for *_, countdown in self.calls]

    def run_next(self, *, wait: float = 0.05) -> Any:
        """Run the oldest held task (after at most `wait` seconds of its countdown), as if its
        transaction committed: its own on-commit work (the next poll) then runs or is held."""
        with self.lock:
            task, args, kwargs, countdown = self.calls.pop(0)
        time.sleep(min(countdown, wait))
        with TestCase.captureOnCommitCallbacks(execute=True):
            return task.apply(args=args, kwargs=kwargs, throw=True).get()

    def run(self, *, timeout: float = 10.0, wait: float = 0.05) -> int:
        """Run held tasks, and the ones they delay in turn, until none is left."""
        deadline = time.monotonic() + timeout
        ran = 0
        while len(self):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"delayed tasks still running after {timeout} s: {self.names()}"
                )
            self.run_next(wait=wait)
            ran += 1
        return ran

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()


def hold_countdowns(held: HeldTasks) -> Any:
    """A replacement for `Task.apply_async` that holds countdown tasks in eager mode."""
    real = Task.apply_async

    def apply_async(self: Task, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        if self.app.conf.task_always_eager and options.get("countdown"):
            held.add(self, args, kwargs, options["countdown"])
            return None
        return real(self, args, kwargs, **options)

    return apply_async
