"""Transform jobs and their lifecycle: InProgress, then Completed, Failed or Stopping/Stopped.

moto marks a transform job Completed the moment it is created and writes nothing. Here each
job runs in a thread of its own: it loads the model's artifact from S3 as a container would,
reads every object under the input prefix in key order, runs each through
``sandbox.transform_io`` and writes ``<output prefix>/<key relative to the input>.out``.

What reaches S3 follows AWS: outputs are written once the job's fate is known, so a stopped
job leaves no output; when an object fails, the job fails with a FailureReason naming the
object and line, the objects finished before it keep their output and the failing object's
partial output is never uploaded.

A job stays InProgress (and Stopping) for at least ``seconds`` so that a console can watch
the transition, as it would on AWS where instances take minutes to start; tests set it small.
Mini-batches run one after another on one thread: MaxConcurrentTransforms and the instance
count are validated and count against quotas, but the sandbox has one "instance".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sandbox import moto_bridge
from sandbox.model_data import ArtifactCache, download_failure, split_s3_url
from sandbox.models import ArtifactError, SandboxModel
from sandbox.transform_io import RecordError, TransformSettings, TransformStopped, transform_object

logger = logging.getLogger(__name__)
Clock = Callable[[], float]


class TransformStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


# Jobs whose instances count against the account's quota.
ACTIVE = (TransformStatus.IN_PROGRESS, TransformStatus.STOPPING)


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass
class TransformJob:
    """One job: its parameters as DescribeTransformJob shows them, and its progress."""

    account_id: str
    region: str
    name: str
    arn: str
    model_name: str
    parameters: dict[str, Any]
    settings: TransformSettings
    source: S3Location
    destination: S3Location
    instance_type: str
    instance_count: int
    creation_time: float
    last_modified_time: float
    status: TransformStatus = TransformStatus.IN_PROGRESS
    failure_reason: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    stop_requested_at: float | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    discarded: bool = False


class JobFailure(Exception):
    """Why a job failed, in the words DescribeTransformJob's FailureReason uses."""


@dataclass
class Outcome:
    """What running a job produced: outputs to write, and a failure or a stop if any."""

    outputs: list[tuple[str, bytes]] = field(default_factory=list)
    failure: str | None = None
    stopped: bool = False


class DuplicateJob(Exception):
    """A job of that name already exists in the account and region."""


class QuotaExceeded(Exception):
    """The job's instances would take the account over its quota; ``in_use`` are running."""

    def __init__(self, in_use: int) -> None:
        super().__init__(in_use)
        self.in_use = in_use


def output_key(source: S3Location, destination: S3Location, key: str) -> str:
    """``<output prefix>/<key relative to the input prefix's folder>.out``."""
    folder = source.prefix[: source.prefix.rfind("/") + 1]
    relative = key[len(folder) :]
    base = destination.prefix.rstrip("/")
    return f"{base}/{relative}.out" if base else f"{relative}.out"


