"""What the launch form asks for: where, and the job's parameters."""

from __future__ import annotations

from dataclasses import dataclass

from core.aws.types import TransformSpec


@dataclass(frozen=True)
class TransformLaunch:
    """A batch job to launch in one target-region, before any check."""

    target: str
    region: str
    spec: TransformSpec
    name: str = ""  # the TransformJobName; "" for one generated from the job's id
    # The launcher saw the pre-flight warning that the output prefix already holds objects
    # (same-named `.out` files from an earlier job would be overwritten) and went on.
    overwrite_output: bool = False
