"""The portal's own AWS identity as CloudTrail records it, so API history can hide the
portal's calls: its inventory polling (ListEndpoints and Describe… every few seconds in
every region) is most of what CloudTrail holds.

The portal cannot learn who it is without a call (GetCallerIdentity), and the sandbox
answers that one with moto's fixed identity rather than the principal its CloudTrail
records, so the identity is configured: `OPSPORTAL_AWS_PRINCIPALS` names IAM user or role
names and ARNs, and the role of each OPSPORTAL_TARGETS entry, which the portal assumes
itself, counts too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

# An IAM role ARN (with an optional path): CloudTrail records a call made with it as the
# assumed-role session, named by the role's name, so that is what is matched.
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/(?:[^/]+/)*(?P<name>[^/]+)$")


@dataclass(frozen=True)
class PortalPrincipal:
    """One principal the portal's calls are made as, in the terms TrailEvent stores."""

    name: str = ""  # principal_name (an IAM user name or a role name)
    account_id: str = ""  # only for a role from a role ARN: that account's role alone
    arn: str = ""  # principal_arn, for any other ARN (a user, an assumed-role session)

    @property
    def label(self) -> str:
        return self.arn or self.name

    def q(self) -> Q:
        if self.arn:
            return Q(principal_arn=self.arn)
        if self.account_id:
            return Q(principal_name=self.name, account_id=self.account_id)
        return Q(principal_name=self.name)


def principal_from(value: str) -> PortalPrincipal:
    """A configured entry: a role ARN matches that role's sessions in its account, another
    ARN that exact principal, anything else a user or role name."""
    value = value.strip()
    role = _ROLE_ARN.match(value)
    if role:
        return PortalPrincipal(name=role["name"], account_id=role["account"])
    if value.startswith("arn:"):
        return PortalPrincipal(arn=value)
    return PortalPrincipal(name=value)


def portal_principals() -> list[PortalPrincipal]:
    """The configured principals, then each target's role, without repeats."""
    entries = [*settings.OPSPORTAL_AWS_PRINCIPALS]
    entries.extend(t.role_arn for t in settings.OPSPORTAL_TARGETS if t.role_arn)
    found: list[PortalPrincipal] = []
    for entry in entries:
        principal = principal_from(entry)
        if principal not in found:
            found.append(principal)
    return found


def own_calls() -> Q | None:
    """A filter matching the calls the portal made itself; None when none is configured."""
    principals = portal_principals()
    if not principals:
        return None
    match = principals[0].q()
    for principal in principals[1:]:
        match |= principal.q()
    return match
