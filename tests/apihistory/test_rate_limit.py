"""The shared LookupEvents limiter: slots spaced above 1/rate for threads and processes
together, in a file (one machine without Redis) and in Redis; and the ingest lock."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from apihistory.rate_limit import FileLimiter, Limiter, RedisLimiter, exclusive, spacing
from tests.apihistory import most_in_any_window

BASE_DIR = Path(__file__).resolve().parents[2]
RATE = 10  # fast enough for a test; the spacing logic is the same at 2
CALLS = 4
_CHILD = """
import sys, time
from pathlib import Path
from apihistory.rate_limit import FileLimiter, RedisLimiter
kind, where, key, rate, calls, at = sys.argv[1:]
limiter = FileLimiter(Path(where)) if kind == "file" else RedisLimiter(where)
time.sleep(max(0.0, float(at) - time.time()))
for _ in range(int(calls)):
    limiter.acquire(key, rate=float(rate))
    print(time.time(), flush=True)
"""


def _contend(make: Callable[[], Limiter], kind: str, where: str, key: str) -> list[float]:
    """Two threads here and two other processes take CALLS slots each, all starting at once."""
    at = time.time() + 2.0  # time for the children to start
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, kind, where, key, str(RATE), str(CALLS), str(at)],
            cwd=BASE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    stamps: list[float] = []

    def take() -> None:
        limiter = make()
        time.sleep(max(0.0, at - time.time()))
        for _ in range(CALLS):
            limiter.acquire(key, rate=RATE)
            stamps.append(time.time())

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for child in children:
        out, _ = child.communicate(timeout=30)
        assert child.returncode == 0
        stamps.extend(float(line) for line in out.split())
    return sorted(stamps)


def _assert_paced(stamps: list[float]) -> None:
    assert len(stamps) == 4 * CALLS
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert min(gaps) >= 1 / RATE, gaps  # slots are 1/RATE + margin apart; sleep never early
    assert most_in_any_window(stamps, 1.0) <= RATE
    # ... and nobody waits for nothing: the whole run takes about one spacing per call.
    assert stamps[-1] - stamps[0] <= (len(stamps) - 1) * spacing(RATE) + 0.5


def test_spacing_never_fits_three_calls_in_a_second_at_two_a_second():
    assert 2 * spacing(2) > 1.0
    assert 1 / spacing(2) >= 0.94 * 2  # and costs at most 6 % of the allowance


def test_file_slots_are_shared_by_threads_and_processes(tmp_path):
    directory = str(tmp_path / "limiter")
    stamps = _contend(lambda: FileLimiter(Path(directory)), "file", directory, "acct-region")
    _assert_paced(stamps)


def test_a_key_does_not_wait_for_another(tmp_path):
    limiter = FileLimiter(tmp_path)
    limiter.acquire("a", rate=1)
    started = time.monotonic()
    assert limiter.acquire("b", rate=1) == 0.0
    assert time.monotonic() - started < 0.2
    assert limiter.acquire("a", rate=1) > 0.5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis for these tests: REDIS_URL when set (CI), else a private redis-server when
    one is installed, else fakeredis serving the Redis protocol over TCP (with Lua, which
    the limiter's script needs), so the test runs on a machine with only Python too."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        yield from _fake_redis()
        return
    yield from _private_redis(binary, tmp_path_factory.mktemp("redis"))


def _fake_redis() -> Iterator[str]:
    from fakeredis import TcpFakeServer

    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, name="fake-redis", daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{server.server_address[1]}/0"
    finally:
        server.shutdown()
        server.server_close()


def _private_redis(binary: str, folder: Path) -> Iterator[str]:
    import redis

    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_redis_slots_are_shared_by_threads_and_processes(redis_url):
    key = f"acct-region-{time.time_ns()}"
    stamps = _contend(lambda: RedisLimiter(redis_url), "redis", redis_url, key)
    _assert_paced(stamps)


def _assert_one_holder() -> None:
    with exclusive("123456789012-us-east-1", timeout=30) as first:
        with exclusive("123456789012-us-east-1", timeout=30) as second:
            assert first and not second
        with exclusive("123456789012-eu-west-1", timeout=30) as other_region:
            assert other_region
    with exclusive("123456789012-us-east-1", timeout=30) as again:
        assert again


def test_the_ingest_lock_without_redis(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.VAR_DIR = tmp_path
    _assert_one_holder()


def test_the_ingest_lock_in_redis_expires_with_a_dead_holder(settings, redis_url):
    settings.REDIS_URL = redis_url
    _assert_one_holder()
    with exclusive("stuck", timeout=1) as held:
        assert held
        time.sleep(1.2)  # as if the holder had died: the lock lapses
        with exclusive("stuck", timeout=1) as taken_over:
            assert taken_over
