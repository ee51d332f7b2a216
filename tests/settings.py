"""Settings for the test suite: the production settings with local HTTP and no real AWS.

Every AWS call goes to the sandbox started by the `sandbox` fixture; until then it goes
to a closed local port, so no test can reach a real account by accident.
"""

import os
from pathlib import Path

os.environ.setdefault("OPSPORTAL_SECURE", "false")
# Its own database file and broker folder, apart from a demo running on the same machine.
os.environ.setdefault(
    "OPSPORTAL_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)
os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("OPSPORTAL_TARGETS", "sandbox=123456789012:us-east-1,eu-west-1")
os.environ.pop("AWS_PROFILE", None)

from opsportal.settings import *  # noqa: E402,F403

CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AWS_CONNECT_TIMEOUT = 1
AWS_READ_TIMEOUT = 5
AWS_MAX_ATTEMPTS = 1
# A page's AWS budget is about a hanging AWS, not a busy sandbox: on a loaded two-core
# machine a page of several sandbox calls can pass three seconds. The budget's own tests
# (tests/faults/test_aws_hang.py) set the production value back.
OPSPORTAL_AWS_PAGE_BUDGET_SECONDS = 15

# `tests.support` first, so its `flush` (which may empty the append-only audit table on
# SQLite) is the one the test runner calls; production settings have no such command.
INSTALLED_APPS = ["tests.support", *INSTALLED_APPS]  # noqa: F405

# No digest store by default: a store outlives the per-test database, and its digests
# would name entries that are gone. Tests of the digests choose their own.
OPSPORTAL_AUDIT_DIGESTS = ""
