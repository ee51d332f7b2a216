"""Beat's fan-out: one task per configured target-region.

Every periodic sync (inventory, alarms, Model Monitor, batch jobs, CloudTrail) runs as one
task per account-region, so a slow, throttled or unreachable region delays nobody else.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def per_target_region(task: Any) -> int:
    """Enqueue `task(target_name, region)` for each configured target-region; how many."""
    count = 0
    for target in settings.OPSPORTAL_TARGETS:
        for region in target.regions:
            task.delay(target.name, region)
            count += 1
    return count
