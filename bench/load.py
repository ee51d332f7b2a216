"""`python -m bench load`: the portal under 50 and 200 signed-in readers, healthy and not.

Starts the whole portal as docker-compose runs it (bench/load_stack.py), then drives it
with locust, headless, over every page a reader opens (bench/load_locustfile.py): with AWS
healthy, with 20 % of SageMaker and CloudWatch calls throttled, and with GetMetricData
hanging. Prints requests/s, p50/p95/p99 and errors per page, then the verdicts:

- healthy and throttled: p95 ≤ 300 ms at 50 users, ≤ 800 ms at 200 users;
- no errors in any run (anything but a 200);
- with GetMetricData hanging, the database pages' p95 within 2× of the healthy run's.

Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL, else the local ones); says so and
stops when they are unreachable. Everything it starts is stopped when it ends.

python -m bench load [--seconds 60]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load_plan import load_plan_write
from bench.load_stack import PY, Unavailable, stack_start
from sandbox.testing import api_fault, clear_api_faults

USERS = (50, 200)
P95_TARGET_MS = {50: 300, 200: 800}
LOCUSTFILE = Path(__file__).with_name("load_locustfile.py")


@dataclass(frozen=True)
class Scenario:
    name: str
    faults: tuple[dict[str, Any], ...] = ()


SCENARIOS = (
    Scenario("healthy"),
    Scenario(
        "20% throttled",
        (
            {"api": "sagemaker:*", "throttle_rate": 0.2},
            {"api": "cloudwatch:*", "throttle_rate": 0.2},
        ),
    ),
    Scenario("GetMetricData hanging", ({"api": "cloudwatch:GetMetricData", "hang": True},)),
)


@dataclass
class Timings:
    """Requests of one page (or several) in one run."""

    requests: int
    failures: int
    seconds: float
    times: Counter[int]

    def percentile(self, share: float) -> int:
        """The response time (ms) under which `share` of the requests finished."""
        wanted = share * sum(self.times.values())
        seen = 0
        for ms in sorted(self.times):
            seen += self.times[ms]
            if seen >= wanted:
                return ms
        return 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @classmethod
    def merged(cls, parts: list[Timings]) -> Timings:
        times: Counter[int] = Counter()
        for part in parts:
            times.update(part.times)
        return cls(
            requests=sum(p.requests for p in parts),
            failures=sum(p.failures for p in parts),
            seconds=max((p.seconds for p in parts), default=0.0),
            times=times,
        )


@dataclass
class Run:
    scenario: str
    users: int
    pages: dict[str, Timings]
    errors: Counter[str]

    def total(self, names: set[str] | None = None) -> Timings:
        return Timings.merged(
            [t for name, t in self.pages.items() if names is None or name in names]
        )


def locust_run(*, scenario: str, host: str, plan: Path, users: int, seconds: int, out: Path) -> Run:
    """One headless locust run, ramp-up included (its errors count too)."""
    stem = out / f"u{users}-{time.monotonic_ns()}"
    # Locust exits 1 when a request failed: the failures are read from its files instead.
    subprocess.run(
        [PY, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host]
        + ["--users", str(users), "--spawn-rate", str(max(users // 4, 1))]
        + ["--run-time", f"{seconds}s", "--stop-timeout", "10", "--only-summary"]
        + ["--skip-log", "--json-file", str(stem), "--csv", str(stem)],
        env={**os.environ, "OPSPORTAL_LOAD_PLAN": str(plan)},
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    entries = json.loads(stem.with_suffix(".json").read_text())
    pages = {}
    for entry in entries:
        last = entry["last_request_timestamp"] or entry["start_time"]
        pages[entry["name"]] = Timings(
            requests=entry["num_requests"],
            failures=entry["num_failures"],
            seconds=max(last - entry["start_time"], 0.0),
            times=Counter({int(ms): n for ms, n in entry["response_times"].items()}),
        )
    errors: Counter[str] = Counter()
    with Path(f"{stem}_failures.csv").open(newline="") as failures:
        for row in csv.DictReader(failures):
            errors[f"{row['Name']}: {row['Error']}"] += int(row["Occurrences"])
    return Run(scenario=scenario, users=users, pages=pages, errors=errors)


def report(run: Run) -> None:
    total = run.total()
    print(
        f"\n== {run.users} users, {run.scenario}: {total.rps:.1f} requests/s, "
        f"{total.failures} errors"
    )
    print(f"  {'page':<20} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}")
    for name, t in sorted(run.pages.items()) + [("all pages", total)]:
        print(
            f"  {name:<20} {t.requests:>8} {t.percentile(0.5):>7} {t.percentile(0.95):>7} "
            f"{t.percentile(0.99):>7} {t.failures:>6}"
        )
    for error, count in run.errors.most_common():
        print(f"  error ×{count}: {error}")


def verdicts(runs: list[Run], database_pages: set[str]) -> list[tuple[bool, str]]:
    found: list[tuple[bool, str]] = []
    by_key = {(r.scenario, r.users): r for r in runs}
    for run in runs:
        p95 = run.total().percentile(0.95)
        if run.scenario != "GetMetricData hanging":
            target = P95_TARGET_MS[run.users]
            found.append(
                (p95 <= target, f"{run.users} users, {run.scenario}: p95 {p95} ms ≤ {target} ms")
            )
        failures = run.total().failures
        found.append((failures == 0, f"{run.users} users, {run.scenario}: {failures} errors"))
    for users in USERS:
        healthy = by_key.get(("healthy", users))
        hanging = by_key.get(("GetMetricData hanging", users))
        if healthy and hanging:
            before = healthy.total(database_pages).percentile(0.95)
            during = hanging.total(database_pages).percentile(0.95)
            found.append(
                (
                    during <= 2 * max(before, 1),
                    f"{users} users, database pages' p95 with GetMetricData hanging: "
                    f"{during} ms ≤ 2 × {before} ms",
                )
            )
    return found


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench load")
    parser.add_argument("--seconds", type=int, default=60, help="length of each run")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=[s.name for s in SCENARIOS],
        help="run only this scenario (repeatable); all three by default",
    )
    args = parser.parse_args(argv)
    # A stop from outside (SIGTERM) still stops every process it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out = Path(tempfile.mkdtemp(prefix="opsportal-load-results-"))
    log_path = out / "stack.log"
    print(f"load: starting the portal (its processes' output: {log_path})")
    with log_path.open("w") as log:
        try:
            stack = stack_start(log=log)
        except Unavailable as error:
            print(f"load: skipped, {error}")
            return 0
        try:
            plan_path = out / "plan.json"
            plan = load_plan_write(env=stack.env, users=max(USERS), path=plan_path)
            database_pages = {p["name"] for p in plan["pages"] if p["database"]}
            print(
                f"load: {len(plan['endpoints'])} endpoints, {len(plan['pages'])} pages, "
                f"{args.seconds} s per run"
            )
            runs: list[Run] = []
            for scenario in [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]:
                for fault in scenario.faults:
                    api_fault(stack.sandbox_url, **fault)
                try:
                    for users in USERS:
                        result = locust_run(
                            scenario=scenario.name,
                            host=stack.web_url,
                            plan=plan_path,
                            users=users,
                            seconds=args.seconds,
                            out=out,
                        )
                        runs.append(result)
                        report(result)
                finally:
                    clear_api_faults(stack.sandbox_url)
                # Let the breakers close and the queues drain before the next scenario.
                time.sleep(10)
        finally:
            stack.stop()
    print("\nverdicts:")
    results = verdicts(runs, database_pages)
    for ok, text in results:
        print(f"  {'ok  ' if ok else 'MISS'} {text}")
    return 0 if all(ok for ok, _ in results) else 1
