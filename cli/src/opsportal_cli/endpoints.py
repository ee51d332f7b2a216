"""``opsportal endpoints``: the inventory, and finding one endpoint by its name."""

from __future__ import annotations

from typing import Any

import click

from opsportal_cli.client import Failure
from opsportal_cli.context import json_option, list_options, listing, more_hint, portal, show, when
from opsportal_cli.tables import Column, fields, shares, table

ENDPOINT_COLUMNS: list[Column] = [
    ("id", lambda e: e.get("id")),
    ("name", lambda e: e.get("name")),
    ("target", lambda e: e.get("target")),
    ("region", lambda e: e.get("region")),
    ("status", lambda e: e.get("status")),
    ("traffic", lambda e: shares(e.get("variants") or [])),
    ("synced", lambda e: when(e.get("synced_at"))),
]


def _instances(variant: dict[str, Any]) -> str:
    current = variant.get("current_instance_count")
    desired = variant.get("desired_instance_count")
    if current is None and desired is None:
        return ""
    if desired is None or desired == current:
        return str(current)
    return f"{current if current is not None else '-'} (desired {desired})"


VARIANT_COLUMNS: list[Column] = [
    ("variant", lambda v: f"{v.get('name')} (shadow)" if v.get("is_shadow") else v.get("name")),
    ("model", lambda v: v.get("model_name")),
    ("weight", lambda v: v.get("current_weight")),
    ("desired weight", lambda v: v.get("desired_weight")),
    ("instance type", lambda v: v.get("instance_type")),
    ("instances", _instances),
]


def render_endpoints(page: dict[str, Any]) -> str:
    items = page.get("items") or []
    if not items:
        return "No endpoints."
    return table(items, ENDPOINT_COLUMNS)


def render_endpoint(endpoint: dict[str, Any]) -> str:
    variants = endpoint.get("variants") or []
    head = fields(
        [
            ("Endpoint", endpoint.get("name")),
            ("Id", endpoint.get("id")),
            ("Target", endpoint.get("target")),
            ("Account", endpoint.get("account_id")),
            ("Region", endpoint.get("region")),
            ("Status", endpoint.get("status")),
            ("Hosting", endpoint.get("hosting")),
            ("Traffic", shares(variants)),
            ("Synced", when(endpoint.get("synced_at"))),
            ("Page", portal().absolute(str(endpoint.get("url") or ""))),
        ]
    )
    if not variants:
        return head
    return f"{head}\n\n{table(variants, VARIANT_COLUMNS)}"


def find_endpoint(name: str, *, target: str, region: str) -> dict[str, Any]:
    """The one endpoint with this exact name (in this target and region, when given). Names
    repeat across accounts and regions: then the person chooses, rather than the CLI."""
    where = "/".join(part for part in (target, region) if part)
    page = (
        portal()
        .api()
        .get("endpoints", {"name": name, "target": target, "region": region, "limit": 200})
    )
    found = [e for e in (page.get("items") or []) if e.get("name") == name]
    if not found:
        raise Failure(f"no endpoint is named {name!r}" + (f" in {where}" if where else ""))
    if len(found) > 1:
        places = ", ".join(f"{e.get('target')}/{e.get('region')}" for e in found)
        raise Failure(
            f"{len(found)} endpoints are named {name!r} ({places}): choose one with "
            "--target and --region"
        )
    return found[0]


def where_options(function: Any) -> Any:
    function = click.option("--region", default="", help="The endpoint's AWS region.")(function)
    function = click.option(
        "--target", default="", help="The endpoint's target (account) as the portal names it."
    )(function)
    return function


@click.group()
def endpoints() -> None:
    """SageMaker endpoints in the portal's inventory."""


@endpoints.command("list")
@click.option("--target", default="", help="Only this target (account), as the portal names it.")
@click.option("--region", default="", help="Only this AWS region.")
@click.option("--status", default="", help="Only this status, e.g. InService.")
@click.option("--name", default="", help="Only endpoints with exactly this name.")
@list_options
@json_option
def endpoints_list(
    target: str,
    region: str,
    status: str,
    name: str,
    limit: int,
    cursor: str,
    every: bool,
    as_json: bool,
) -> None:
    """List endpoints with their status and traffic split."""
    filters = {"target": target, "region": region, "status": status, "name": name}
    page = listing("endpoints", filters, limit=limit, cursor=cursor, every=every)
    show(page, as_json, render_endpoints)
    if not as_json:
        more_hint(page)


@endpoints.command("show")
@click.argument("name")
@where_options
@json_option
def endpoints_show(name: str, target: str, region: str, as_json: bool) -> None:
    """Show the endpoint named NAME and its variants."""
    found = find_endpoint(name, target=target, region=region)
    show(portal().api().get(f"endpoints/{found['id']}"), as_json, render_endpoint)
