"""Where `make demo`'s output goes: every line of every child to its file under var/log/,
and only what needs a human's eye to the terminal.

At idle the worker and beat log a few INFO lines a second and every expected 403 comes
with a traceback; printed as they come, they scroll the login table away within seconds.
So the terminal gets start-up progress, WARNING and above (except Django's 4xx, which are
answers, not faults, and kombu's idle "no hostname"), a process's own "ready"/"listening"
line, and tracebacks nobody logged; the files keep everything, for when something does go wrong.
"""

from __future__ import annotations

import collections
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

WARNING = 30
ERROR = 40
_LEVELS = {
    "DEBUG": 10,
    "INFO": 20,
    "WARN": WARNING,
    "WARNING": WARNING,
    "ERROR": ERROR,
    "CRITICAL": 50,
    "FATAL": 50,
}

# The first line of a log record, in each format the demo's children write.
_RECORD_STARTS = (
    # Python's logging as settings.LOGGING and the sandbox format it: "<date> <time>,<ms>
    # LEVEL logger[:] message".
    re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[,.]\d+ (?P<level>[A-Z]+) (?P<logger>[\w.-]+)"),
    # Celery's worker and beat: "[<date> <time>,<ms>: LEVEL/ProcessName] message".
    re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+: (?P<level>[A-Z]+)/[^\]]*\]"),
    # gunicorn's error log: "[<date> <time> <zone>] [pid] [LEVEL] message".
    re.compile(r"^\[[^\]]+\] \[\d+\] \[(?P<level>[A-Z]+)\]"),
)
# Celery's start-up banners, multi-line and unprefixed: each a record of its own, kept off
# the terminal even when it follows a shown record.
_BANNERS = re.compile(r"^(?: -{5,} celery@|celery beat v\S+ .*is starting\.|__ +- +\.\.\. __)")
# Warnings that are no fault in the demo, and would recur at idle: kombu says so each time
# it connects to the filesystem broker, whose URL names no host by design.
_KNOWN_HARMLESS = (re.compile(r"No hostname was supplied\. Reverting to default 'localhost'"),)
# gunicorn's access log ("host - user [time] "GET / HTTP/1.1" 200 ..."): one line a request.
_ACCESS_LINE = re.compile(r'^\S+ \S+ \S+ \[[^\]]+\] "')
# What the warnings module prints: "path:line: SomeWarning: message".
_PYTHON_WARNING = re.compile(r"^\S+:\d+: \w*Warning: ")
_TRACEBACK = "Traceback (most recent call last):"
# Django answers a denied or missing page with a 4xx and logs it at WARNING (a 403 with
# its traceback): the page is the answer, not a fault of the portal.
_EXPECTED_4XX_LOGGERS = frozenset({"django.request", "django.security.csrf"})
# A process's own one-line events, shown whatever their level: the sandbox ready, the web
# server listening, the worker ready (again, after a restart).
_EVENTS = (
    re.compile(r"Sandbox ready at "),
    re.compile(r"\[INFO\] Listening at: http"),
    re.compile(r"celery@\S+ ready\."),
)


@dataclass(frozen=True)
class Verdict:
    """One record's level, and whether its lines reach the terminal.

    `ends_indented`: the record ends with its first indented line, as the warnings module
    ends each warning with the source line that raised it.
    """

    level: int
    shown: bool
    ends_indented: bool = False


