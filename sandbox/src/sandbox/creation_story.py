"""When, and by whom, the seeded endpoints were built: their creation story in CloudTrail.

The seed builds its worlds through the API as the sandbox starts, so CloudTrail records the
platform team's CreateModel, CreateEndpointConfig and CreateEndpoint calls at that moment,
and Describe reports that moment as CreationTime. A real account's endpoints were built
weeks before the week its trail shows. So, once seeded, the seed's own creation calls (the
recorded events, with their real parameters and response elements) move to believable
times before the week: one endpoint every few days, production first, at ten in the
morning UTC, each endpoint's models, then its config, then the endpoint a few seconds apart.
The CreationTime DescribeEndpoint, DescribeEndpointConfig and DescribeModel report moves to
the same second, so trail and resources tell one story. The bucket the models live in was
made the day before, and the role sessions the seed assumed to build another account (both
copies of each AssumeRole) begin a minute before the calls they made. An endpoint that hosts
inference components gets its CreateInferenceComponent calls a few seconds after its
CreateEndpoint, and DescribeInferenceComponent's CreationTime moves with them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox import moto_bridge
from sandbox.cloudtrail import EventStore, StoredEvent
from sandbox.endpoints import EndpointStore
from sandbox.identities import ACCOUNT_ID as PRODUCTION_ACCOUNT_ID
from sandbox.inference_components import ComponentStore

DAY = 86400.0
FIRST_BUILD_DAYS_AGO = 40
DAYS_BETWEEN_BUILDS = 3
BUILD_HOUR_UTC = 10
SECONDS_BETWEEN_CALLS = 9.0


@dataclass(frozen=True)
class Built:
    """One seeded endpoint's story: where, what it was made of, and when it was created."""

    account_id: str
    region: str
    endpoint: str
    config: str
    models: tuple[str, ...]
    created: float  # the CreateEndpoint call's time: the endpoint's CreationTime


def _params(event: StoredEvent) -> dict[str, object]:
    params = event.record.get("requestParameters")
    return params if isinstance(params, dict) else {}


def _role_account(event: StoredEvent) -> str:
    """The account of the role an AssumeRole event names."""
    parts = str(_params(event).get("roleArn", "")).split(":")
    return parts[4] if len(parts) > 5 else ""


def _succeeded(events: list[StoredEvent], name: str) -> list[StoredEvent]:
    return [
        e
        for e in events
        if not e.backfilled and e.record["eventName"] == name and "errorCode" not in e.record
    ]


def tell_creation_stories(
    *, endpoints: EndpointStore, components: ComponentStore, trail: EventStore, now: float
) -> list[Built]:
    """Move the seed's creation calls before the week and backdate what they created."""
    first_day = (now - FIRST_BUILD_DAYS_AGO * DAY) // DAY * DAY + BUILD_HOUR_UTC * 3600
    places = sorted(trail.regions(), key=lambda p: (p[0] != PRODUCTION_ACCOUNT_ID, p))
    stories: list[Built] = []
    first_build: dict[str, float] = {}
    for account_id, region in places:
        events = trail.events(account_id, region)
        configs = {
            str(_params(e).get("endpointConfigName")): e
            for e in _succeeded(events, "CreateEndpointConfig")
        }
        models = {str(_params(e).get("modelName")): e for e in _succeeded(events, "CreateModel")}
        hosted = _succeeded(events, "CreateInferenceComponent")
        times: dict[str, float] = {}
        for created in _succeeded(events, "CreateEndpoint"):
            name = str(_params(created).get("endpointName"))
            config_name = str(_params(created).get("endpointConfigName"))
            config = configs.get(config_name)
            variants = _params(config).get("productionVariants") if config else None
            used = [
                str(v.get("modelName"))
                for v in (variants if isinstance(variants, list) else [])
                if isinstance(v, dict) and v.get("modelName")
            ]
            start = first_day + len(stories) * (DAYS_BETWEEN_BUILDS * DAY + 17 * 60)
            moment = start
            for model in dict.fromkeys(used):
                event = models.get(model)
                if event is not None and event.record["eventID"] not in times:
                    times[event.record["eventID"]] = moment
                    moto_bridge.backdate_creation(account_id, region, "model", model, moment)
                    moment += SECONDS_BETWEEN_CALLS
            if config is not None:
                times[config.record["eventID"]] = moment
                moto_bridge.backdate_creation(
                    account_id, region, "endpoint-config", config_name, moment
                )
                moment += SECONDS_BETWEEN_CALLS
            times[created.record["eventID"]] = moment
            endpoints.backdate_creation(account_id, region, name, moment)
            component_moment = moment
            for placed in hosted:
                if _params(placed).get("endpointName") != name:
                    continue
                component_moment += SECONDS_BETWEEN_CALLS
                times[placed.record["eventID"]] = component_moment
                component_name = str(_params(placed).get("inferenceComponentName"))
                components.backdate_creation(account_id, region, component_name, component_moment)
            first_build.setdefault(account_id, start)
            stories.append(Built(account_id, region, name, config_name, tuple(used), moment))
        if account_id in first_build:
            for bucket in _succeeded(events, "CreateBucket"):
                times[bucket.record["eventID"]] = first_build[account_id] - DAY
        trail.retime(account_id, region, times)
    for account_id, region in places:
        sessions = {}
        for event in _succeeded(trail.events(account_id, region), "AssumeRole"):
            role_account = _role_account(event)
            if role_account in first_build:
                sessions[event.record["eventID"]] = first_build[role_account] - 60.0
        trail.retime(account_id, region, sessions)
    return stories
