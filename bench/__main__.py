"""Run every benchmark against a throwaway database and a fresh sandbox.

python -m bench                  # all, the load benchmark last
python -m bench list sync        # some
python -m bench load --seconds 30  # the whole portal under locust, alone (bench/load.py)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile


def main(argv: list[str]) -> int:
    if argv[:1] == ["load"]:
        from bench import load

        return load.run(argv[1:])
    chosen = set(argv) or {
        "list",
        "sync",
        "metrics",
        "invoke",
        "transform",
        "transform-job",
        "trail-ingest",
        "quality",
        "trail-search",
        "timeline",
        "plan-rollback",
        "load",
    }
    environment = dict(os.environ)
    code = in_process(chosen - {"load"}) if chosen - {"load"} else 0
    if "load" in chosen:
        # Its own processes on PostgreSQL and Redis, not this process's throwaway database.
        load = subprocess.run([sys.executable, "-m", "bench", "load"], env=environment)
        code = code or load.returncode
    return code


def in_process(chosen: set[str]) -> int:
    """The benchmarks that run in this process, on a throwaway database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    os.environ.setdefault("OPSPORTAL_SECURE", "false")
    os.environ.setdefault("OPSPORTAL_VAR_DIR", tempfile.mkdtemp(prefix="opsportal-bench-"))
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # replaced by the sandbox's URL
    os.environ.setdefault("OPSPORTAL_TARGETS", "sandbox=123456789012:us-east-1,eu-west-1")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from bench import endpoint_list, inventory_sync, metrics_panel

    # Not setup_test_environment(): it instruments template rendering, which would be
    # measured too. The test client only needs its host name allowed.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # Its own database name, so a benchmark never collides with a test run's database.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        str(settings.VAR_DIR / "bench.sqlite3")
        if connection.vendor == "sqlite"
        else "opsportal_bench"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    code = 0
    try:
        if "list" in chosen:
            endpoint_list.run()
        if "sync" in chosen:
            inventory_sync.run()
        if "metrics" in chosen:
            metrics_panel.run()
        if "invoke" in chosen:
            from bench import sandbox_invoke

            sandbox_invoke.run()
        if "transform" in chosen:
            from bench import sandbox_transform

            sandbox_transform.run()
        if "transform-job" in chosen:
            from bench import transform_job

            transform_job.run()
        if "trail-ingest" in chosen:
            from bench import cloudtrail_ingest

            cloudtrail_ingest.run()
        if "trail-search" in chosen:
            from bench import trail_search

            trail_search.run()
        if "timeline" in chosen:
            from bench import timeline_page

            timeline_page.run()
        if "quality" in chosen:
            from bench import quality_engine

            quality_engine.run()
        if "plan-rollback" in chosen:
            from bench import plan_rollback

            code = plan_rollback.run() or code
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
