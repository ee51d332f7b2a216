"""STS AssumeRole as AWS does it, and the accounts it reaches.

moto's AssumeRole hands out credentials for any role ARN, existing or not, and trusts
everyone; its temporary keys already act in the role's account (moto files them in that
account's IAM). AWS refuses unless the role exists and its trust policy names the caller (or
the caller's account), with AccessDenied. So the sandbox checks both before moto answers.

It also gives CloudTrail what AWS logs for the call: the caller's event carries the issued
credentials and assumed-role user; when the role is in another account, that account's
trail gets a copy with the same ``sharedEventID``, naming the caller only by account
(``userIdentity.type`` AWSAccount). Calls signed with the temporary key are then recorded
as the assumed role (``arn:aws:sts::<account>:assumed-role/<role>/<session>``).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from sandbox import moto_bridge
from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse
from sandbox.cloudtrail_records import Call, Resource
from sandbox.identities import Identity, identity_for

STS = "sts"


def caller_identity(access_key: str | None, account_id: str) -> Identity:
    """The principal behind a key: a session moto's AssumeRole issued, else the demo's table."""
    if access_key and access_key.startswith("ASIA"):
        session = moto_bridge.role_session(access_key)
        if session is not None:
            name = session.role_arn.rsplit("/", 1)[-1]
            return Identity(
                "AssumedRole",
                name,
                f"{session.role_id}:{session.session_name}",
                session_name=session.session_name,
                account_id=session.account_id,
                path=session.path,
            )
    return identity_for(access_key, account_id)


@dataclasses.dataclass(frozen=True)
class CallerAccount(Identity):
    """How the role's account sees a caller from another account: by account only."""

    def user_identity(self, access_key: str | None, *, when: str) -> dict[str, Any]:
        return {
            "type": "AWSAccount",
            "principalId": self.principal_id,
            "accountId": self.account_id,
        }


def trusts(trust_policy: dict[str, Any], caller: Identity) -> bool:
    """Whether a role's trust policy lets ``caller`` call sts:AssumeRole.

    A principal matches by its ARN, its role's ARN (for a role session), its account's root
    ARN or its bare account id, as IAM evaluates an ``AWS`` principal; an explicit Deny wins.
    """
    names = {caller.arn, caller.account_id, f"arn:aws:iam::{caller.account_id}:root"}
    if caller.kind == "AssumedRole":
        names.add(f"arn:aws:iam::{caller.account_id}:role{caller.path}{caller.name}")
        names.add(f"arn:aws:iam::{caller.account_id}:role/{caller.name}")
    statements = trust_policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, dict) or not _allows_assume(statement.get("Action")):
            continue
        principal = statement.get("Principal")
        listed = principal.get("AWS") if isinstance(principal, dict) else principal
        members = {listed} if isinstance(listed, str) else set(listed or [])
        if "*" in members or members & names:
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _allows_assume(action: Any) -> bool:
    actions = [action] if isinstance(action, str) else list(action or [])
    return any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)


def _params(request: AwsRequest) -> dict[str, str]:
    form = parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True)
    merged = {**request.query, **form}
    return {key: values[0] for key, values in merged.items() if values}


class AssumeRoleApi:
    """Refuses AssumeRole as AWS does; moto issues the credentials of the calls it allows."""

    def operations(self) -> dict[str, Callable[[AwsRequest], WsgiResponse | None]]:
        return {"AssumeRole": self.assume_role}

    def assume_role(self, request: AwsRequest) -> WsgiResponse | None:
        role_arn = _params(request).get("RoleArn")
        if not role_arn:
            return None  # moto answers the missing parameter as AWS does
        caller = caller_identity(request.access_key, request.account_id)
        role = moto_bridge.role_by_arn(role_arn)
        if role is None or not trusts(role.trust_policy, caller):
            raise AwsError(
                "AccessDenied",
                f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on "
                f"resource: {role_arn}",
                403,
            )
        return None


_TAGS = ("AccessKeyId", "SessionToken", "Expiration", "AssumedRoleId", "Arn")


def _issued(body: bytes) -> dict[str, str]:
    text = body.decode("utf-8", errors="replace")
    found = {}
    for tag in _TAGS:
        match = re.search(rf"<{tag}>([^<]*)</{tag}>", text)
        if match:
            found[tag] = match.group(1)
    return found


def _expiration(value: str) -> str:
    """CloudTrail writes AssumeRole's expiration as ``Dec 4, 2026, 9:10:06 PM``."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return value
    hour = when.hour % 12 or 12
    return (
        f"{when:%b} {when.day}, {when.year}, {hour}:{when:%M:%S} {'AM' if when.hour < 12 else 'PM'}"
    )


def trail_copies(
    call: Call, resources: list[Resource], body: bytes
) -> list[tuple[Call, list[Resource]]]:
    """The events one served call makes: itself, and for a successful AssumeRole of another
    account's role, the role account's copy; both then share one ``sharedEventID``."""
    if call.kind.event_source != "sts.amazonaws.com" or call.kind.event_name != "AssumeRole":
        return [(call, resources)]
    if call.error_code is not None:
        return [(call, resources)]
    issued = _issued(body)
    elements = {
        "Credentials": {
            "AccessKeyId": issued.get("AccessKeyId", ""),
            "SessionToken": issued.get("SessionToken", ""),
            "Expiration": _expiration(issued.get("Expiration", "")),
        },
        "AssumedRoleUser": {
            "AssumedRoleId": issued.get("AssumedRoleId", ""),
            "Arn": issued.get("Arn", ""),
        },
    }
    role_arn = str((call.request_parameters or {}).get("RoleArn", ""))
    role_account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else call.account_id
    if role_account == call.account_id:
        return [(dataclasses.replace(call, response_elements=elements), resources)]
    shared = str(uuid.uuid4())
    mine = dataclasses.replace(call, response_elements=elements, shared_event_id=shared)
    caller = call.identity
    theirs = dataclasses.replace(
        mine,
        account_id=role_account,
        access_key=None,
        identity=CallerAccount(
            "AWSAccount", caller.username, caller.principal_id, account_id=caller.account_id
        ),
        event_id="",
    )
    return [(mine, resources), (theirs, resources)]
