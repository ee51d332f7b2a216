"""`make demo`: run the whole portal on the sandbox, on this machine, with nothing installed.

Starts the sandbox (seeded with the demo world), migrates, syncs the inventory once, runs a
Celery worker, Celery beat and gunicorn on http://127.0.0.1:8000, then creates the demo
users and prints their passwords last, once everything is up (also into
var/demo-logins.txt, readable only by you; Enter prints them again). A worker, beat or web
server that dies is started again; Ctrl-C stops everything it started.

Every process's full output goes to its own file under var/log/; the terminal shows one
line per start-up step, warnings and errors, and each process's "ready" line (see
scripts/demo_logs.py for which lines those are).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
# `python scripts/demo.py` puts only scripts/ on the path; its helpers import as scripts.*.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.demo_logs import ProcessLog, Terminal, write_logins  # noqa: E402

PY = sys.executable
WEB_PORT = int(os.environ.get("OPSPORTAL_DEMO_PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("OPSPORTAL_SANDBOX_PORT", "5005"))
LOGINS_FILE = "demo-logins.txt"


def demo_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OPSPORTAL_SECURE", "false")
    env.setdefault("AWS_ENDPOINT_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
    env.setdefault("AWS_ACCESS_KEY_ID", "AKIAOPSPORTALDEMO000")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "sandbox-not-a-secret")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # Production, and staging reached through its OpsPortalRead role (the sandbox's demo
    # world has both accounts; the role trusts production).
    env.setdefault(
        "OPSPORTAL_TARGETS",
        "sandbox=123456789012:us-east-1,eu-west-1 "
        "staging=210987654321:us-east-1:arn:aws:iam::210987654321:role/OpsPortalRead",
    )
    # Sync more often than production's minute, so the demo shows endpoints coming up.
    env.setdefault("OPSPORTAL_SYNC_INTERVAL_SECONDS", "15")
    # /metrics for a Prometheus on this machine (README "Metrics and logs").
    env.setdefault("OPSPORTAL_METRICS_ALLOWED_NETWORKS", "127.0.0.1/32")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def var_dir(env: dict[str, str], cwd: Path = ROOT) -> Path:
    """The var/ folder the children's settings use: OPSPORTAL_VAR_DIR (relative to where
    they run) or the repository's var/, as opsportal/settings.py chooses it."""
    chosen = Path(env.get("OPSPORTAL_VAR_DIR") or ROOT / "var")
    return chosen if chosen.is_absolute() else cwd / chosen


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pump(stream: object, log: ProcessLog) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        log.line(line)


@dataclass
class Child:
    name: str
    args: list[str]
    restart: bool
    proc: subprocess.Popen[str]
    log: ProcessLog
    started: float = field(default_factory=time.monotonic)
    quick_exits: int = 0


