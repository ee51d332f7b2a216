"""A task for worker tests: it writes the id of the process that ran it to a file, so a
test can wait for a real worker to run something and then kill exactly that process."""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.support.probe_tasks.record_pid")
def record_pid(path: str, pause: float = 0.0) -> None:
    time.sleep(pause)
    Path(path).write_text(str(os.getpid()))
