"""Health checks for /healthz: database, broker and AWS reachability.

AWS is probed with one cheap ListEndpoints call per target-region and the result cached
for a few seconds, so a load balancer polling every second costs AWS almost nothing.
"""

from __future__ import annotations

from typing import Any

from celery import current_app as app
from django.core.cache import cache
from django.db import connection

from core.aws import sagemaker as aws_sagemaker
from core.aws.errors import AwsError
from core.targets import target_regions

AWS_CACHE_SECONDS = 15


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def check_broker() -> dict[str, Any]:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "transport": app.conf.broker_url.split(":", 1)[0]}


def check_aws() -> dict[str, Any]:
    results: dict[str, Any] = {}
    for target, region in target_regions():
        key = f"healthz:aws:{target.name}:{region}"
        result = cache.get(key)
        if result is None:
            try:
                aws_sagemaker.probe(target=target, region=region)
                result = {"ok": True}
            except AwsError as exc:
                result = {"ok": False, "error": exc.code or type(exc).__name__}
            cache.set(key, result, AWS_CACHE_SECONDS)
        results[f"{target.name}/{region}"] = result
    return {"ok": all(r["ok"] for r in results.values()), "targets": results}
