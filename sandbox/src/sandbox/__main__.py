"""Command line.

``python -m sandbox serve --port 5005 --seed demo --traffic 2`` runs the sandbox
(``--clock-speed 60`` makes hourly monitoring schedules fire every minute);
``python -m sandbox fault --url http://127.0.0.1:5005 --endpoint E --error-rate 0.2`` injects
a fault into a running one (``--clear`` removes faults, ``--list`` shows them; ``--drift 3
--feature "mean radius"`` drifts one column), and ``python -m sandbox fault --api
sagemaker:DescribeEndpoint --throttle-rate 0.2`` (or ``--api cloudwatch:GetMetricData --hang``)
makes an AWS API misbehave instead;
``python -m sandbox scenario bad-deploy --endpoint E [--variant V] [--error-rate 0.3]`` stages
a bad model deploy by the CI deployer role on a running one, and ``python -m sandbox scenario
rollback --endpoint E`` redeploys the endpoint config it replaced.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from types import FrameType
from typing import Any

from sandbox import SEEDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="A local AWS stand-in for the Ops Portal."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="Serve the sandbox over HTTP until stopped.")
    serve.add_argument("--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1).")
    serve.add_argument("--port", type=int, default=5005, help="Port to bind; 0 picks a free one.")
    serve.add_argument(
        "--seed", choices=SEEDS, default="demo", help="World to create at start (default demo)."
    )
    serve.add_argument(
        "--creating-seconds",
        type=float,
        default=5.0,
        help="How long a new endpoint stays Creating (default 5).",
    )
    serve.add_argument(
        "--updating-seconds",
        type=float,
        default=None,
        help="How long a weight/capacity update stays Updating (default half of creating).",
    )
    serve.add_argument(
        "--log-requests", action="store_true", help="Log every HTTP request to stderr."
    )
    serve.add_argument(
        "--traffic",
        type=_non_negative,
        default=0.0,
        metavar="RATE",
        help="Invocations per second sent to every serving endpoint (e.g. 0.5; default none).",
    )
    serve.add_argument(
        "--alarm-interval",
        type=_positive,
        default=5.0,
        metavar="SECONDS",
        help="How often CloudWatch alarms are evaluated (default 5).",
    )
    serve.add_argument(
        "--transform-seconds",
        type=_non_negative,
        default=1.0,
        metavar="SECONDS",
        help="Least time a transform job stays InProgress or Stopping (default 1).",
    )
    serve.add_argument(
        "--lookup-rate",
        type=_non_negative,
        default=2.0,
        metavar="RATE",
        help="CloudTrail LookupEvents requests per second per account and region before "
        "ThrottlingException (default 2, as AWS; 0 for no limit).",
    )
    serve.add_argument(
        "--cloudtrail-lag-seconds",
        type=_non_negative,
        default=0.0,
        metavar="SECONDS",
        help="How long a call takes to appear in LookupEvents (default 0; AWS: about 300).",
    )
    serve.add_argument(
        "--trail-interval",
        type=_positive,
        default=60.0,
        metavar="SECONDS",
        help="How often logging trails receive their log files (default 60).",
    )
    serve.add_argument(
        "--clock-speed",
        type=_clock_speed,
        default=1.0,
        metavar="FACTOR",
        help="How much faster than real time monitoring schedules and UpdateEndpoint's "
        "deployment waits run: 60 makes an hourly schedule fire every minute over the last "
        "minute of captured data, and a 600 s bake last 10 s (default 1).",
    )
    fault = commands.add_parser(
        "fault",
        help="Inject, list or clear faults on a running sandbox's endpoints or AWS APIs.",
    )
    fault.add_argument("--url", default="http://127.0.0.1:5005", help="The sandbox's URL.")
    fault.add_argument("--endpoint", help="Endpoint to make misbehave.")
    fault.add_argument(
        "--api",
        metavar="SERVICE:OPERATION",
        help="Instead of an endpoint, an AWS API to make misbehave: e.g. "
        "sagemaker:DescribeEndpoint, cloudwatch:GetMetricData, or s3:* for every operation.",
    )
    fault.add_argument("--variant", help="Only this production variant (default: all).")
    fault.add_argument(
        "--region", help="Only the endpoint, or the API's calls, in this region (default: any)."
    )
    fault.add_argument(
        "--error-rate",
        type=float,
        default=0.0,
        help="Fraction of requests that fail (0-1; with --api, as a 500 from the service).",
    )
    fault.add_argument(
        "--error-kind",
        choices=("5xx", "model"),
        default=None,
        help="5xx (default): InternalFailure (500); model: ModelError (424) from a crashing "
        "container.",
    )
    fault.add_argument(
        "--latency-ms", type=float, default=0.0, help="Milliseconds added to every request."
    )
    fault.add_argument(
        "--throttle-rate",
        type=float,
        default=0.0,
        help="Fraction of requests refused with ThrottlingException (0-1; with --api, the "
        "service's own throttling error, e.g. S3's SlowDown).",
    )
    fault.add_argument(
        "--reset-rate",
        type=float,
        default=0.0,
        help="With --api: fraction of calls whose connection is reset unanswered (0-1).",
    )
    fault.add_argument(
        "--drift",
        type=float,
        default=0.0,
        help="Shift of the traffic generator's features, in standard deviations.",
    )
    fault.add_argument(
        "--feature",
        action="append",
        dest="features",
        metavar="NAME",
        help="Drift only this column (repeat for more; default: every column).",
    )
    fault.add_argument(
        "--hang",
        action="store_true",
        help="With --api: calls get no answer until the fault is cleared (at most 300 s).",
    )
    actions = fault.add_mutually_exclusive_group()
    actions.add_argument(
        "--clear",
        action="store_true",
        help="Remove faults: those of --endpoint/--variant, or of --api (a service alone "
        "clears all of its faults), else every endpoint and API fault (of --region if given).",
    )
    actions.add_argument(
        "--list", action="store_true", help="Show the active endpoint and API faults."
    )
    _add_scenario_parser(commands)
    return parser


def _add_scenario_parser(commands: Any) -> None:
    scenario = commands.add_parser(
        "scenario", help="Stage an on-call drill on a running sandbox through its AWS API."
    )
    drills = scenario.add_subparsers(dest="scenario", required=True)
    bad = drills.add_parser(
        "bad-deploy",
        help="As the ci-deployer role, deploy a model version that fails a share of requests "
        "to one variant.",
    )
    rollback = drills.add_parser(
        "rollback", help="As the ci-deployer role, redeploy the config the bad deploy replaced."
    )
    for drill in (bad, rollback):
        drill.add_argument("--url", default="http://127.0.0.1:5005", help="The sandbox's URL.")
        drill.add_argument("--endpoint", required=True, help="The endpoint to deploy to.")
        drill.add_argument("--region", help="The endpoint's region (default: wherever it is).")
        drill.add_argument("--json", action="store_true", help="Print the full answer as JSON.")
    bad.add_argument(
        "--variant",
        help="The variant to break (default: the lowest-weight one a 5XX alarm watches).",
    )
    bad.add_argument(
        "--error-rate",
        type=_fraction,
        default=0.3,
        help="Share of the variant's requests the new model fails (0-1, default 0.3).",
    )
    bad.add_argument(
        "--invocations",
        type=int,
        default=0,
        metavar="N",
        help="Send N invocations after the deploy so the errors show at once (default 0).",
    )


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _clock_speed(text: str) -> float:
    from sandbox.monitor import MAX_CLOCK_SPEED

    value = float(text)
    if not 1.0 <= value <= MAX_CLOCK_SPEED:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_CLOCK_SPEED:g}, got {text}")
    return value


def serve(arguments: argparse.Namespace) -> int:
    """Run until SIGINT or SIGTERM, then stop cleanly so the port is released at once."""
    from sandbox.server import SandboxServer  # moto is heavy; `fault` does not need it

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    server = SandboxServer(
        host=arguments.host,
        port=arguments.port,
        seed=arguments.seed,
        creating_seconds=arguments.creating_seconds,
        updating_seconds=arguments.updating_seconds,
        log_requests=arguments.log_requests,
        traffic=arguments.traffic,
        alarm_interval=arguments.alarm_interval,
        transform_seconds=arguments.transform_seconds,
        lookup_rate=arguments.lookup_rate,
        cloudtrail_lag_seconds=arguments.cloudtrail_lag_seconds,
        trail_interval=arguments.trail_interval,
        clock_speed=arguments.clock_speed,
    )
    try:
        server.start()
    except OSError as error:
        print(
            f"sandbox: cannot listen on {arguments.host}:{arguments.port}: {error}", file=sys.stderr
        )
        return 1
    traffic = f", traffic: {arguments.traffic:g}/s per endpoint" if arguments.traffic else ""
    print(f"Sandbox ready at {server.url} (seed: {arguments.seed}{traffic})", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def _call(
    method: str, url: str, document: dict[str, Any] | None = None, *, timeout: float = 10
) -> dict[str, Any]:
    """One request to the sandbox's controls; its JSON answer, or SystemExit with its message."""
    data = json.dumps(document).encode() if document is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read()).get("message", error.reason)
        except ValueError:
            message = error.reason
        raise SystemExit(f"sandbox: {message}") from None
    except urllib.error.URLError as error:
        raise SystemExit(f"sandbox: cannot reach {url}: {error.reason}") from None