class LineFilter:
    """Decides, line by line, which of one process's lines the terminal shows.

    A record's continuation lines (a traceback, a multi-line message) go where its first
    line went, less blank ones. Lines outside any record (Celery's start-up banner, a setup
    command's report) stay in the file, but a traceback outside a WARNING-or-worse record
    is a crash nobody logged, and is shown.
    """

    def __init__(self) -> None:
        self._record: Verdict | None = None

    def reset(self) -> None:
        """Forget the record in progress: a restarted process starts afresh."""
        self._record = None

    def shows(self, line: str) -> bool:
        verdict = self._record_started_by(line)
        if verdict is not None:
            self._record = verdict
            return verdict.shown
        record = self._record
        if record is None:
            return False
        if record.ends_indented and line.startswith("  "):
            self._record = None
        # A blank line says nothing on the terminal, and is often a banner's first.
        return record.shown and bool(line.strip())

    def _record_started_by(self, line: str) -> Verdict | None:
        """The verdict on a record this line starts; None for a continuation line."""
        if any(event.search(line) for event in _EVENTS):
            return Verdict(level=_LEVELS["INFO"], shown=True)
        for pattern in _RECORD_STARTS:
            match = pattern.match(line)
            if match and match.group("level") in _LEVELS:
                level = _LEVELS[match.group("level")]
                return _verdict(level, match.groupdict().get("logger"), line)
        if _ACCESS_LINE.match(line) or _BANNERS.match(line):
            return Verdict(level=_LEVELS["INFO"], shown=False)
        if _PYTHON_WARNING.match(line):
            return Verdict(level=WARNING, shown=True, ends_indented=True)
        if line.startswith(_TRACEBACK) and (self._record is None or self._record.level < WARNING):
            return Verdict(level=ERROR, shown=True)
        return None


def _verdict(level: int, logger: str | None, line: str) -> Verdict:
    """A logged record is shown from WARNING up, unless it is an answer or known noise."""
    expected_4xx = level == WARNING and logger in _EXPECTED_4XX_LOGGERS
    harmless = level == WARNING and any(known.search(line) for known in _KNOWN_HARMLESS)
    return Verdict(level=level, shown=level >= WARNING and not (expected_4xx or harmless))


class Terminal:
    """The demo's terminal, one line at a time: the children's pumps write from threads of
    their own, and a line must never be cut into by another."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()
        self._muted = threading.Event()

    def say(self, text: str = "") -> None:
        """The demo's own line (progress, the logins, a child's exit)."""
        with self._lock:
            self.out.write(text if text.endswith("\n") else text + "\n")
            self.out.flush()

    def echo(self, text: str) -> None:
        """A child's line, unless the demo is stopping."""
        if not self._muted.is_set():
            self.say(text)

    def mute(self) -> None:
        """Stop echoing children: once the demo is stopping, what they say as they go down
        (the worker finding the sandbox gone) is in their files, and no news."""
        self._muted.set()


class ProcessLog:
    """One process's file under var/log/, and the filter that picks its terminal lines.

    The previous demo's file is kept as `<name>.log.1`, so the log of a demo that went
    wrong survives starting it again once.
    """

    RECENT_LINES = 40

    def __init__(self, name: str, log_dir: Path, terminal: Terminal) -> None:
        self.name = name
        self.path = log_dir / f"{name}.log"
        self.terminal = terminal
        self.filter = LineFilter()
        # The last lines, for saying what a failed setup step printed.
        self.recent: collections.deque[str] = collections.deque(maxlen=self.RECENT_LINES)
        self._lock = threading.Lock()
        log_dir.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self.path.replace(self.path.with_name(f"{name}.log.1"))
        self._file = open_private(self.path)

    def line(self, text: str) -> None:
        """Write one line of the process's output: to the file always, to the terminal if
        the filter shows it."""
        text = text if text.endswith("\n") else text + "\n"
        with self._lock:
            self._file.write(text)
            self._file.flush()
            self.recent.append(text)
            shown = self.filter.shows(text)
        if shown:
            self.terminal.echo(f"[{self.name}] {text}")

    def note(self, text: str) -> None:
        """The demo's own remark about this process (started, exited), in its file only."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with self._lock:
            self._file.write(f"--- {stamp} demo: {text}\n")
            self._file.flush()
            self.filter.reset()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def open_private(path: Path) -> TextIO:
    """Open a file for appending that only its owner may read, from the first byte: the
    logs hold what users did (who failed to sign in, which pages), and a umask is no
    promise."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    # A file that already existed keeps its mode through os.open: narrow it.
    os.fchmod(descriptor, 0o600)
    return open(descriptor, "a", encoding="utf-8")  # noqa: SIM115 - the caller closes it


def write_logins(path: Path, table: str) -> None:
    """Write the demo's logins where only this user can read them, never wider even briefly.

    Written under a fresh temporary name created 0600, then renamed over the old file, so a
    reader never sees half a table and an old file's wider mode is never reused.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(descriptor, "w", encoding="utf-8") as file:
        file.write(table if table.endswith("\n") else table + "\n")
    os.replace(temporary, path)
