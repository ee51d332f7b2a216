"""Launch form and list filters. Field checks here are the ones that need no AWS call;
the pre-flight checks against AWS run in `services.transform_job_preflight`."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, fields
from typing import Any

from django import forms

from core.aws.types import TransformSpec
from core.forms import set_choices
from core.redaction import is_secret_name
from transforms import selectors
from transforms.models import (
    TransformJob,
    TransformSource,
    TransformStatus,
    job_name_for,
    job_name_problem,
)
from transforms.services import OVERWRITE_LABEL, TransformLaunch

CONTENT_TYPES = [(c, c) for c in ("text/csv", "application/json", "application/jsonlines")]
ACCEPTS = [("", "same as model default"), *CONTENT_TYPES]
INSTANCE_TYPES = [
    (t, t)
    for t in (
        "ml.m5.large",
        "ml.m5.xlarge",
        "ml.m5.2xlarge",
        "ml.c5.xlarge",
        "ml.c5.2xlarge",
        "ml.m5.4xlarge",
        "ml.c5.4xlarge",
        "ml.g4dn.xlarge",
    )
]
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$")


class TransformLaunchForm(forms.Form):
    target_region = forms.ChoiceField(label="Account / region")
    name = forms.CharField(
        max_length=63,
        required=False,
        label="Job name (TransformJobName)",
        help_text="Letters, digits and hyphens (63 at most), beginning and ending with a letter "
        "or digit; unique in the account and region. Leave it empty for a generated name.",
    )
    model_name = forms.CharField(max_length=63, label="Model")
    input_uri = forms.CharField(max_length=1024, label="Input S3 URI (object or prefix)")
    content_type = forms.ChoiceField(choices=CONTENT_TYPES)
    split_type = forms.ChoiceField(
        choices=[(c, c) for c in ("Line", "None", "RecordIO", "TFRecord")], initial="Line"
    )
    compression_type = forms.ChoiceField(choices=[("None", "None"), ("Gzip", "Gzip")])
    batch_strategy = forms.ChoiceField(
        choices=[("MultiRecord", "MultiRecord"), ("SingleRecord", "SingleRecord")]
    )
    max_payload_mb = forms.IntegerField(label="Max payload (MB)", initial=6)
    max_concurrent_transforms = forms.IntegerField(initial=1)
    instance_type = forms.ChoiceField(choices=INSTANCE_TYPES, initial="ml.m5.xlarge")
    instance_count = forms.IntegerField(initial=1)
    output_path = forms.CharField(max_length=1024, label="Output S3 path")
    accept = forms.ChoiceField(choices=ACCEPTS, required=False)
    assemble_with = forms.ChoiceField(choices=[("Line", "Line"), ("None", "None")])
    input_filter = forms.CharField(max_length=63, required=False, label="InputFilter")
    output_filter = forms.CharField(max_length=63, required=False, label="OutputFilter")
    join_source = forms.ChoiceField(
        choices=[("", "None"), ("Input", "Input")], required=False, label="JoinSource"
    )
    kms_key_id = forms.CharField(max_length=2048, required=False, label="KMS key (optional)")
    environment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="KEY=value, one per line (at most 16). Copying a job leaves the values of "
        "secret-looking variables (passwords, tokens, keys) for you to type again.",
    )
    overwrite_output = forms.BooleanField(required=False, label=OVERWRITE_LABEL)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "target_region", selectors.target_region_choices())

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        problem = job_name_problem(name) if name else None
        if problem:
            raise forms.ValidationError(problem)
        return name

    def clean_environment(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["environment"].splitlines(), 1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            key = key.strip()
            if not sep or not _ENV_KEY.match(key):
                raise forms.ValidationError(f"Line {number} is not KEY=value.")
            env[key] = value.strip()
        return env

    def launch(self) -> TransformLaunch:
        """The launch the form describes; call after is_valid()."""
        data = self.cleaned_data
        target, _, region = data["target_region"].partition("/")
        spec_values = {
            f.name: data[f.name].strip() if isinstance(data[f.name], str) else data[f.name]
            for f in fields(TransformSpec)
            if f.name in data
        }
        return TransformLaunch(
            target=target,
            region=region,
            spec=TransformSpec(**spec_values),
            name=data["name"],
            overwrite_output=bool(data.get("overwrite_output")),
        )


def copied_output_path(output_path: str, name: str) -> str:
    """A copy's own output prefix: the copied job's parent prefix plus the new job's name,
    so the copy never writes over the copied job's output."""
    bucket_and_key = output_path.strip().rstrip("/")
    scheme = "s3://"
    path = bucket_and_key[len(scheme) :] if bucket_and_key.startswith(scheme) else bucket_and_key
    parent = path.rsplit("/", 1)[0] if "/" in path else path
    return f"{scheme}{parent}/{name}"


def initial_from(job: TransformJob) -> dict[str, Any]:
    """The launch form's values copied from a previous job, under a new name and with an
    output prefix of its own."""
    values: dict[str, Any] = asdict(job.spec)
    values["target_region"] = f"{job.target}/{job.region}"
    values["name"] = job_name_for(uuid.uuid4())
    values["output_path"] = copied_output_path(job.output_path, values["name"])
    values["batch_strategy"] = job.batch_strategy or "MultiRecord"
    # A secret's value is not copied onto the page: the new job's launcher types it again.
    # Sorted, as on the job page: PostgreSQL's jsonb does not keep the order they were typed in.
    values["environment"] = "\n".join(
        f"{k}=" if is_secret_name(k) else f"{k}={v}" for k, v in sorted(job.environment.items())
    )
    return values


class TransformFilterForm(forms.Form):
    text = forms.CharField(required=False, max_length=63, label="Name or model contains")
    target_region = forms.ChoiceField(required=False, label="Account / region")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *TransformStatus.choices]
    )
    source = forms.ChoiceField(
        required=False, choices=[("", "Portal and synced"), *TransformSource.choices]
    )
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(
            self,
            "target_region",
            [
                ("", "All"),
                *selectors.target_region_choices(),
            ],
        )
