"""docs/iam/ against the gateway: the read-only policy allows every AWS read the portal makes
and no write, the operator policy every call, and neither allows an action the portal
never needs.

The calls are read from the gateway's source (core/aws/*.py, the only code that talks to
AWS): every method called on a client that `core.aws.clients.client(service=...)` built,
directly, through a module's helper that returns one, or through a name bound to either;
`get_paginator("op")` counts as the operation. botocore's service models turn the method
names into API operation names, so a typo or a method that is not an operation fails here.

Read or write is decided by the operation's name: Describe, List, Get, Lookup, Filter,
Search and Head only read; anything else (Create, Update, Put, Stop, Register, Invoke...)
is a write, for the operator role alone.
"""

from __future__ import annotations

import ast
import fnmatch
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "core" / "aws"
POLICIES = ROOT / "docs" / "iam"
READ_PREFIXES = ("Describe", "List", "Get", "Lookup", "Filter", "Search", "Head")

# The IAM service prefix of each boto3 client the gateway builds, where it is not the
# client's name.
IAM_PREFIX = {"sagemaker-runtime": "sagemaker", "service-quotas": "servicequotas"}
# API operations whose IAM action has another name (AWS's API reference for each says so).
IAM_ACTION = {
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("sagemaker-runtime", "InvokeEndpointWithResponseStream"): "sagemaker:InvokeEndpoint",
}
# Actions AWS checks besides the called operation's own (Application Auto Scaling's "Permissions
# required for API actions": registering a SageMaker variant creates the service-linked role
# on first use; target tracking policies create, and their removal deletes, CloudWatch alarms;
# an endpoint config with an ExecutionRoleArn, which a deploy's clone keeps, passes that role).
DEPENDENT = {
    "sagemaker:CreateEndpointConfig": {"iam:PassRole"},
    "application-autoscaling:RegisterScalableTarget": {"iam:CreateServiceLinkedRole"},
    "application-autoscaling:PutScalingPolicy": {
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
    },
    "application-autoscaling:DeleteScalingPolicy": {
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
    },
    "application-autoscaling:DeregisterScalableTarget": {
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
    },
}


@dataclass(frozen=True)
class GatewayCall:
    service: str  # the boto3 client's name
    operation: str  # the API operation, as botocore names it
    where: str  # module:function, for the failure message

    @property
    def action(self) -> str:
        default = f"{IAM_PREFIX.get(self.service, self.service)}:{self.operation}"
        return IAM_ACTION.get((self.service, self.operation), default)

    @property
    def reads(self) -> bool:
        return self.operation.startswith(READ_PREFIXES)


@cache
def _operations(service: str) -> dict[str, str]:
    """snake_case method name → API operation name, from botocore's model of the service."""
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


@cache
def _operation_names() -> frozenset[str]:
    services = ("sagemaker", "sagemaker-runtime", "cloudwatch", "cloudtrail", "logs", "s3")
    return frozenset(name for service in services for name in _operations(service))


