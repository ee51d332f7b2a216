"""`make demo`'s output: which lines reach the terminal, and what the files under var/log/
and var/demo-logins.txt hold (scripts/demo_logs.py)."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from scripts.demo_logs import LineFilter, ProcessLog, Terminal, write_logins

CELERY_INFO = [
    "[2025-06-01 10:00:00,001: INFO/MainProcess] Task endpoints.tasks.sync[ab12] received\n",
    "[2025-06-01 10:00:00,210: INFO/ForkPoolWorker-1] Task endpoints.tasks.sync[ab12] "
    "succeeded in 0.2s: None\n",
    "[2025-06-01 10:00:15,000: INFO/MainProcess] Scheduler: Sending due task sync (sync)\n",
]
DJANGO_403 = [
    "2025-06-01 10:00:01,000 WARNING django.request Forbidden (Permission denied): /shifts/1/\n",
    "Traceback (most recent call last):\n",
    '  File "/x/django/core/handlers/exception.py", line 55, in inner\n',
    "    response = get_response(request)\n",
    "django.core.exceptions.PermissionDenied\n",
    '127.0.0.1 - - [01/Jun/2025:10:00:01 +0000] "POST /shifts/1/ HTTP/1.1" 403 1234 "-" "x"\n',
]
DJANGO_404 = ["2025-06-01 10:00:02,000 WARNING django.request Not Found: /nope/\n"]
CSRF_403 = ["2025-06-01 10:00:02,500 WARNING django.security.csrf Forbidden (CSRF): /login/\n"]
DJANGO_500 = [
    "2025-06-01 10:00:03,000 ERROR django.request Internal Server Error: /endpoints/\n",
    "Traceback (most recent call last):\n",
    '  File "/x/endpoints/views.py", line 10, in index\n',
    "ZeroDivisionError: division by zero\n",
]
ACCESS_500 = '127.0.0.1 - - [01/Jun/2025:10:00:03 +0000] "GET /endpoints/ HTTP/1.1" 500 0 "-" "x"\n'
CELERY_BANNER = [
    " \n",
    " -------------- celery@demo v5.4.0 (opalescent)\n",
    "--- ***** ----- \n",
    "[tasks]\n",
    "  . endpoints.tasks.sync_inventory\n",
]


def _shown(lines: list[str], line_filter: LineFilter | None = None) -> list[str]:
    line_filter = line_filter or LineFilter()
    return [line for line in lines if line_filter.shows(line)]


def test_celery_info_lines_and_its_banner_stay_off_the_terminal():
    assert _shown(CELERY_BANNER + CELERY_INFO) == []


def test_warnings_and_errors_reach_the_terminal_with_their_tracebacks():
    failure = [
        "[2025-06-01 10:00:04,000: ERROR/ForkPoolWorker-2] Task sync[cd34] raised "
        "unexpected: ValueError('x')\n",
        "Traceback (most recent call last):\n",
        '  File "/x/celery/app/trace.py", line 453, in trace_task\n',
        "ValueError: x\n",
    ]
    warning = [
        "[2025-06-01 10:00:05,000: WARNING/ForkPoolWorker-1] inventory sync sandbox/eu-west-1 "
        "failed: timed out\n"
    ]

    assert _shown(CELERY_INFO + failure + CELERY_INFO + warning + CELERY_INFO) == (
        failure + warning
    )


def test_expected_4xx_are_answers_not_faults_but_a_500_is_shown():
    lines = DJANGO_403 + DJANGO_404 + CSRF_403 + DJANGO_500 + [ACCESS_500]

    assert _shown(lines) == DJANGO_500


def test_gunicorn_shows_its_listening_line_and_warnings_not_its_info():
    lines = [
        "[2025-06-01 10:00:00 +0000] [41] [INFO] Starting gunicorn 23.0.0\n",
        "[2025-06-01 10:00:00 +0000] [41] [INFO] Listening at: http://127.0.0.1:8000 (41)\n",
        "[2025-06-01 10:00:00 +0000] [42] [INFO] Booting worker with pid: 42\n",
        "[2025-06-01 10:09:00 +0000] [41] [CRITICAL] WORKER TIMEOUT (pid:42)\n",
        "[2025-06-01 10:09:01 +0000] [41] [WARNING] Worker with pid 42 was terminated\n",
    ]

    assert _shown(lines) == [lines[1], lines[3], lines[4]]


def test_each_process_ready_line_is_shown():
    lines = [
        "2025-06-01 10:00:00,000 INFO sandbox.server: training the demo models\n",
        "Sandbox ready at http://127.0.0.1:5005 (seed: demo, traffic: 1/s per endpoint)\n",
        "[2025-06-01 10:00:09,000: INFO/MainProcess] Connected to filesystem://localhost//\n",
        "[2025-06-01 10:00:09,500: INFO/MainProcess] celery@demo ready.\n",
        "2025-06-01 10:00:10,000 WARNING sandbox.traffic: fraud-detection answered 500\n",
    ]

    assert _shown(lines) == [lines[1], lines[3], lines[4]]


def test_a_traceback_nobody_logged_is_a_crash_and_is_shown():
    crash = [
        "Traceback (most recent call last):\n",
        '  File "<frozen runpy>", line 198, in _run_module_as_main\n',
        "ModuleNotFoundError: No module named 'opsportal'\n",
    ]

    assert _shown(CELERY_BANNER + crash) == crash
    assert _shown(CELERY_INFO + crash) == crash


def test_a_python_warning_is_shown_up_to_its_source_line_and_the_banner_after_it_is_not():
    warning = [
        "/x/celery/platforms.py:893: SecurityWarning: You're running the worker with "
        "superuser privileges: this is\n",
        "absolutely not recommended!\n",
        "\n",
        "User information: uid=0 euid=0 gid=0 egid=0\n",
        "\n",
        "  _warn_or_raise_security_error(egid, euid, gid, uid,\n",
    ]

    assert _shown(warning + CELERY_BANNER + CELERY_INFO) == [
        line for line in warning if line != "\n"
    ]


def test_banners_stay_off_the_terminal_even_right_after_a_shown_record():
    beat_banner = [
        "celery beat v5.7.0 (collider) is starting.\n",
        "__    -    ... __   -        _\n",
        "LocalTime -> 2026-12-04 12:20:07\n",
        "    . broker -> filesystem://:**@localhost//\n",
    ]
    warning = ["2026-12-04 12:20:07,297 WARNING opsportal beat started late\n"]

    assert _shown(warning + beat_banner) == warning
    assert _shown(warning + CELERY_BANNER) == warning


def test_kombus_idle_no_hostname_warning_and_what_follows_it_stay_in_the_file():
    lines = [
        "[2026-12-04 12:20:53,193: WARNING/MainProcess] No hostname was supplied. "
        "Reverting to default 'localhost'\n",
        "2026-12-04 12:20:07,297 WARNING kombu.connection No hostname was supplied. "
        "Reverting to default 'localhost'\n",
        "__    -    ... __   -        _\n",
        "LocalTime -> 2026-12-04 12:20:07\n",
    ]

    assert _shown(lines) == []


def test_a_restarted_process_starts_without_the_last_record():
    line_filter = LineFilter()
    _shown(DJANGO_500[:1], line_filter)
    line_filter.reset()

    assert _shown(CELERY_BANNER, line_filter) == []


def test_process_log_keeps_every_line_in_its_file_and_shows_only_the_picked_ones(tmp_path):
    out = io.StringIO()
    log = ProcessLog("web", tmp_path / "log", Terminal(out))
    lines = DJANGO_403 + CELERY_INFO + DJANGO_500

    for line in lines:
        log.line(line)
    log.close()

    assert log.path == tmp_path / "log" / "web.log"
    assert log.path.read_text() == "".join(lines)
    assert out.getvalue() == "".join(f"[web] {line}" for line in DJANGO_500)


def test_process_log_keeps_the_previous_demos_file_once(tmp_path):
    terminal = Terminal(io.StringIO())
    for run in ("first", "second", "third"):
        log = ProcessLog("worker", tmp_path, terminal)
        log.line(f"{run} run\n")
        log.close()

    assert (tmp_path / "worker.log").read_text() == "third run\n"
    assert (tmp_path / "worker.log.1").read_text() == "second run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["worker.log", "worker.log.1"]


def test_process_log_files_are_readable_only_by_their_owner(tmp_path):
    (tmp_path / "beat.log").write_text("old\n")
    (tmp_path / "beat.log").chmod(0o644)
    old_umask = os.umask(0)
    try:
        log = ProcessLog("beat", tmp_path, Terminal(io.StringIO()))
    finally:
        os.umask(old_umask)
    log.close()

    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


@pytest.mark.parametrize("existing_mode", [None, 0o644])
def test_the_logins_file_is_only_ever_readable_by_its_owner(tmp_path, existing_mode):
    path = tmp_path / "var" / "demo-logins.txt"
    if existing_mode is not None:
        path.parent.mkdir()
        path.write_text("stale\n")
        path.chmod(existing_mode)
    old_umask = os.umask(0)
    try:
        write_logins(path, "username  role  password\nviewer  Viewer  s3cret")
    finally:
        os.umask(old_umask)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "username  role  password\nviewer  Viewer  s3cret\n"
    assert [p.name for p in path.parent.iterdir()] == ["demo-logins.txt"]


def test_the_logins_file_is_created_0600_not_narrowed_afterwards(tmp_path, monkeypatch):
    """No moment where another user could open it: the mode is given to os.open itself."""
    created: list[tuple[str, int]] = []
    real_open = os.open

    def recording_open(path: str | Path, flags: int, mode: int = 0o777) -> int:
        created.append((Path(path).name, mode))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", recording_open)
    write_logins(tmp_path / "demo-logins.txt", "table")

    assert created and all(mode == 0o600 for _, mode in created)


def test_once_the_demo_is_stopping_children_are_no_longer_echoed():
    out = io.StringIO()
    terminal = Terminal(out)
    terminal.echo("[worker] before\n")
    terminal.mute()
    terminal.echo("[worker] WARNING sandbox gone\n")
    terminal.say("Stopping…")

    assert out.getvalue() == "[worker] before\nStopping…\n"
