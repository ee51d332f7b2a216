"""AWS targets: the accounts and regions the portal operates.

`OPSPORTAL_TARGETS` holds one or more entries separated by `;` or whitespace:

    NAME=ACCOUNT_ID:REGION[,REGION...][:ROLE_ARN]

for example `sandbox=123456789012:us-east-1,eu-west-1` or
`prod=111122223333:us-east-1:arn:aws:iam::111122223333:role/OpsPortalRead`. Credentials
come from the standard AWS chain; the optional role is assumed per account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


class TargetConfigError(ValueError):
    """A malformed OPSPORTAL_TARGETS value; the message names the bad entry."""


@dataclass(frozen=True)
class Target:
    """One AWS account the portal operates, in one or more regions."""

    name: str
    account_id: str
    regions: tuple[str, ...]
    role_arn: str | None = None


def parse_targets(value: str) -> tuple[Target, ...]:
    """Parse OPSPORTAL_TARGETS, refusing anything ambiguous so start-up fails loudly."""
    entries = [e for e in re.split(r"[;\s]+", value.strip()) if e]
    if not entries:
        raise TargetConfigError("no target given (expected NAME=ACCOUNT_ID:REGION[,REGION]).")
    targets: list[Target] = []
    for entry in entries:
        targets.append(_parse_entry(entry))
    names = [t.name for t in targets]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise TargetConfigError(f"target name {duplicates[0]!r} is used more than once.")
    accounts = [t.account_id for t in targets]
    dup_accounts = sorted({a for a in accounts if accounts.count(a) > 1})
    if dup_accounts:
        raise TargetConfigError(f"account {dup_accounts[0]} appears in more than one target.")
    return tuple(targets)


def _parse_entry(entry: str) -> Target:
    def bad(why: str) -> TargetConfigError:
        return TargetConfigError(f"bad entry {entry!r}: {why}")

    name, sep, rest = entry.partition("=")
    if not sep:
        raise bad("expected NAME=ACCOUNT_ID:REGION[,REGION][:ROLE_ARN].")
    if not _NAME.match(name):
        raise bad(f"name {name!r} must be lowercase letters, digits and dashes.")
    parts = rest.split(":", 2)
    if len(parts) < 2:
        raise bad("expected ACCOUNT_ID:REGION after the name.")
    account_id, regions_raw = parts[0], parts[1]
    role_arn = parts[2] if len(parts) == 3 else None
    if not _ACCOUNT.match(account_id):
        raise bad(f"account id {account_id!r} must be 12 digits.")
    regions = tuple(r for r in regions_raw.split(",") if r)
    if not regions:
        raise bad("no region given.")
    for region in regions:
        if not _REGION.match(region):
            raise bad(f"region {region!r} is not a region name such as us-east-1.")
    if len(set(regions)) != len(regions):
        raise bad("a region is listed twice.")
    if role_arn is not None and not _ROLE_ARN.match(role_arn):
        raise bad(f"role {role_arn!r} is not an IAM role ARN.")
    return Target(name=name, account_id=account_id, regions=regions, role_arn=role_arn)


def configured_targets() -> tuple[Target, ...]:
    """The targets named in OPSPORTAL_TARGETS (parsed and checked at start-up)."""
    from django.conf import settings

    return tuple(settings.OPSPORTAL_TARGETS)


def target_regions() -> list[tuple[Target, str]]:
    """Every configured (target, region) pair, in configuration order: the unit every sync,
    fan-out and health check works per."""
    return [(target, region) for target in configured_targets() for region in target.regions]


def target_by_name(name: str) -> Target:
    """The configured target called `name`; LookupError names the missing one."""
    for target in configured_targets():
        if target.name == name:
            return target
    raise LookupError(f"No target named {name!r} in OPSPORTAL_TARGETS.")
