"""The load benchmark's simulated readers (locust; `python -m bench load` runs it).

Each user holds one signed-in session from the plan (OPSPORTAL_LOAD_PLAN, written by
bench/load_plan.py) and opens a page every one to five seconds, chosen by weight, as a
person reading the console does. Anything but a 200 is an error: a redirect to the login
page included.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, between, task

PLAN = json.loads(Path(os.environ["OPSPORTAL_LOAD_PLAN"]).read_text())
_SESSIONS = itertools.cycle(PLAN["sessions"])
_PAGES = PLAN["pages"]
_WEIGHTS = [page["weight"] for page in _PAGES]


class Reader(FastHttpUser):
    wait_time = between(1, 5)

    def on_start(self) -> None:
        self.cookie = f"{PLAN['cookie']}={next(_SESSIONS)}"

    @task
    def read_a_page(self) -> None:
        page = random.choices(_PAGES, weights=_WEIGHTS)[0]
        url = page["url"].format(endpoint=random.choice(PLAN["endpoints"]))
        with self.client.get(
            url,
            name=page["name"],
            headers={"Cookie": self.cookie},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