def fault(arguments: argparse.Namespace) -> int:
    """Set, list or clear faults through ``/_sandbox/faults`` and ``/_sandbox/api-faults``.

    Prints the sandbox's answer as JSON; listing and clearing everything cover both kinds.
    """
    base = arguments.url.rstrip("/")
    url, api_url = f"{base}/_sandbox/faults", f"{base}/_sandbox/api-faults"
    misplaced = _endpoint_only_options(arguments) if arguments.api else ""
    if misplaced:
        print(f"sandbox: {misplaced}: endpoint fault options, not for --api.", file=sys.stderr)
        return 2
    if arguments.hang and not arguments.api:
        print("sandbox: --hang is for API faults: name the API with --api.", file=sys.stderr)
        return 2
    if arguments.list:
        answer = {**_call("GET", url), **_call("GET", api_url)}
    elif arguments.clear and arguments.api:
        answer = _call("DELETE", api_url + _query(api=arguments.api, region=arguments.region))
    elif arguments.clear:
        filters = {
            "endpoint": arguments.endpoint,
            "variant": arguments.variant,
            "region": arguments.region,
        }
        answer = _call("DELETE", url + _query(**filters))
        if not (arguments.endpoint or arguments.variant):
            cleared = _call("DELETE", api_url + _query(region=arguments.region))
            answer["cleared_api_faults"] = cleared["cleared"]
    elif arguments.api:
        document: dict[str, Any] = {
            "api": arguments.api,
            "throttle_rate": arguments.throttle_rate,
            "error_rate": arguments.error_rate,
            "reset_rate": arguments.reset_rate,
            "latency_ms": arguments.latency_ms,
            "hang": arguments.hang,
        }
        if arguments.region:
            document["region"] = arguments.region
        answer = _call("POST", api_url, document)
    else:
        if not arguments.endpoint:
            print("sandbox: --endpoint (or --api) is required to inject a fault.", file=sys.stderr)
            return 2
        document = {
            "endpoint": arguments.endpoint,
            "error_rate": arguments.error_rate,
            "error_kind": arguments.error_kind or "5xx",
            "latency_ms": arguments.latency_ms,
            "throttle_rate": arguments.throttle_rate,
            "drift": arguments.drift,
        }
        if arguments.features:
            document["features"] = arguments.features
        if arguments.variant:
            document["variant"] = arguments.variant
        if arguments.region:
            document["region"] = arguments.region
        answer = _call("POST", url, document)
    print(json.dumps(answer, indent=2))
    return 0