class Supervisor:
    """Starts child processes and keeps them running.

    A child started with `restart=True` (worker, beat, web) is started again when it exits,
    as a process manager would after an OOM kill; one that keeps dying within seconds of
    starting is a setup problem, and stops the demo with its name. Any other child ending
    (the sandbox, whose world is in memory) stops everything, newest first.

    Each child's output goes to `<log_dir>/<name>.log` (setup commands share setup.log);
    the terminal gets only the lines scripts/demo_logs.py picks, prefixed with the name.
    """

    QUICK_EXIT_SECONDS = 30
    MAX_QUICK_EXITS = 5

    def __init__(
        self,
        env: dict[str, str],
        *,
        cwd: Path = ROOT,
        out: TextIO | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.env = env
        self.cwd = cwd
        self.terminal = Terminal(out or sys.stdout)
        self.log_dir = log_dir or var_dir(env, cwd) / "log"
        self.children: list[Child] = []
        self._logs: dict[str, ProcessLog] = {}

    def say(self, text: str = "") -> None:
        self.terminal.say(text)

    def log(self, name: str) -> ProcessLog:
        """The file for `name`, opened once a demo (so a restart appends to it)."""
        if name not in self._logs:
            self._logs[name] = ProcessLog(name, self.log_dir, self.terminal)
        return self._logs[name]

    def logs(self) -> list[ProcessLog]:
        """The files written so far, in the order their processes started."""
        return list(self._logs.values())

    def _spawn(self, args: list[str], log: ProcessLog) -> subprocess.Popen[str]:
        log.note("$ " + " ".join(args))
        return subprocess.Popen(
            args,
            cwd=self.cwd,
            env=self.env,
            # The terminal's input is the demo's (Enter prints the logins again).
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def _pump(self, child: Child) -> None:
        threading.Thread(target=pump, args=(child.proc.stdout, child.log), daemon=True).start()

    def start(
        self, name: str, args: list[str], *, wait_for: str | None = None, restart: bool = False
    ) -> Child:
        log = self.log(name)
        proc = self._spawn(args, log)
        child = Child(name=name, args=args, restart=restart, proc=proc, log=log)
        self.children.append(child)
        if wait_for:
            deadline = time.monotonic() + 120
            assert proc.stdout is not None
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    raise SystemExit(
                        f"{name} exited before it was ready (code {proc.wait()}); "
                        f"its output is in {log.path}."
                    )
                log.line(line)
                if wait_for in line:
                    break
            else:
                raise SystemExit(f"{name} was not ready within 120 s; see {log.path}.")
        self._pump(child)
        return child

    def run(self, args: list[str]) -> None:
        """Run a setup command to its end, its output into setup.log (warnings shown)."""
        log = self.log("setup")
        log.recent.clear()
        proc = self._spawn(args, log)
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                log.line(line)
        except BaseException:
            # Ctrl-C or SIGTERM mid-step: the step runs in a session of its own, so the
            # terminal's Ctrl-C never reached it; it must not outlive the demo.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            raise
        if code := proc.wait():
            raise subprocess.CalledProcessError(code, args)

    def capture(self, args: list[str]) -> str:
        """Run a setup command whose standard output is secret (the demo passwords): it is
        returned, never written to a log; its standard error goes into setup.log."""
        log = self.log("setup")
        log.recent.clear()
        log.note("$ " + " ".join(args) + "  (standard output not logged)")
        result = subprocess.run(
            args,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        for line in result.stderr.splitlines():
            log.line(line)
        if result.returncode:
            raise subprocess.CalledProcessError(result.returncode, args)
        return result.stdout

    def stop(self) -> None:
        self.terminal.mute()
        for child in reversed(self.children):
            if child.proc.poll() is None:
                os.killpg(child.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in reversed(self.children):
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.proc.pid, signal.SIGKILL)

    def _restart(self, child: Child, code: int) -> bool:
        """Start an exited child again; False when it keeps dying right after starting."""
        if time.monotonic() - child.started < self.QUICK_EXIT_SECONDS:
            child.quick_exits += 1
        else:
            child.quick_exits = 0
        if child.quick_exits >= self.MAX_QUICK_EXITS:
            child.log.note(f"exited {child.quick_exits} times within seconds of starting")
            self.say(
                f"\n{child.name} exited {child.quick_exits} times within seconds of starting; "
                f"see {child.log.path}."
            )
            return False
        # The rest of its process group (a killed worker's pool children) goes with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.proc.pid, signal.SIGKILL)
        child.log.note(f"exited with code {code}; starting it again")
        self.say(f"\n{child.name} exited with code {code}; starting it again.")
        child.proc = self._spawn(child.args, child.log)
        child.started = time.monotonic()
        self._pump(child)
        return True

    def watch(self, *, stop: threading.Event | None = None) -> int:
        """Until `stop` is set (or forever): restart what may restart, else end the demo."""
        stop = stop or threading.Event()
        while not stop.wait(0.5):
            for child in self.children:
                code = child.proc.poll()
                if code is None:
                    continue
                if not child.restart:
                    child.log.note(f"exited with code {code}; stopping the demo")
                    self.say(
                        f"\n{child.name} exited with code {code}; stopping the demo "
                        f"(see {child.log.path})."
                    )
                    return 1
                if not self._restart(child, code):
                    return 1
        return 0


def show_logins(supervisor: Supervisor, table: str, logins: Path) -> None:
    """The last thing start-up prints: where the portal is and who to sign in as."""
    supervisor.say(f"\nOps Portal is ready at http://127.0.0.1:{WEB_PORT} — sign in as:")
    supervisor.say()
    for row in table.splitlines():
        supervisor.say(f"  {row}")
    again = "press Enter to show them again, or run " if sys.stdin.isatty() else "run "
    files = ", ".join(log.path.name for log in supervisor.logs())
    supervisor.say(
        f"\nThese logins (new passwords each start) are also in {_shown(logins)}, readable "
        f"only by you: {again}`cat {_shown(logins)}`.\n"
        f"Full logs are in {_shown(supervisor.log_dir)}/ ({files}). Ctrl-C stops everything.\n"
    )


def _shown(path: Path) -> str:
    """A path as the user would type it from the repository."""
    with contextlib.suppress(ValueError):
        return str(path.relative_to(ROOT))
    return str(path)


def reprint_on_enter(fd: int, show: Callable[[], None]) -> None:
    """Each Enter on the terminal prints the logins again (the table scrolls away).

    Reads the file descriptor itself, not sys.stdin: a daemon thread blocked inside
    sys.stdin's buffer could stop the interpreter from exiting cleanly.
    """
    while chunk := os.read(fd, 1024):
        for _ in range(chunk.count(b"\n")):
            show()


STEPS: list[tuple[str, list[str]]] = [
    ("Migrating the database", [PY, "manage.py", "migrate", "--noinput", "-v", "0"]),
    ("Collecting static files", [PY, "manage.py", "collectstatic", "--noinput", "-v", "0"]),
    ("Syncing the endpoint inventory", [PY, "manage.py", "sync_inventory"]),
    ("Syncing CloudWatch alarms", [PY, "manage.py", "sync_alarms"]),
    ("Syncing batch transform jobs", [PY, "manage.py", "sync_transform_jobs"]),
    # The demo world's week of API history (beat then keeps it current every minute).
    ("Ingesting a week of API history", [PY, "manage.py", "ingest_cloudtrail", "--since", "7d"]),
    ("Syncing Model Monitor", [PY, "manage.py", "sync_model_monitor"]),
]


def sandbox_args() -> list[str]:
    return [
        PY,
        "-m",
        "sandbox",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(SANDBOX_PORT),
        "--seed",
        "demo",
        # Steady invocations, so metrics, data capture and alarms have something to
        # show; the hourly Model Monitor schedule runs every five minutes.
        "--traffic",
        "1",
        "--clock-speed",
        "12",
    ]


WORKER_ARGS = [
    PY,
    "-m",
    "celery",
    "-A",
    "opsportal",
    "worker",
    "--loglevel",
    "INFO",
    "--concurrency",
    "2",
    "--without-gossip",
    "--without-mingle",
]
BEAT_ARGS = [PY, "-m", "celery", "-A", "opsportal", "beat", "--loglevel", "INFO"]
# Its standard output is the logins table: the terminal and var/demo-logins.txt, no log.
SEED_ARGS = [PY, "manage.py", "seed_demo_users"]


def web_args() -> list[str]:
    return [
        PY,
        "-m",
        "gunicorn",
        "opsportal.wsgi",
        "--bind",
        f"127.0.0.1:{WEB_PORT}",
        # One process, many threads: without Redis the cache is the process's own memory,
        # and API idempotency keys and rate limits must be seen by every request.
        "--workers",
        "1",
        "--threads",
        "8",
        "--access-logfile",
        "-",
    ]


def start_everything(supervisor: Supervisor) -> str:
    """Start the sandbox, set the portal up, start its processes; the logins table.

    Each step waits for what it starts to say it is ready, so the table comes after every
    "ready" line and is the last thing on the terminal.
    """
    step = supervisor.say
    step("[demo] Starting the sandbox with the demo world…")
    supervisor.start("sandbox", sandbox_args(), wait_for="Sandbox ready at")
    for label, args in STEPS:
        step(f"[demo] {label}…")
        supervisor.run(args)
    step("[demo] Starting the Celery worker…")
    supervisor.start("worker", WORKER_ARGS, wait_for=" ready.", restart=True)
    step("[demo] Starting Celery beat…")
    supervisor.start("beat", BEAT_ARGS, wait_for="beat: Starting", restart=True)
    step(f"[demo] Starting the web server on port {WEB_PORT}…")
    supervisor.start("web", web_args(), wait_for="Listening at:", restart=True)
    step("[demo] Creating the demo users…")
    return supervisor.capture(SEED_ARGS)


def setup_failed(supervisor: Supervisor, exc: subprocess.CalledProcessError) -> None:
    """Say which step failed and the end of what it printed (all of it is in setup.log)."""
    log = supervisor.log("setup")
    command = " ".join(str(arg) for arg in exc.cmd[1:])
    supervisor.say(f"\nA setup step failed: {command} (exit {exc.returncode}). It ended with:")
    for line in log.recent:
        supervisor.say(f"  {line.rstrip()}")
    supervisor.say(f"All of its output is in {_shown(log.path)}.")


def main() -> int:
    for port, what in ((WEB_PORT, "portal"), (SANDBOX_PORT, "sandbox")):
        if not port_free(port):
            print(f"Port {port} (the {what}) is already in use; stop whatever runs there first.")
            return 1
    env = demo_environment()
    supervisor = Supervisor(env)
    logins = var_dir(env) / LOGINS_FILE

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        supervisor.say(
            f"Ops Portal demo: each process's full output goes to {_shown(supervisor.log_dir)}/."
        )
        table = start_everything(supervisor)
        write_logins(logins, table)

        def show() -> None:
            show_logins(supervisor, table, logins)

        show()
        if sys.stdin.isatty():
            threading.Thread(
                target=reprint_on_enter, args=(sys.stdin.fileno(), show), daemon=True
            ).start()
        return supervisor.watch()
    except KeyboardInterrupt:
        supervisor.say("\nStopping…")
        return 0
    except subprocess.CalledProcessError as exc:
        setup_failed(supervisor, exc)
        return 1
    finally:
        supervisor.stop()


if __name__ == "__main__":
    sys.exit(main())
