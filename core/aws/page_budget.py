"""The time budget of AWS reads made while a web request is served.

A page that waits on AWS holds a web thread: with AWS hanging, ten waiting panels used to
occupy every gunicorn thread and take pages that never call AWS down with them. So inside
a request (`AwsPageBudgetMiddleware`) every AWS call is made with short timeouts and a
single attempt, and all of them together stop at OPSPORTAL_AWS_PAGE_BUDGET_SECONDS: a
call that could not finish within what is left is not started. Background tasks keep the
longer timeouts and retries of `clients.client_config`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from celery import current_app
from django.conf import settings

from core.aws.errors import Unavailable

# Read timeouts come in these steps, so a handful of cached clients cover every budget.
STEP_SECONDS = 0.5


class BudgetSpent(Unavailable):
    """The page's AWS time is used up: the read was not made."""


class PageBudget:
    """The AWS time one request may spend; the clock starts at its first AWS call, so the
    database work before it takes nothing from AWS's share."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.monotonic()

    def remaining(self) -> float:
        if self.started is None:
            return self.seconds
        return self.seconds - (time.monotonic() - self.started)


@dataclass(frozen=True)
class CallTimeouts:
    connect: float
    read: float


_current: ContextVar[PageBudget | None] = ContextVar("aws_page_budget", default=None)


@contextmanager
def page_budget() -> Iterator[PageBudget]:
    """AWS calls made inside the block share one budget (nested blocks share the outer)."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    budget = PageBudget(settings.OPSPORTAL_AWS_PAGE_BUDGET_SECONDS)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def current_budget() -> PageBudget | None:
    """The budget of the request being served; None in a command or a Celery task, even
    one run eagerly inside a request (it is background work all the same)."""
    if current_app.current_task is not None:
        return None
    return _current.get()


def call_timeouts(budget: PageBudget, *, operation: str = "") -> CallTimeouts:
    """Timeouts for the next call so that connecting plus reading ends within the budget;
    BudgetSpent when less than one step of reading would be left."""
    budget.start()
    connect = float(settings.OPSPORTAL_AWS_PAGE_CONNECT_TIMEOUT)
    read = min(
        float(settings.OPSPORTAL_AWS_PAGE_READ_TIMEOUT),
        math.floor((budget.remaining() - connect) / STEP_SECONDS) * STEP_SECONDS,
    )
    if read < STEP_SECONDS:
        raise BudgetSpent(
            "this page's time for AWS is used up; showing what could be read",
            code="PageBudgetSpent",
            operation=operation,
        )
    return CallTimeouts(connect=connect, read=read)
