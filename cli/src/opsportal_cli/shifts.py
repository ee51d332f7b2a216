"""``opsportal shift``: propose a traffic shift (and, with ``--wait``, follow it to its end,
the exit status saying how it ended), show one, and decide on one."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import click

from opsportal_cli.context import json_option, portal, show, when
from opsportal_cli.endpoints import find_endpoint, where_options
from opsportal_cli.tables import cell, fields
from opsportal_cli.waiting import EXIT_CODES_HELP, TIMED_OUT, follow, progress_line


def parse_weights(text: str) -> dict[str, int | float]:
    """``A=50,B=50`` as ``{"A": 50, "B": 50}``; whole numbers stay whole in the JSON."""
    weights: dict[str, int | float] = {}
    for part in text.split(","):
        name, sep, number = part.partition("=")
        name = name.strip()
        if not part.strip():
            continue
        if not sep or not name:
            raise click.BadParameter(f"{part.strip()!r} is not VARIANT=WEIGHT")
        try:
            weight = float(number)
        except ValueError:
            raise click.BadParameter(f"{number.strip()!r} is not a number ({name})") from None
        if not math.isfinite(weight) or weight < 0:
            raise click.BadParameter(f"the weight of {name} must be a number ≥ 0")
        if name in weights:
            raise click.BadParameter(f"{name} is given twice")
        weights[name] = int(weight) if weight.is_integer() else weight
    if not weights:
        raise click.BadParameter("give at least one VARIANT=WEIGHT")
    return weights


class WeightsType(click.ParamType):
    name = "A=50,B=50"

    def convert(self, value: Any, param: Any, ctx: Any) -> dict[str, int | float]:
        if isinstance(value, dict):
            return value
        return parse_weights(str(value))


def _side(value: Any) -> str:
    """A before/after state in one line: ``A=50, B=50`` for flat ones, compact JSON else."""
    if isinstance(value, dict) and all(
        isinstance(v, str | int | float | bool) or v is None for v in value.values()
    ):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def render_shift(shift: dict[str, Any]) -> str:
    return fields(
        [
            ("Shift", shift.get("id")),
            ("State", shift.get("state")),
            ("Endpoint", shift.get("endpoint_name")),
            ("Change", shift.get("summary") or shift.get("change_type")),
            ("Proposed by", shift.get("proposed_by")),
            ("Reason", shift.get("reason")),
            ("Before", _side(shift.get("before"))),
            ("After", _side(shift.get("after"))),
            ("Created", when(shift.get("created_at"))),
            ("Outcome", shift.get("outcome")),
            ("Page", portal().absolute(str(shift.get("url") or ""))),
        ]
    )


def say(line: str) -> None:
    click.echo(f"opsportal: {line}", err=True)


@click.group()
def shift() -> None:
    """Traffic shifts: change requests under the two-person rule."""


@shift.command("propose", epilog=EXIT_CODES_HELP)
@click.argument("name")
@click.option(
    "--weights",
    required=True,
    type=WeightsType(),
    help="The new weight of each variant, e.g. A=80,B=20.",
)
@click.option("--reason", required=True, help="Why: the approver and the audit log read it.")
@where_options
@click.option(
    "--wait",
    is_flag=True,
    help="Follow the change request until it ends; the exit status says how (see below).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=3600,
    show_default=True,
    metavar="SECONDS",
    help="With --wait: stop waiting after this long (exit 8).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5,
    show_default=True,
    metavar="SECONDS",
    help="With --wait: seconds between looks at the change request.",
)
@click.option(
    "--idempotency-key",
    default="",
    metavar="KEY",
    help="Sent as Idempotency-Key (default: a new one per run), so a retried request never "
    "proposes twice; reuse one to make a re-run of the same job a no-op.",
)
@json_option
def shift_propose(
    name: str,
    weights: dict[str, int | float],
    reason: str,
    target: str,
    region: str,
    wait: bool,
    timeout: float,
    interval: float,
    idempotency_key: str,
    as_json: bool,
) -> int:
    """Propose new traffic weights for the endpoint named NAME."""
    endpoint = find_endpoint(name, target=target, region=region)
    api = portal().api()
    proposed = api.post(
        "shifts",
        {"endpoint_id": endpoint["id"], "weights": weights, "reason": reason},
        idempotency_key=idempotency_key or str(uuid.uuid4()),
    )
    if not wait:
        show(proposed, as_json, render_shift)
        return 0
    say(f"proposed: {portal().absolute(str(proposed.get('url') or ''))}")
    ended, status = follow(api, proposed, timeout=timeout, interval=interval, say=say)
    show(ended, as_json, render_shift)
    if status == TIMED_OUT:
        say(
            f"gave up waiting after {timeout:g} s: {progress_line(ended)} "
            "(the change request goes on)"
        )
    return status


@shift.command("show")
@click.argument("shift_id", metavar="ID", type=int)
@json_option
def shift_show(shift_id: int, as_json: bool) -> None:
    """Show change request ID."""
    show(portal().api().get(f"shifts/{shift_id}"), as_json, render_shift)


def _decide(shift_id: int, verb: str, body: dict[str, str], as_json: bool) -> None:
    show(portal().api().post(f"shifts/{shift_id}/{verb}", body), as_json, render_shift)


@shift.command("approve")
@click.argument("shift_id", metavar="ID", type=int)
@click.option("--comment", default="", help="A note for the proposer and the audit log.")
@json_option
def shift_approve(shift_id: int, comment: str, as_json: bool) -> None:
    """Approve someone else's change request ID (Approver role)."""
    _decide(shift_id, "approve", {"comment": comment}, as_json)


@shift.command("reject")
@click.argument("shift_id", metavar="ID", type=int)
@click.option("--comment", required=True, help="Why it is rejected.")
@json_option
def shift_reject(shift_id: int, comment: str, as_json: bool) -> None:
    """Reject change request ID (Approver role)."""
    _decide(shift_id, "reject", {"comment": comment}, as_json)


@shift.command("cancel")
@click.argument("shift_id", metavar="ID", type=int)
@click.option("--reason", required=True, help="Why it is withdrawn.")
@json_option
def shift_cancel(shift_id: int, reason: str, as_json: bool) -> None:
    """Withdraw change request ID before it is applied."""
    _decide(shift_id, "cancel", {"reason": reason}, as_json)
