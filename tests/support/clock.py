"""A frozen clock that tests move by hand, for everything that reads the time: Django's
`timezone.now` (model defaults, services) and django-axes, which stamps each sign-in attempt
through its own reference to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import axes.attempts
import axes.handlers.proxy
import pytest
from django.utils import timezone


class Clock:
    """A frozen `timezone.now` the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    frozen = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", frozen)
    monkeypatch.setattr(axes.handlers.proxy, "now", frozen)
    monkeypatch.setattr(axes.attempts, "now", frozen)
    yield frozen
