"""STS: a cheap call that proves the credentials and the network path work."""

from __future__ import annotations

from core.aws.clients import client
from core.aws.errors import translated
from core.targets import Target


def caller_account(*, target: Target, region: str) -> str:
    """The account the portal's credentials act in (GetCallerIdentity)."""
    with translated("GetCallerIdentity"):
        return str(
            client(target=target, region=region, service="sts").get_caller_identity()["Account"]
        )
