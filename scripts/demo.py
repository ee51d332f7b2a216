"""`make demo`: run the whole portal on the sandbox, on this machine, with nothing installed.

Starts the sandbox (seeded with the demo world), migrates, creates the demo users and
prints their passwords, syncs the inventory once, then runs a Celery worker, Celery beat
and gunicorn on http://127.0.0.1:8000. A worker, beat or web server that dies is started
again; Ctrl-C stops everything it started.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
WEB_PORT = int(os.environ.get("OPSPORTAL_DEMO_PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("OPSPORTAL_SANDBOX_PORT", "5005"))


def demo_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OPSPORTAL_SECURE", "false")
    env.setdefault("AWS_ENDPOINT_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
    env.setdefault("AWS_ACCESS_KEY_ID", "AKIAOPSPORTALDEMO000")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "sandbox-not-a-secret")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env.setdefault("OPSPORTAL_TARGETS", "sandbox=123456789012:us-east-1,eu-west-1")
    # Sync more often than production's minute, so the demo shows endpoints coming up.
    env.setdefault("OPSPORTAL_SYNC_INTERVAL_SECONDS", "15")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pump(name: str, stream: object, out: TextIO) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        out.write(f"[{name}] {line}")
        out.flush()


@dataclass
class Child:
    name: str
    args: list[str]
    restart: bool
    proc: subprocess.Popen[str]
    started: float = field(default_factory=time.monotonic)
    quick_exits: int = 0


class Supervisor:
    """Starts child processes and keeps them running.

    A child started with `restart=True` (worker, beat, web) is started again when it exits,
    as a process manager would after an OOM kill; one that keeps dying within seconds of
    starting is a setup problem, and stops the demo with its name. Any other child ending
    (the sandbox, whose world is in memory) stops everything, newest first.
    """

    QUICK_EXIT_SECONDS = 30
    MAX_QUICK_EXITS = 5

    def __init__(self, env: dict[str, str], *, cwd: Path = ROOT, out: TextIO | None = None) -> None:
        self.env = env
        self.cwd = cwd
        # A file for the children's output (each line prefixed with its name); else this
        # process's own output.
        self.log = out
        self.out = out or sys.stdout
        self.children: list[Child] = []

    def _spawn(self, args: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            args,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def start(
        self, name: str, args: list[str], *, wait_for: str | None = None, restart: bool = False
    ) -> Child:
        proc = self._spawn(args)
        child = Child(name=name, args=args, restart=restart, proc=proc)
        self.children.append(child)
        if wait_for:
            deadline = time.monotonic() + 120
            assert proc.stdout is not None
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    raise SystemExit(f"{name} exited before it was ready (code {proc.wait()}).")
                self.out.write(f"[{name}] {line}")
                if wait_for in line:
                    break
            else:
                raise SystemExit(f"{name} was not ready within 120 s.")
        threading.Thread(target=pump, args=(name, proc.stdout, self.out), daemon=True).start()
        return child

    def run(self, args: list[str]) -> None:
        subprocess.run(
            args, cwd=self.cwd, env=self.env, check=True, stdout=self.log, stderr=self.log
        )

    def stop(self) -> None:
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
            print(f"\n{child.name} exited {child.quick_exits} times within seconds of starting.")
            return False
        # The rest of its process group (a killed worker's pool children) goes with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.proc.pid, signal.SIGKILL)
        print(f"\n{child.name} exited with code {code}; starting it again.")
        child.proc = self._spawn(child.args)
        child.started = time.monotonic()
        threading.Thread(
            target=pump, args=(child.name, child.proc.stdout, self.out), daemon=True
        ).start()
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
                    print(f"\n{child.name} exited with code {code}; stopping the demo.")
                    return 1
                if not self._restart(child, code):
                    return 1
        return 0


def main() -> int:
    for port, what in ((WEB_PORT, "portal"), (SANDBOX_PORT, "sandbox")):
        if not port_free(port):
            print(f"Port {port} (the {what}) is already in use; stop whatever runs there first.")
            return 1
    env = demo_environment()
    supervisor = Supervisor(env)

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        supervisor.start(
            "sandbox",
            [
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
            ],
            wait_for="http://",
        )
        supervisor.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"])
        supervisor.run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"])
        supervisor.run([PY, "manage.py", "sync_inventory"])
        supervisor.run([PY, "manage.py", "sync_alarms"])
        supervisor.run([PY, "manage.py", "sync_transform_jobs"])
        # The demo world's week of API history (beat then keeps it current every minute).
        supervisor.run([PY, "manage.py", "ingest_cloudtrail", "--since", "7d"])
        supervisor.run([PY, "manage.py", "sync_model_monitor"])
        supervisor.start(
            "worker",
            [
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
            ],
            restart=True,
        )
        supervisor.start(
            "beat",
            [PY, "-m", "celery", "-A", "opsportal", "beat", "--loglevel", "INFO"],
            restart=True,
        )
        supervisor.start(
            "web",
            [
                PY,
                "-m",
                "gunicorn",
                "opsportal.wsgi",
                "--bind",
                f"127.0.0.1:{WEB_PORT}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
            ],
            restart=True,
        )
        print("\nDemo logins (passwords are new each start):")
        supervisor.run([PY, "manage.py", "seed_demo_users"])
        print(
            f"\nOps Portal is running on http://127.0.0.1:{WEB_PORT}  (Ctrl-C stops everything)\n"
        )
        return supervisor.watch()
    except KeyboardInterrupt:
        print("\nStopping…")
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"\nA setup step failed: {' '.join(exc.cmd)} (exit {exc.returncode})")
        return 1
    finally:
        supervisor.stop()


if __name__ == "__main__":
    sys.exit(main())
