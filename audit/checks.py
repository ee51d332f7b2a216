"""Deploy checks: a production audit log that someone with database access could rewrite
without it showing is a finding, not a preference."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def audit_integrity_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    if not settings.OPSPORTAL_AUDIT_HMAC_KEY:
        found.append(
            Warning(
                "OPSPORTAL_AUDIT_HMAC_KEY is not set: audit entries are hashed with plain "
                "SHA-256, which anyone who can write the database can recompute.",
                hint='Set it to a random value of 32+ characters (python -c "import secrets; '
                'print(secrets.token_urlsafe(48))") kept outside the database.',
                id="audit.W001",
            )
        )
    if not settings.OPSPORTAL_AUDIT_SIGNING_KEY_FILE:
        found.append(
            Warning(
                "OPSPORTAL_AUDIT_SIGNING_KEY_FILE is not set: no signed digests of the audit "
                "chain are written, so entries removed from its end go unnoticed.",
                hint="Generate one with: openssl genpkey -algorithm ed25519 -out audit.pem",
                id="audit.W002",
            )
        )
    if not settings.OPSPORTAL_AUDIT_DIGESTS:
        found.append(
            Warning(
                "OPSPORTAL_AUDIT_DIGESTS is not set: signed digests of the audit chain have "
                "nowhere to go.",
                hint="Set it to s3://bucket/prefix/ (a bucket with Object Lock) or a directory "
                "the database's administrators cannot write.",
                id="audit.W003",
            )
        )
    return found
