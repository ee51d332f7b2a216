"""The fake portal behind httpx's MockTransport, and the command line run in-process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from fake_portal import BASE, FakePortal

from opsportal_cli import client, waiting
from opsportal_cli.main import main


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Sleeps return at once and move a fake clock, so waits and retries take no time."""
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    for module in (client, waiting):
        monkeypatch.setattr(module.time, "sleep", sleep)
        monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    return slept


@pytest.fixture
def portal(monkeypatch: pytest.MonkeyPatch, clock: list[float]) -> FakePortal:
    fake = FakePortal()
    monkeypatch.setattr(httpx, "HTTPTransport", lambda **_: httpx.MockTransport(fake.handle))
    monkeypatch.setenv("OPSPORTAL_URL", BASE)
    monkeypatch.setenv("OPSPORTAL_TOKEN", "tok-operator")
    return fake


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def invoke(*argv: str) -> Result:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