def _client_service(node: ast.expr, helpers: dict[str, str], names: dict[str, str]) -> str | None:
    """The service of the client `node` evaluates to, if it is one."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return None
    if node.func.id == "client":
        for keyword in node.keywords:
            if keyword.arg == "service" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
        raise AssertionError(f"client() without a literal service at line {node.lineno}")
    return helpers.get(node.func.id)


def _module_calls(path: Path) -> list[GatewayCall]:
    tree = ast.parse(path.read_text(), filename=str(path))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    helpers: dict[str, str] = {}
    for function in functions:
        for node in ast.walk(function):
            if isinstance(node, ast.Return) and node.value is not None:
                service = _client_service(node.value, helpers, {})
                if service:
                    helpers[function.name] = service
    calls = []
    for function in functions:
        names: dict[str, str] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                service = _client_service(node.value, helpers, names)
                if isinstance(target, ast.Name) and service:
                    names[target.id] = service
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            service = _client_service(node.func.value, helpers, names)
            method = node.func.attr
            if service is None:
                # A client this derivation cannot follow (a parameter, an attribute) would
                # hide its calls: every operation-named call must be on a known client.
                assert method not in _operation_names(), (
                    f"{path.name}:{node.lineno}: {method}() on a client of unknown service"
                )
                continue
            if method == "get_paginator":
                argument = node.args[0]
                assert isinstance(argument, ast.Constant), f"{path.name}:{node.lineno}"
                method = str(argument.value)
            operations = _operations(service)
            assert method in operations, (
                f"{path.name}:{node.lineno}: {method} is not an operation of {service}"
            )
            where = f"{path.stem}:{function.name}"
            calls.append(GatewayCall(service, operations[method], where))
    return calls


@cache
def gateway_calls() -> tuple[GatewayCall, ...]:
    calls = [call for path in sorted(GATEWAY.glob("*.py")) for call in _module_calls(path)]
    return tuple(sorted(set(calls), key=lambda c: (c.action, c.where)))


def _policy(name: str) -> dict:
    return json.loads((POLICIES / name).read_text())


def _allowed_patterns(policy: dict) -> set[str]:
    patterns: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", statement
        actions = statement["Action"]
        patterns |= {actions} if isinstance(actions, str) else set(actions)
    return patterns


def _allows(patterns: set[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def needed(calls: tuple[GatewayCall, ...]) -> set[str]:
    actions = {call.action for call in calls}
    for call in calls:
        actions |= DEPENDENT.get(call.action, set())
    return actions


def test_the_gateway_calls_are_found():
    """The derivation sees the calls every part of the portal depends on (a parser that
    found nothing would let any policy pass)."""
    actions = {call.action for call in gateway_calls()}
    assert {
        "sagemaker:ListEndpoints",
        "sagemaker:DescribeEndpoint",
        "sagemaker:UpdateEndpointWeightsAndCapacities",
        "sagemaker:CreateTransformJob",
        "sagemaker:InvokeEndpoint",
        "cloudwatch:GetMetricData",
        "cloudtrail:LookupEvents",
        "logs:FilterLogEvents",
        "s3:ListBucket",
        "application-autoscaling:RegisterScalableTarget",
    } <= actions
    modules = {call.where.split(":")[0] for call in gateway_calls()}
    assert modules >= {"sagemaker", "traffic", "transform", "cloudwatch", "autoscaling"}


@pytest.mark.parametrize("name", ["read-only.json", "operator.json"])
def test_policies_are_valid_iam_documents(name):
    policy = _policy(name)
    assert policy["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in policy["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in policy["Statement"]:
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}
        assert statement["Resource"], statement["Sid"]


def test_read_only_allows_every_read_and_no_write():
    patterns = _allowed_patterns(_policy("read-only.json"))
    reads = tuple(call for call in gateway_calls() if call.reads)
    writes = tuple(call for call in gateway_calls() if not call.reads)
    missing = sorted({f"{c.action} ({c.where})" for c in reads if not _allows(patterns, c.action)})
    assert not missing, f"reads the read-only policy does not allow: {missing}"
    allowed_writes = sorted({c.action for c in writes if _allows(patterns, c.action)})
    assert not allowed_writes, f"writes the read-only policy allows: {allowed_writes}"


def test_operator_allows_every_call():
    patterns = _allowed_patterns(_policy("operator.json"))
    missing = sorted(
        {f"{c.action} ({c.where})" for c in gateway_calls() if not _allows(patterns, c.action)}
    )
    assert not missing, f"calls the operator policy does not allow: {missing}"
    dependent = needed(gateway_calls()) - {c.action for c in gateway_calls()}
    assert {a for a in dependent if not _allows(patterns, a)} == set()


@pytest.mark.parametrize(
    ("name", "reads_only"), [("read-only.json", True), ("operator.json", False)]
)
def test_no_policy_allows_what_the_portal_never_calls(name, reads_only):
    """Each action a policy names (a wildcard counts as every action it matches in AWS's
    service models) is one the portal's calls need."""
    calls = tuple(c for c in gateway_calls() if c.reads or not reads_only)
    wanted = needed(calls)
    for pattern in _allowed_patterns(_policy(name)):
        assert "*" not in pattern and "?" not in pattern, (
            f"{name}: {pattern}: name actions one by one"
        )
        assert pattern in wanted, f"{name}: {pattern} is not an action the portal needs"


def test_roles_are_passed_to_sagemaker_only_and_created_for_auto_scaling_only():
    """The IAM actions are held to the one service each is for: a role passed on by a
    deploy's cloned config goes to SageMaker, and the service-linked role created is
    Application Auto Scaling's for SageMaker."""
    statements = {
        s["Action"]: s
        for s in _policy("operator.json")["Statement"]
        if isinstance(s["Action"], str) and s["Action"] in IAM_ONLY
    }
    assert set(statements) == set(IAM_ONLY)
    for action, (key, value) in IAM_ONLY.items():
        assert statements[action]["Condition"] == {"StringEquals": {key: value}}


IAM_ONLY = {
    "iam:PassRole": ("iam:PassedToService", "sagemaker.amazonaws.com"),
    "iam:CreateServiceLinkedRole": (
        "iam:AWSServiceName",
        "sagemaker.application-autoscaling.amazonaws.com",
    ),
}