class TransformStore:
    """Every account's transform jobs, and the threads running them."""

    def __init__(self, artifacts: ArtifactCache, seconds: float = 1.0, clock: Clock = time.time):
        if seconds < 0:
            raise ValueError("Transform transition time cannot be negative.")
        self.artifacts = artifacts
        self.seconds = seconds
        self.clock = clock
        self._jobs: dict[tuple[str, str, str], TransformJob] = {}
        self._lock = threading.Lock()

    def admit(self, job: TransformJob, quota: float | None) -> None:
        """Add the job unless its name is taken or it would exceed the instance quota.

        Both checks and the insert happen under one lock, so two concurrent requests cannot
        both squeeze under the quota.
        """
        key = (job.account_id, job.region, job.name)
        with self._lock:
            if key in self._jobs:
                raise DuplicateJob()
            if quota is not None:
                in_use = sum(
                    other.instance_count
                    for other in self._jobs.values()
                    if (other.account_id, other.region) == (job.account_id, job.region)
                    and other.instance_type == job.instance_type
                    and other.status in ACTIVE
                )
                if in_use + job.instance_count > quota:
                    raise QuotaExceeded(in_use)
            self._jobs[key] = job

    def start(self, job: TransformJob) -> None:
        threading.Thread(
            target=self._run, args=(job,), name=f"transform-{job.name}", daemon=True
        ).start()

    def get(self, account_id: str, region: str, name: str) -> TransformJob | None:
        with self._lock:
            return self._jobs.get((account_id, region, name))

    def jobs(self, account_id: str, region: str) -> list[TransformJob]:
        with self._lock:
            return [
                j for j in self._jobs.values() if (j.account_id, j.region) == (account_id, region)
            ]

    def stop(self, job: TransformJob) -> bool:
        """Ask a running job to stop; False if it has already ended (or is stopping)."""
        with self._lock:
            if job.status == TransformStatus.STOPPING:
                return True
            if job.status != TransformStatus.IN_PROGRESS:
                return False
            now = self.clock()
            job.status = TransformStatus.STOPPING
            job.stop_requested_at = now
            job.last_modified_time = now
        job.stop_event.set()
        return True

    def clear(self) -> None:
        """Forget every job; running threads notice and write nothing more."""
        with self._lock:
            for job in self._jobs.values():
                job.discarded = True
                job.stop_event.set()
            self._jobs.clear()

    def execute(self, job: TransformJob) -> Outcome:
        """Load the model and transform every input object; no waiting, nothing written."""
        outcome = Outcome()
        try:
            model = self._load_model(job)
            keys = self._input_keys(job)
            if not moto_bridge.s3_bucket_exists(job.account_id, job.region, job.destination.bucket):
                raise JobFailure(
                    f'ClientError: The output bucket "{job.destination.bucket}" does not exist '
                    f"in region {job.region}."
                )
            for key in keys:
                found = moto_bridge.read_s3_object(
                    job.account_id, job.region, job.source.bucket, key
                )
                if found is None:
                    continue
                try:
                    data = transform_object(found.data, job.settings, model, job.stop_event.is_set)
                except RecordError as error:
                    where = f" at line {error.line}" if error.line is not None else ""
                    raise JobFailure(
                        f"ClientError: Failed to transform s3://{job.source.bucket}/{key}"
                        f"{where}: {error.message}"
                    ) from None
                outcome.outputs.append((output_key(job.source, job.destination, key), data))
        except TransformStopped:
            outcome.stopped = True
        except JobFailure as failure:
            outcome.failure = str(failure)
        return outcome

    def finish(self, job: TransformJob, outcome: Outcome, at: float) -> None:
        """Write what the outcome allows and move the job to its terminal status."""
        with self._lock:
            if job.discarded:
                return
            if job.status == TransformStatus.STOPPING or outcome.stopped:
                job.status = TransformStatus.STOPPED
            else:
                for key, data in outcome.outputs:
                    moto_bridge.write_s3_object(
                        job.account_id,
                        job.region,
                        job.destination.bucket,
                        key,
                        data,
                        job.settings.output_media,
                    )
                if outcome.failure is not None:
                    job.status = TransformStatus.FAILED
                    job.failure_reason = outcome.failure
                else:
                    job.status = TransformStatus.COMPLETED
            job.end_time = at
            job.last_modified_time = at

    def _run(self, job: TransformJob) -> None:
        try:
            with self._lock:
                job.start_time = self.clock()
            outcome = self.execute(job)
            due = job.creation_time + self.seconds
            job.stop_event.wait(max(0.0, due - self.clock()))
            if job.stop_requested_at is not None and not job.discarded:
                time.sleep(max(0.0, job.stop_requested_at + self.seconds - self.clock()))
            self.finish(job, outcome, self.clock())
        except Exception:
            logger.exception("Transform job %s crashed", job.name)
            self.finish(
                job, Outcome(failure="InternalServerError: The sandbox failed."), self.clock()
            )

    def _load_model(self, job: TransformJob) -> SandboxModel:
        description = moto_bridge.model_description(job.account_id, job.region, job.model_name)
        if description is None:
            raise JobFailure(f"ClientError: Could not find model {job.model_name}.")
        containers = description.get("Containers") or [description.get("PrimaryContainer") or {}]
        url = str(containers[0].get("ModelDataUrl") or "")
        location = split_s3_url(url)
        if location is None:
            raise JobFailure(f"ClientError: {download_failure(1, url)}")
        try:
            model = self.artifacts.load(job.account_id, job.region, *location)
        except ArtifactError as error:
            raise JobFailure(
                f"AlgorithmError: The model container could not load the model data from "
                f"{url}: {error}"
            ) from None
        if model is None:
            raise JobFailure(f"ClientError: {download_failure(1, url)}")
        return model

    def _input_keys(self, job: TransformJob) -> list[str]:
        source = job.source
        keys = moto_bridge.list_s3_keys(job.account_id, job.region, source.bucket, source.prefix)
        keys = [key for key in keys or [] if not key.endswith("/")]
        if not keys:
            raise JobFailure(
                f'ClientError: No S3 objects found under S3 URL "{source.uri}" given in input '
                f"data source. Please ensure that the bucket exists in the selected region "
                f"({job.region}), that objects exist under that S3 prefix, and that the role "
                f'has "s3:ListBucket" permissions on bucket "{source.bucket}".'
            )
        return keys
