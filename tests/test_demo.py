"""`make demo` (scripts/demo.py) with stand-in children: full output in var/log/, a quiet
terminal, the logins printed last and kept in a 0600 file, never in a log."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from textwrap import dedent

import pytest

from scripts import demo
from scripts.demo import Supervisor

PY = sys.executable
PASSWORD = "Zq9-not-a-real-password-Xw"
TABLE = f"username  role    password\nviewer    Viewer  {PASSWORD}\n"


def _script(code: str) -> list[str]:
    return [PY, "-u", "-c", dedent(code)]


# Stand-ins that print what the real processes print, in their formats.
SANDBOX = _script(
    """
    import time
    print("2025-06-01 10:00:00,000 INFO sandbox.server: training the demo models")
    print("Sandbox ready at http://127.0.0.1:5005 (seed: demo)")
    time.sleep(60)
    """
)
WORKER = _script(
    """
    import time
    print(" -------------- celery@test v5.7.0 (collider)")
    print("[2025-06-01 10:00:01,000: INFO/MainProcess] celery@test ready.")
    while True:
        print("[2025-06-01 10:00:02,000: INFO/MainProcess] Task endpoints.tasks.sync[1] received")
        time.sleep(0.02)
    """
)
BEAT = _script(
    """
    import time
    print("[2025-06-01 10:00:01,000: INFO/MainProcess] beat: Starting...")
    while True:
        print("[2025-06-01 10:00:02,000: INFO/MainProcess] Scheduler: Sending due task sync")
        time.sleep(0.02)
    """
)
WEB = _script(
    """
    import sys, time
    print("[2025-06-01 10:00:01 +0000] [7] [INFO] Listening at: http://127.0.0.1:8000 (7)")
    print("2025-06-01 10:00:02,000 WARNING django.request Forbidden (Permission denied): /x/")
    print("Traceback (most recent call last):")
    print("django.core.exceptions.PermissionDenied")
    print('127.0.0.1 - - [01/Jun/2025:10:00:02 +0000] "GET /x/ HTTP/1.1" 403 10 "-" "t"')
    time.sleep(60)
    """
)
# The table comes through the environment, so the command line (which the logs do show)
# holds no password, as the real command's does not.
SEED = _script(
    """
    import os, sys
    print("2025-06-01 10:00:03,000 INFO audit seeded", file=sys.stderr)
    sys.stdout.write(os.environ["DEMO_TEST_TABLE"])
    """
)


@pytest.fixture
def supervisor(tmp_path: Path):
    out = io.StringIO()
    env = {**os.environ, "DEMO_TEST_TABLE": TABLE}
    supervisor = Supervisor(env, out=out, log_dir=tmp_path / "var" / "log")
    yield supervisor
    supervisor.stop()


def _terminal(supervisor: Supervisor) -> str:
    out = supervisor.terminal.out
    assert isinstance(out, io.StringIO)
    return out.getvalue()


def _log_text(log_dir: Path) -> str:
    return "".join(path.read_text() for path in sorted(log_dir.iterdir()))


def test_a_setup_steps_output_goes_to_its_file_and_only_its_warnings_to_the_terminal(
    supervisor,
):
    supervisor.run(
        _script(
            """
            import sys
            print("sandbox/us-east-1: 3 listed, 3 described, 0 new")
            print("2025-06-01 10:00:00,000 WARNING endpoints inventory sync failed: timeout",
                  file=sys.stderr)
            """
        )
    )

    setup_log = (supervisor.log_dir / "setup.log").read_text()
    assert "3 listed, 3 described" in setup_log
    assert "inventory sync failed" in setup_log
    assert _terminal(supervisor) == (
        "[setup] 2025-06-01 10:00:00,000 WARNING endpoints inventory sync failed: timeout\n"
    )


def test_a_failed_setup_step_shows_how_its_output_ended(supervisor):
    with pytest.raises(subprocess.CalledProcessError) as failure:
        supervisor.run(_script('print("no such table: endpoints_endpoint"); raise SystemExit(3)'))

    demo.setup_failed(supervisor, failure.value)

    terminal = _terminal(supervisor)
    assert "A setup step failed" in terminal and "(exit 3)" in terminal
    assert "  no such table: endpoints_endpoint" in terminal
    assert str(supervisor.log_dir / "setup.log") in terminal


def test_captured_output_is_returned_and_never_logged(supervisor):
    table = supervisor.capture(SEED)

    assert table == TABLE
    assert PASSWORD not in _log_text(supervisor.log_dir)
    assert "audit seeded" in (supervisor.log_dir / "setup.log").read_text()
    assert PASSWORD not in _terminal(supervisor)


def test_start_up_prints_the_logins_last_keeps_them_out_of_the_logs_and_idles_quietly(
    supervisor, tmp_path, monkeypatch
):
    monkeypatch.setattr(demo, "sandbox_args", lambda: SANDBOX)
    monkeypatch.setattr(demo, "STEPS", [("Migrating the database", _script("print('ok')"))])
    monkeypatch.setattr(demo, "WORKER_ARGS", WORKER)
    monkeypatch.setattr(demo, "BEAT_ARGS", BEAT)
    monkeypatch.setattr(demo, "web_args", lambda: WEB)
    monkeypatch.setattr(demo, "SEED_ARGS", SEED)
    logins = tmp_path / "var" / "demo-logins.txt"

    table = demo.start_everything(supervisor)
    demo.write_logins(logins, table)
    demo.show_logins(supervisor, table, logins)
    shown = _terminal(supervisor)
    # The worker and beat log INFO lines fifty times a second: none reaches the terminal.
    stop = threading.Event()
    stop.wait(1)

    assert _terminal(supervisor) == shown
    lines = shown.splitlines()
    assert lines[0] == "[demo] Starting the sandbox with the demo world…"
    assert "[sandbox] Sandbox ready at http://127.0.0.1:5005 (seed: demo)" in lines
    assert "[worker] [2025-06-01 10:00:01,000: INFO/MainProcess] celery@test ready." in lines
    assert any(line.startswith("[web] ") and "Listening at:" in line for line in lines)
    assert not any("Task endpoints" in line or "Forbidden" in line for line in lines)
    ready = lines.index(f"Ops Portal is ready at http://127.0.0.1:{demo.WEB_PORT} — sign in as:")
    assert ready > lines.index("[demo] Creating the demo users…")
    assert f"  viewer    Viewer  {PASSWORD}" in lines[ready:]
    assert not any(line.startswith("[") for line in lines[ready:])
    assert f"cat {logins}" in shown
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    assert logins.read_text() == TABLE
    files = sorted(path.name for path in supervisor.log_dir.iterdir())
    assert files == ["beat.log", "sandbox.log", "setup.log", "web.log", "worker.log"]
    all_logs = _log_text(supervisor.log_dir)
    assert "Task endpoints.tasks.sync[1] received" in all_logs
    assert "Forbidden (Permission denied)" in all_logs
    assert PASSWORD not in all_logs


def test_a_child_that_keeps_dying_stops_the_demo_and_its_file_says_so(supervisor):
    supervisor.QUICK_EXIT_SECONDS = 60
    supervisor.MAX_QUICK_EXITS = 2
    supervisor.start("beat", _script("print('Error: no schedule file'); raise SystemExit(1)"))
    supervisor.children[0].restart = True

    assert supervisor.watch() == 1

    beat_log = (supervisor.log_dir / "beat.log").read_text()
    assert beat_log.splitlines().count("Error: no schedule file") == 2
    assert "exited with code 1; starting it again" in beat_log
    terminal = _terminal(supervisor)
    assert "beat exited with code 1; starting it again." in terminal
    assert "beat exited 2 times within seconds of starting" in terminal


def test_enter_prints_the_logins_again():
    read, write = os.pipe()
    shown: list[int] = []
    os.write(write, b"\n\nx\n")
    os.close(write)

    demo.reprint_on_enter(read, lambda: shown.append(1))
    os.close(read)

    assert len(shown) == 3


def test_logs_go_where_the_settings_put_var(tmp_path):
    assert demo.var_dir({}) == demo.ROOT / "var"
    assert demo.var_dir({"OPSPORTAL_VAR_DIR": str(tmp_path)}) == tmp_path
    assert demo.var_dir({"OPSPORTAL_VAR_DIR": "elsewhere"}, tmp_path) == tmp_path / "elsewhere"
    supervisor = Supervisor({"OPSPORTAL_VAR_DIR": str(tmp_path)}, out=io.StringIO())
    assert supervisor.log_dir == tmp_path / "log"


def test_a_setup_step_does_not_outlive_a_demo_stopped_during_it(supervisor, monkeypatch):
    """Steps run in sessions of their own, out of reach of the terminal's Ctrl-C."""
    started: list[subprocess.Popen[str]] = []
    spawn = supervisor._spawn

    def recording_spawn(args: list[str], log: object) -> subprocess.Popen[str]:
        started.append(spawn(args, log))
        return started[-1]

    def interrupted(_line: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(supervisor, "_spawn", recording_spawn)
    monkeypatch.setattr(supervisor.log("setup"), "line", interrupted)

    with pytest.raises(KeyboardInterrupt):
        supervisor.run(_script("import time; print('ingesting', flush=True); time.sleep(60)"))

    assert started[0].poll() is not None
