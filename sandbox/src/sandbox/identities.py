"""Who is calling: the demo world's principals, keyed by the access key they sign with.

CloudTrail attributes every call to the identity behind its access key. The sandbox does not
check signatures, so this table is the whole of its IAM: each known key stands for one
principal, and any other key is recorded as an IAM user named ``unknown`` rather than being
refused, so that tools signing with arbitrary dummy keys keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ACCOUNT_ID = "123456789012"
CLI_USER_AGENT = (
    "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.12.6 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe sid/5f2e command/sagemaker"
)
GITHUB_ACTIONS_USER_AGENT = (
    "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.5.0-1025-azure md/arch#x86_64 "
    "lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
    "command/sagemaker.update-endpoint"
)
PORTAL_USER_AGENT = "Boto3/1.44.8 md/Botocore#1.44.8 ua/2.1 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython m/Z,b cfg/retry-mode#standard Botocore/1.44.8 opsportal"  # noqa: E501


@dataclass(frozen=True)
class Identity:
    """One principal: an IAM user, a role session or the account root."""

    kind: str  # IAMUser | AssumedRole | Root
    name: str  # the user name, the role name, or "root"
    principal_id: str
    session_name: str | None = None
    account_id: str = ACCOUNT_ID
    # A service-linked role lives under /aws-service-role/<service>/, and calls a service
    # makes with it carry the service in ``invokedBy``.
    path: str = "/"
    invoked_by: str | None = None

    @property
    def arn(self) -> str:
        if self.kind == "AssumedRole":
            return f"arn:aws:sts::{self.account_id}:assumed-role/{self.name}/{self.session_name}"
        if self.kind == "Root":
            return f"arn:aws:iam::{self.account_id}:root"
        return f"arn:aws:iam::{self.account_id}:user/{self.name}"

    @property
    def username(self) -> str:
        """What LookupEvents reports as Username (and filters on): a role's session name."""
        return self.session_name if self.kind == "AssumedRole" and self.session_name else self.name

    def user_identity(self, access_key: str | None, *, when: str) -> dict[str, Any]:
        """CloudTrail's ``userIdentity`` block for a call made with this principal's key."""
        block: dict[str, Any] = {
            "type": self.kind,
            "principalId": self.principal_id,
            "arn": self.arn,
            "accountId": self.account_id,
        }
        if access_key:
            block["accessKeyId"] = access_key
        if self.kind == "IAMUser":
            block["userName"] = self.name
        if self.kind == "AssumedRole":
            block["sessionContext"] = {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": self.principal_id.split(":", 1)[0],
                    "arn": f"arn:aws:iam::{self.account_id}:role{self.path}{self.name}",
                    "accountId": self.account_id,
                    "userName": self.name,
                },
                "attributes": {"creationDate": when, "mfaAuthenticated": "false"},
            }
        if self.invoked_by:
            block["invokedBy"] = self.invoked_by
        return block


MARIA_KEY = "AKIAIOSFODNN7DATASCI"
CI_DEPLOYER_KEY = "ASIA4Q7XABCIDEPLOYER"
PORTAL_KEY = "AKIAOPSPORTALDEMO000"
ROOT_KEY = "AKIAIOSFODNN7ROOTKEY"
TEST_KEY = "testing"
# The rest of the demo account's principals: the platform team's Terraform (which built the
# demo world), a registry-sync Lambda, the ML lead signed in through IAM Identity Center,
# and a contractor without SageMaker rights.
TERRAFORM_KEY = "ASIA4Q7XTERRAFORMAPP"
REGISTRY_SYNC_KEY = "ASIA4Q7XREGISTRYSYNC"
LEAD_KEY = "ASIA4Q7XPRIYACONSOLE"
CONTRACTOR_KEY = "AKIAIOSFODNN7CONTRAC"
LAMBDA_USER_AGENT = "Boto3/1.35.90 md/Botocore#1.35.90 ua/2.0 os/linux#5.10.230 md/arch#x86_64 lang/python#3.12.8 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.35.90"  # noqa: E501
CONSOLE_USER_AGENT = "AWS Internal"

IDENTITIES: dict[str, Identity] = {
    MARIA_KEY: Identity("IAMUser", "maria.data-scientist", "AIDA6ON6E4XEGITEXMARIA"),
    CI_DEPLOYER_KEY: Identity(
        "AssumedRole",
        "ci-deployer",
        "AROA6ON6E4XEP7CIDEPLO:github-actions-1234",
        session_name="github-actions-1234",
    ),
    PORTAL_KEY: Identity(
        "AssumedRole", "OpsPortal", "AROA6ON6E4XEOPSPORTAL:opsportal", session_name="opsportal"
    ),
    ROOT_KEY: Identity("Root", "root", ACCOUNT_ID),
    TERRAFORM_KEY: Identity(
        "AssumedRole",
        "platform-terraform",
        "AROA6ON6E4XETERRAFORM:terraform-apply",
        session_name="terraform-apply",
    ),
    REGISTRY_SYNC_KEY: Identity(
        "AssumedRole",
        "model-registry-sync",
        "AROA6ON6E4XEREGISTRY0:model-registry-sync",
        session_name="model-registry-sync",
    ),
    LEAD_KEY: Identity(
        "AssumedRole",
        "AWSReservedSSO_MLLead_4f1c2a9e",
        "AROA6ON6E4XEMLLEADSSO:priya.sharma@example.com",
        session_name="priya.sharma@example.com",
        path="/aws-reserved/sso.amazonaws.com/",
    ),
    CONTRACTOR_KEY: Identity("IAMUser", "dev.contractor", "AIDA6ON6E4XECONTRACTOR"),
    TEST_KEY: Identity("IAMUser", "sandbox-tester", "AIDA6ON6E4XESANDBOXTEST"),
}


def identity_for(access_key: str | None, account_id: str = ACCOUNT_ID) -> Identity:
    """The principal behind a key; unknown keys become an IAM user named ``unknown``."""
    known = IDENTITIES.get(access_key or "")
    if known is not None:
        return known
    return Identity("IAMUser", "unknown", "AIDAUNKNOWNPRINCIPAL0", account_id=account_id)


AUTOSCALING_SERVICE = "autoscaling.amazonaws.com"
SAGEMAKER_AUTOSCALING_ROLE = "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"


def sagemaker_autoscaling_identity(account_id: str = ACCOUNT_ID) -> Identity:
    """Application Auto Scaling's service-linked role for SageMaker, in session "AutoScaling":
    the principal AWS records for the UpdateEndpointWeightsAndCapacities calls it makes when
    a policy scales a variant (no access key of the account's own signs them)."""
    return Identity(
        "AssumedRole",
        SAGEMAKER_AUTOSCALING_ROLE,
        "AROA6ON6E4XEAPPSCALES:AutoScaling",
        session_name="AutoScaling",
        account_id=account_id,
        path="/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/",
        invoked_by=AUTOSCALING_SERVICE,
    )
