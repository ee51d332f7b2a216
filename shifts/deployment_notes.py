"""Deployment plans in words: what SageMaker will do step by step, how long it bakes, what
rolls it back, and one-line descriptions for lists. Pure, like `deployment_options`, whose
plans and messages use these words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.text import count, duration

if TYPE_CHECKING:
    from shifts.deployment_options import DeploymentOptions, DeploymentPlan


def describe_plan(plan: DeploymentPlan) -> str:
    """One line for lists, e.g. "Canary 10 % for 5 min, then all; roll back on 2 alarms"."""
    config = plan.config
    if config is None:
        return "All at once, no guardrails"
    alarms = config.get("AutoRollbackConfiguration", {}).get("Alarms", [])
    rollback = f"roll back on {count(len(alarms), 'alarm')}" if alarms else "no rollback alarms"
    if "RollingUpdatePolicy" in config:
        policy = config["RollingUpdatePolicy"]
        wait = policy["WaitIntervalInSeconds"]
        bake = f"{duration(wait)} bake each" if wait else "no bake"
        steps = f"Rolling in batches of {_size(policy['MaximumBatchSize'])}, {bake}"
    else:
        routing = config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
        wait = routing["WaitIntervalInSeconds"]
        if routing["Type"] == "CANARY":
            bake = f"for {duration(wait)}" if wait else "with no bake"
            steps = f"Canary {_size(routing['CanarySize'])} {bake}, then all"
        elif routing["Type"] == "LINEAR":
            bake = f"every {duration(wait)}" if wait else "with no bake"
            steps = f"Linear steps of {_size(routing['LinearStepSize'])} {bake}"
        else:
            steps = f"All at once, {duration(wait)} bake" if wait else "All at once, no bake"
    return f"{steps}; {rollback}"


def fallback_note(strategy: str, reasons: list[str]) -> str:
    chosen = strategy.lower().replace("_", "-")
    return (
        f"SageMaker cannot use deployment guardrails on this endpoint: {'; '.join(reasons)}. "
        "It will deploy all at once, with no bake and no rollback on alarms, so the "
        f"{chosen} options are not sent."
    )


def plan_notes(options: DeploymentOptions, fleet: int) -> list[str]:
    """The plan in words: the steps, how long the bakes take, what rolls it back."""
    steps = _steps(options, fleet)
    notes = [_steps_note(options, steps, fleet)]
    bake = _bakes(options.strategy, steps) * options.wait_seconds
    waits = bake
    if options.strategy == "ROLLING":
        notes.append(f"Bake time {duration(bake)} in all.")
        back = options.rollback_batch_percent
        notes.append(
            f"A rollback brings the old fleet back in batches of {back} %."
            if back is not None
            else "A rollback brings the old fleet back all at once."
        )
    else:
        termination = options.termination_wait_seconds
        waits += termination
        notes.append(_termination_note(bake, termination))
    timeout = options.max_execution_timeout_seconds
    if timeout is not None and timeout <= waits:
        notes.append(
            f"The time limit ({duration(timeout)}) is not longer than the waits "
            f"({duration(waits)}): the deployment will time out and roll back. Allow more "
            f"than {duration(waits)} plus the time the new instances take to start."
        )
    notes.append(_alarms_note(options.rollback_alarms, waits))
    return notes


def _termination_note(bake: int, termination: int) -> str:
    if bake and termination:
        return (
            f"Bake time {duration(bake)} in all, then {duration(termination)} "
            "before the old fleet is terminated."
        )
    if bake:
        return f"Bake time {duration(bake)} in all; then the old fleet is terminated."
    if termination:
        return f"The old fleet is terminated {duration(termination)} after the traffic moves."
    return "The old fleet is terminated as soon as the traffic has moved."


def _alarms_note(alarms: tuple[str, ...], waits: int) -> str:
    if not alarms:
        return "No rollback alarms: the bakes wait, but nothing rolls the deployment back."
    if len(alarms) == 1:
        watched = f"Rolls back if the alarm {alarms[0]} goes off."
    else:
        watched = f"Rolls back if any of these {len(alarms)} alarms goes off: {', '.join(alarms)}."
    if waits:
        return watched
    return f"{watched} With no bake or wait, the alarms have hardly any time to go off."


def _steps(options: DeploymentOptions, fleet: int) -> int:
    """How many times traffic moves, each move followed by a bake."""
    if options.strategy == "ALL_AT_ONCE":
        return 1
    if options.strategy == "CANARY":
        return 2  # the canary, then the rest of the traffic
    whole = 100 if options.size_type == "CAPACITY_PERCENT" else fleet
    return -(-whole // options.size_value)


def _bakes(strategy: str, steps: int) -> int:
    """How many WaitIntervalInSeconds bakes: one after each move of traffic but the last,
    whose wait is TerminationWaitInSeconds (the final bake before the old fleet goes) —
    except all at once, whose single move is baked, and rolling, whose every batch is."""
    if strategy in ("ALL_AT_ONCE", "ROLLING"):
        return steps
    return max(steps - 1, 0)


def _steps_note(options: DeploymentOptions, steps: int, fleet: int) -> str:
    bake = _bake(options.wait_seconds)
    step = _step_size(options.size_type, options.size_value, fleet)
    if options.strategy == "CANARY":
        return f"Canary: {step} takes traffic first, {bake}; then all traffic moves."
    if options.strategy == "LINEAR":
        return f"Linear: {count(steps, 'step')} of {step}, each but the last {bake}."
    if options.strategy == "ROLLING":
        batches = count(steps, "batch", "batches")
        return f"Rolling: {batches} of {step}, each {bake}; old instances go batch by batch."
    return f"All at once: the new fleet takes all traffic, {bake}."


def _step_size(size_type: str, value: int, fleet: int) -> str:
    if size_type == "INSTANCE_COUNT":
        return count(value, "instance")
    instances = max(1, fleet * value // 100)
    return f"{value} % of the new fleet (about {instances} of {count(fleet, 'instance')})"


def _bake(seconds: int) -> str:
    return f"baking {duration(seconds)}" if seconds else "with no bake"


def _size(capacity: dict[str, Any]) -> str:
    if capacity["Type"] == "CAPACITY_PERCENT":
        return f"{capacity['Value']} %"
    return count(capacity["Value"], "instance")


def number(value: int, unit: str = "") -> str:
    """Printable even for absurd input (Python will not print an int of 4300+ digits)."""
    return f"{value}{unit}" if abs(value) < 10**15 else "a number far outside that range"
