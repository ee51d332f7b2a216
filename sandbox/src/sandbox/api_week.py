"""The everyday background of the demo's CloudTrail week: who reads SageMaker, and when.

A real account's week of SageMaker management events is mostly reads, in a working
rhythm: a registry-sync Lambda listing endpoints and models every hour, a data scientist's
notebook describing her endpoints on weekdays, the ML lead looking around in the console,
the CI pipeline's nightly checks, and a few refused calls (a contractor without the rights,
a bad parameter, a throttled burst). ``seed.py`` tells each endpoint's story of changes;
this module adds the background around it, a few hundred events per region, laid on the
real week before the seed's now (the same choices every start: a fixed random seed).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

HOURS = 7 * 24


@dataclass(frozen=True)
class BackgroundCall:
    """One call of the background: ``hours_ago`` from the seed's now."""

    hours_ago: float
    key: str
    operation: str
    params: dict[str, object]
    region: str
    error: tuple[str, str] | None = None


@dataclass(frozen=True)
class RegionWorld:
    """What there is to read in one region."""

    region: str
    endpoints: tuple[str, ...]
    models: tuple[str, ...]
    monitored: tuple[str, ...] = ()


def _working_hours(now: float, hours_ago: int) -> bool:
    """Whether people are at work in the hour `hours_ago` before `now` (UTC office hours,
    Monday to Friday), so reads follow the week's real daily and weekly rhythm."""
    moment = datetime.fromtimestamp(now - hours_ago * 3600, tz=UTC)
    return moment.weekday() < 5 and 8 <= moment.hour < 18


def background_week(
    worlds: tuple[RegionWorld, ...],
    *,
    now: float,
    lambda_key: str,
    scientist_key: str,
    lead_key: str,
    ci_key: str,
    contractor_key: str,
    seed: int = 20261127,
) -> Iterator[BackgroundCall]:
    """Every background call of the week, oldest first within each kind."""
    rng = random.Random(seed)
    for world in worlds:
        region = world.region
        for hours_ago in range(HOURS, 0, -1):
            # The registry sync: every hour, day and night.
            minute = rng.uniform(0.0, 0.05)
            yield BackgroundCall(
                hours_ago - minute, lambda_key, "ListEndpoints", {"MaxResults": 100}, region
            )
            yield BackgroundCall(
                hours_ago - minute - 0.002, lambda_key, "ListModels", {"MaxResults": 100}, region
            )
            if datetime.fromtimestamp(now - hours_ago * 3600, tz=UTC).hour == 2:  # nightly CI
                for endpoint in world.endpoints[:2]:
                    yield BackgroundCall(
                        hours_ago - 0.2,
                        ci_key,
                        "DescribeEndpoint",
                        {"EndpointName": endpoint},
                        region,
                    )
            if not _working_hours(now, hours_ago):
                continue
            for _ in range(rng.randint(1, 4)):  # the notebook
                endpoint = rng.choice(world.endpoints)
                operation, params = rng.choice(
                    [
                        ("DescribeEndpoint", {"EndpointName": endpoint}),
                        ("DescribeEndpoint", {"EndpointName": endpoint}),
                        ("DescribeEndpointConfig", {"EndpointConfigName": f"{endpoint}-config"}),
                        ("ListEndpoints", {"NameContains": endpoint.split("-")[0]}),
                        ("DescribeModel", {"ModelName": rng.choice(world.models)}),
                    ]
                )
                yield BackgroundCall(
                    hours_ago - rng.uniform(0.0, 0.9), scientist_key, operation, params, region
                )
            if rng.random() < 0.5:  # the lead, in the console
                endpoint = rng.choice(world.endpoints)
                yield BackgroundCall(
                    hours_ago - rng.uniform(0.0, 0.9), lead_key, "ListEndpoints", {}, region
                )
                yield BackgroundCall(
                    hours_ago - rng.uniform(0.0, 0.9),
                    lead_key,
                    "DescribeEndpoint",
                    {"EndpointName": endpoint},
                    region,
                )
                if world.monitored and rng.random() < 0.3:
                    yield BackgroundCall(
                        hours_ago - rng.uniform(0.0, 0.9),
                        lead_key,
                        "ListMonitoringExecutions",
                        {"EndpointName": rng.choice(world.monitored)},
                        region,
                    )
        yield from _refused(rng, world, contractor_key, scientist_key, lambda_key)


def _refused(
    rng: random.Random, world: RegionWorld, contractor: str, scientist: str, sync: str
) -> Iterator[BackgroundCall]:
    """The week's refused calls: what an account's trail always holds a few of."""
    region, endpoint = world.region, world.endpoints[0]
    denied = (
        "User: arn:aws:iam::123456789012:user/dev.contractor is not authorized to perform: "
        "sagemaker:{action} on resource: arn:aws:sagemaker:{region}:123456789012:"
        "endpoint/{endpoint} because no identity-based policy allows the "
        "sagemaker:{action} action"
    )
    for hours_ago, action in ((52.3, "UpdateEndpoint"), (52.1, "DeleteEndpoint")):
        yield BackgroundCall(
            hours_ago,
            contractor,
            action,
            {"EndpointName": endpoint}
            | ({"EndpointConfigName": f"{endpoint}-config"} if action == "UpdateEndpoint" else {}),
            region,
            error=(
                "AccessDenied",
                denied.format(action=action, region=region, endpoint=endpoint.lower()),
            ),
        )
    yield BackgroundCall(
        rng.uniform(20.0, 30.0),
        scientist,
        "DescribeEndpoint",
        {"EndpointName": f"{endpoint}-staging"},
        region,
        error=(
            "ValidationException",
            f'Could not find endpoint "arn:aws:sagemaker:{region}:123456789012:'
            f'endpoint/{endpoint}-staging".',
        ),
    )
    yield BackgroundCall(
        rng.uniform(60.0, 70.0),
        sync,
        "ListModels",
        {"MaxResults": 100},
        region,
        error=("ThrottlingException", "Rate exceeded"),
    )
