"""OPSPORTAL_TARGETS parsing: good values work, a bad one stops start-up naming the entry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.targets import Target, TargetConfigError, parse_targets

ROOT = Path(__file__).resolve().parents[2]


def test_parses_sandbox_and_role_targets():
    targets = parse_targets(
        "sandbox=123456789012:us-east-1,eu-west-1; "
        "prod=111122223333:us-east-1:arn:aws:iam::111122223333:role/OpsPortalRead"
    )
    assert targets == (
        Target("sandbox", "123456789012", ("us-east-1", "eu-west-1"), None),
        Target(
            "prod",
            "111122223333",
            ("us-east-1",),
            "arn:aws:iam::111122223333:role/OpsPortalRead",
        ),
    )


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("sandbox=12345:us-east-1", "12345"),
        ("sandbox=123456789012:mars-1", "mars-1"),
        ("sandbox123456789012:us-east-1", "sandbox123456789012"),
        ("Sandbox=123456789012:us-east-1", "Sandbox"),
        ("a=123456789012:us-east-1:not-an-arn", "not-an-arn"),
        ("a=123456789012:us-east-1;a=111122223333:us-east-1", "'a'"),
        ("a=123456789012:", "no region"),
        ("", "no target"),
    ],
)
def test_rejects_malformed_values_naming_the_problem(value, named):
    with pytest.raises(TargetConfigError) as excinfo:
        parse_targets(value)
    assert named in str(excinfo.value)


def test_bad_targets_stop_start_up_with_a_message():
    env = {**os.environ, "OPSPORTAL_TARGETS": "prod=1111:us-east-1", "OPSPORTAL_SECURE": "false"}
    env["DJANGO_SETTINGS_MODULE"] = "opsportal.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "OPSPORTAL_TARGETS" in result.stderr and "prod=1111:us-east-1" in result.stderr


def test_bad_boolean_setting_stops_start_up():
    env = {**os.environ, "OPSPORTAL_SECURE": "ture", "DJANGO_SETTINGS_MODULE": "opsportal.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "OPSPORTAL_SECURE='ture' is not a boolean" in result.stderr


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("javascript:alert('{endpoint}')", "http(s) URL"),
        ("data:text/html,{endpoint}", "http(s) URL"),
        ("https://wiki/{endpoint.__class__}", "only the fields"),
        ("https://wiki/{endpoint!r}", "only the fields"),
        ("https://wiki/{secret}", "only the fields"),
        ("https://wiki/{endpoint", "OPSPORTAL_RUNBOOK_URL_TEMPLATE"),
    ],
)
def test_a_runbook_template_that_is_not_a_plain_web_link_stops_start_up(template, named):
    env = {
        **os.environ,
        "OPSPORTAL_RUNBOOK_URL_TEMPLATE": template,
        "OPSPORTAL_SECURE": "false",
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "OPSPORTAL_RUNBOOK_URL_TEMPLATE" in result.stderr and named in result.stderr