def _endpoint_only_options(arguments: argparse.Namespace) -> str:
    """The endpoint fault options given, named as typed; an API fault takes none of them."""
    given = [
        option
        for option, value in (
            ("--endpoint", arguments.endpoint),
            ("--variant", arguments.variant),
            ("--error-kind", arguments.error_kind),
            ("--drift", arguments.drift),
            ("--feature", arguments.features),
        )
        if value
    ]
    return ", ".join(given)


def _query(**filters: str | None) -> str:
    """The given filters as a query string (with its ``?``), or nothing."""
    given = {key: value for key, value in filters.items() if value}
    return f"?{urllib.parse.urlencode(given)}" if given else ""


# A scenario waits for the endpoint update (a new fleet launches: creating-seconds) first.
SCENARIO_TIMEOUT_SECONDS = 300


def scenario(arguments: argparse.Namespace) -> int:
    """Run a drill through ``/_sandbox/scenario/<name>`` and say what it did."""
    url = f"{arguments.url.rstrip('/')}/_sandbox/scenario/{arguments.scenario}"
    document: dict[str, Any] = {"endpoint": arguments.endpoint}
    if arguments.region:
        document["region"] = arguments.region
    if arguments.scenario == "bad-deploy":
        document["error_rate"] = arguments.error_rate
        document["invocations"] = arguments.invocations
        if arguments.variant:
            document["variant"] = arguments.variant
    answer = _call("POST", url, document, timeout=SCENARIO_TIMEOUT_SECONDS)
    if arguments.json:
        print(json.dumps(answer, indent=2))
    elif arguments.scenario == "bad-deploy":
        print(_bad_deploy_summary(answer))
    else:
        print(
            f"{answer['time']}  {answer['identity']} redeployed {answer['config']} on "
            f"{answer['endpoint']} ({answer['region']}), replacing {answer['replaced_config']}; "
            f"the endpoint is {answer['status']}."
        )
    return 0


def _bad_deploy_summary(answer: dict[str, Any]) -> str:
    weights = ", ".join(f"{name} {weight:g}" for name, weight in answer["weights"].items())
    lines = [
        f"{answer['time']}  {answer['identity']} deployed a bad model to "
        f"{answer['endpoint']} ({answer['region']}):",
        f"  CreateModel           {answer['model']} (copy of {answer['previous_model']}, "
        f"fails {answer['error_rate']:.0%} of requests)",
        f"  CreateEndpointConfig  {answer['config']} (copy of {answer['previous_config']}, "
        f"variant {answer['variant']} -> {answer['model']}; weights {weights})",
        f"  UpdateEndpoint        {answer['endpoint']} -> {answer['config']}: {answer['status']}",
    ]
    burst = answer.get("invocations")
    if burst:
        lines.append(f"  Invocations sent      {burst['sent']}, failed {burst['failed']}")
    if answer["alarms"]:
        lines.append(
            f"Watch: {', '.join(answer['alarms'])} (ALARM once a minute of errors is published)."
        )
    if answer.get("warning"):
        lines.append(f"Warning: {answer['warning']}")
    lines.append(f"Fix:   {answer['undo']['shift_traffic']}")
    lines.append(f"Undo:  {answer['undo']['rollback']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    if arguments.command == "serve":
        return serve(arguments)
    if arguments.command == "fault":
        return fault(arguments)
    if arguments.command == "scenario":
        return scenario(arguments)
    return 2


if __name__ == "__main__":
    sys.exit(main())
