"""A fake portal: answers by method and path, recording what the command line sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE = "https://portal.example.com"
Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


def problem(status: int, title: str, detail: str, **extra: Any) -> httpx.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return httpx.Response(
        status, content=json.dumps(body), headers={"content-type": "application/problem+json"}
    )


def endpoint(id: int = 7, name: str = "fraud-detection", region: str = "us-east-1") -> dict:
    return {
        "id": id,
        "name": name,
        "target": "sandbox",
        "account_id": "123456789012",
        "region": region,
        "status": "InService",
        "hosting": "instances",
        "synced_at": "2026-12-04T16:00:05.123456+00:00",
        "variants": [
            {
                "name": "A",
                "is_shadow": False,
                "model_name": "fraud-v1",
                "current_weight": 3.0,
                "desired_weight": 3.0,
                "instance_type": "ml.m5.large",
                "current_instance_count": 1,
                "desired_instance_count": 1,
            },
            {
                "name": "B",
                "is_shadow": False,
                "model_name": "fraud-v2",
                "current_weight": 1.0,
                "desired_weight": 1.0,
                "instance_type": "ml.c5.xlarge",
                "current_instance_count": 2,
                "desired_instance_count": 3,
            },
        ],
    }


def shift(state: str, id: int = 42, outcome: str = "") -> dict:
    return {
        "id": id,
        "state": state,
        "change_type": "traffic",
        "endpoint_id": 7,
        "endpoint_name": "fraud-detection",
        "proposed_by": "operator",
        "reason": "B wins",
        "before": {"A": 75, "B": 25},
        "after": {"A": 50, "B": 50},
        "created_at": "2026-12-04T16:01:00Z",
        "outcome": outcome,
        "url": f"/shifts/{id}/",
    }


@dataclass
class FakePortal:
    """Answers by (method, path): a list is answered in turn, its last answer repeated."""

    answers: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Answer | dict) -> None:
        self.answers[(method, path)] = [
            httpx.Response(201 if method == "POST" else 200, json=a) if isinstance(a, dict) else a
            for a in answers
        ]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.answers.get((request.method, request.url.path))
        if not queue:
            return problem(404, "Not Found", f"No route {request.method} {request.url.path}.")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request) if callable(answer) else answer

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]
