"""Small real models the sandbox's endpoints serve.

Each model is trained at seed time with scikit-learn on data that ships with scikit-learn (or
is generated from a fixed seed), so the sandbox never downloads anything. A model is stored
as ``model.tar.gz`` holding one JSON file of parameters: loading it never unpickles, so an
artifact from an untrusted bucket cannot run code. Inference is plain numpy.

scikit-learn is imported only when training: serving a stored artifact needs numpy alone, so
a sandbox started without a seed does not pay for importing it.

Outputs follow the containers people deploy: binary models answer one probability per CSV
row (like XGBoost's ``binary:logistic``), multiclass models answer the predicted label.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import io
import json
import math
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

ARTIFACT_FORMAT = "sandbox-model"
ARTIFACT_FORMAT_VERSION = 1
ARTIFACT_MEMBER = "model.json"
HOLDOUT_FRACTION = 0.25
RANDOM_STATE = 42

ModelKind = Literal["tumor", "iris", "fraud", "churn"]
Task = Literal["binary_probability", "class_label"]
MODEL_KINDS: tuple[ModelKind, ...] = ("tumor", "iris", "fraud", "churn")


class ModelInputError(ValueError):
    """A request body the model cannot read; the runtime turns it into a ModelError."""


class ArtifactError(ValueError):
    """Bytes that are not a sandbox model artifact; the endpoint fails its health check."""


@dataclass(frozen=True, eq=False)
class LabelledData:
    """Feature rows with their true labels, as the model's training split saw them."""

    features: np.ndarray
    labels: tuple[str, ...]
    feature_names: tuple[str, ...]
    class_labels: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class SandboxModel:
    """A standardised linear classifier: everything needed to predict, nothing executable."""

    kind: str
    task: Task
    feature_names: tuple[str, ...]
    class_labels: tuple[str, ...]
    coefficients: np.ndarray
    intercepts: np.ndarray
    scaler_mean: np.ndarray
    scaler_scale: np.ndarray
    training: dict[str, Any]

    @property
    def feature_count(self) -> int:
        return len(self.feature_names)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per input row and one column per class label."""
        standardised = (features - self.scaler_mean) / self.scaler_scale
        scores = standardised @ self.coefficients.T + self.intercepts
        if self.task == "binary_probability":
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def predict_rows(self, features: np.ndarray) -> list[str]:
        """One output line per row: the positive-class probability or the predicted label."""
        probabilities = self.predict_proba(features)
        if self.task == "binary_probability":
            return [f"{p:.6f}" for p in probabilities[:, 1]]
        return [self.class_labels[i] for i in probabilities.argmax(axis=1)]

    def predict_csv(self, body: str) -> str:
        """Answer a text/csv request body the way a SageMaker container would, line for line."""
        return "\n".join(self.predict_rows(parse_csv_rows(body, self.feature_count))) + "\n"


def parse_csv_rows(body: str, feature_count: int) -> np.ndarray:
    """Parse CSV feature rows, naming the first row and column a model could not use."""
    lines = [line for line in body.splitlines() if line.strip()]
    if not lines:
        raise ModelInputError("The request body holds no CSV rows.")
    rows: list[list[float]] = []
    for row_number, line in enumerate(lines, start=1):
        fields = line.split(",")
        if len(fields) != feature_count:
            raise ModelInputError(
                f"Row {row_number} has {len(fields)} columns; the model expects {feature_count}."
            )
        row: list[float] = []
        for column_number, field in enumerate(fields, start=1):
            try:
                value = float(field.strip())
            except ValueError:
                raise ModelInputError(
                    f"Row {row_number}, column {column_number}: {field.strip()!r} is not a number."
                ) from None
            if not math.isfinite(value):
                raise ModelInputError(
                    f"Row {row_number}, column {column_number}: {field.strip()!r} is not finite."
                )
            row.append(value)
        rows.append(row)
    return np.asarray(rows, dtype=float)


def _dataset(kind: ModelKind) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Features, integer targets, feature names and class labels for one kind of model."""
    from sklearn.datasets import load_breast_cancer, load_iris, make_classification

    if kind == "tumor":
        data = load_breast_cancer()
        # scikit-learn codes malignant as 0; the model answers P(malignant), so flip it.
        targets = 1 - data.target
        names = tuple(str(name).replace(" ", "_") for name in data.feature_names)
        return data.data, targets, names, ("benign", "malignant")
    if kind == "iris":
        data = load_iris()
        names = tuple(
            str(name).removesuffix(" (cm)").replace(" ", "_") for name in data.feature_names
        )
        return data.data, data.target, names, tuple(str(label) for label in data.target_names)
    if kind == "fraud":
        features, targets = make_classification(
            n_samples=3000,
            n_features=12,
            n_informative=6,
            n_redundant=2,
            n_clusters_per_class=1,
            weights=[0.9],
            class_sep=1.0,
            random_state=7,
        )
        names = tuple(f"v{i}" for i in range(1, 12)) + ("amount",)
        features[:, -1] = np.round(np.exp(3.5 + 0.8 * features[:, -1]), 2)
        return features, targets, names, ("legit", "fraud")
    if kind == "churn":
        features, targets = make_classification(
            n_samples=2000,
            n_features=8,
            n_informative=5,
            n_redundant=1,
            n_clusters_per_class=1,
            weights=[0.75],
            class_sep=0.8,
            random_state=11,
        )
        names = (
            "tenure_months",
            "monthly_charges",
            "total_charges",
            "support_calls",
            "contract_months",
            "data_usage_gb",
            "late_payments",
            "num_products",
        )
        centres = np.array([30.0, 65.0, 1900.0, 2.0, 12.0, 8.0, 1.0, 2.0])
        spreads = np.array([12.0, 20.0, 900.0, 1.0, 6.0, 3.0, 0.8, 0.7])
        return np.round(features * spreads + centres, 2), targets, names, ("stays", "churns")
    raise ValueError(f"Unknown model kind {kind!r}; expected one of {', '.join(MODEL_KINDS)}.")


@functools.cache
def _split(kind: ModelKind) -> tuple[LabelledData, LabelledData]:
    """The fixed train/holdout split, so training and the traffic generator never overlap."""
    from sklearn.model_selection import train_test_split

    features, targets, names, class_labels = _dataset(kind)
    train_x, test_x, train_y, test_y = train_test_split(
        features, targets, test_size=HOLDOUT_FRACTION, random_state=RANDOM_STATE, stratify=targets
    )
    to_labels = lambda ys: tuple(class_labels[int(y)] for y in ys)  # noqa: E731
    return (
        LabelledData(train_x, to_labels(train_y), names, class_labels),
        LabelledData(test_x, to_labels(test_y), names, class_labels),
    )


def holdout(kind: ModelKind) -> LabelledData:
    """Rows the model never trained on, with their true labels, for traffic and accuracy checks."""
    return _split(kind)[1]


def holdout_rows(kind: ModelKind) -> list[list[float]]:
    """Held-out feature rows as plain lists, ready to send as CSV."""
    return holdout(kind).features.tolist()


def rows_to_csv(rows: Sequence[Sequence[float]]) -> str:
    """CSV text/csv body for feature rows, using repr so no precision is lost on the wire."""
    return "".join(",".join(repr(float(value)) for value in row) + "\n" for row in rows)


@functools.cache
def train_model(kind: ModelKind, *, regularization: float = 1.0) -> SandboxModel:
    """Fit a standardised logistic regression; deterministic for a given kind and strength."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    train, test = _split(kind)
    class_index = {label: i for i, label in enumerate(train.class_labels)}
    train_y = np.array([class_index[label] for label in train.labels])
    scaler = StandardScaler().fit(train.features)
    classifier = LogisticRegression(C=regularization, max_iter=1000)
    classifier.fit(scaler.transform(train.features), train_y)
    task: Task = "binary_probability" if len(train.class_labels) == 2 else "class_label"
    model = SandboxModel(
        kind=kind,
        task=task,
        feature_names=train.feature_names,
        class_labels=train.class_labels,
        coefficients=np.asarray(classifier.coef_, dtype=float),
        intercepts=np.asarray(classifier.intercept_, dtype=float),
        scaler_mean=np.asarray(scaler.mean_, dtype=float),
        scaler_scale=np.asarray(scaler.scale_, dtype=float),
        training={"algorithm": "logistic_regression", "C": regularization},
    )
    predicted = model.predict_proba(test.features).argmax(axis=1)
    truth = np.array([class_index[label] for label in test.labels])
    accuracy = round(float((predicted == truth).mean()), 4)
    training = {**model.training, "holdout_accuracy": accuracy, "holdout_rows": len(truth)}
    return dataclasses.replace(model, training=training)


def train_tumor(*, regularization: float = 1.0) -> SandboxModel:
    """Breast cancer classifier answering the probability that a tumour is malignant."""
    return train_model("tumor", regularization=regularization)


def train_iris(*, regularization: float = 1.0) -> SandboxModel:
    """Multinomial iris classifier answering the species name."""
    return train_model("iris", regularization=regularization)


def train_fraud(*, regularization: float = 1.0) -> SandboxModel:
    """Card-fraud classifier on synthetic transactions, answering the probability of fraud."""
    return train_model("fraud", regularization=regularization)


def train_churn(*, regularization: float = 1.0) -> SandboxModel:
    """Customer churn classifier on synthetic accounts, answering the probability of churn."""
    return train_model("churn", regularization=regularization)


def artifact_document(model: SandboxModel) -> dict[str, Any]:
    """The JSON parameters file: readable by people, loadable without executing anything."""
    return {
        "format": ARTIFACT_FORMAT,
        "format_version": ARTIFACT_FORMAT_VERSION,
        "kind": model.kind,
        "task": model.task,
        "feature_names": list(model.feature_names),
        "class_labels": list(model.class_labels),
        "coefficients": model.coefficients.tolist(),
        "intercepts": model.intercepts.tolist(),
        "scaler": {"mean": model.scaler_mean.tolist(), "scale": model.scaler_scale.tolist()},
        "training": model.training,
    }


def artifact_bytes(model: SandboxModel) -> bytes:
    """A model.tar.gz as SageMaker expects, byte-identical for identical parameters."""
    payload = json.dumps(artifact_document(model), indent=2, sort_keys=True).encode()
    info = tarfile.TarInfo(ARTIFACT_MEMBER)
    info.size = len(payload)
    info.mtime = 0
    info.mode = 0o644
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        archive.addfile(info, io.BytesIO(payload))
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0) as stream:
        stream.write(raw.getvalue())
    return compressed.getvalue()


def load_artifact(data: bytes) -> SandboxModel:
    """Read a model.tar.gz without extracting to disk or unpickling; ArtifactError if unusable."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            member = archive.getmember(ARTIFACT_MEMBER)
            stream = archive.extractfile(member) if member.isfile() else None
            if stream is None:
                raise ArtifactError(f"{ARTIFACT_MEMBER} in the archive is not a regular file.")
            document = json.loads(stream.read())
    except KeyError:
        raise ArtifactError(f"The archive holds no {ARTIFACT_MEMBER}.") from None
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError) as error:
        raise ArtifactError(f"Not a sandbox model archive: {error}") from None
    return _model_from_document(document)


def _model_from_document(document: Any) -> SandboxModel:
    """Validate the parameters file so a bad artifact fails at load, not mid-request."""
    if not isinstance(document, dict) or document.get("format") != ARTIFACT_FORMAT:
        raise ArtifactError(f"{ARTIFACT_MEMBER} is not a {ARTIFACT_FORMAT} document.")
    if document.get("format_version") != ARTIFACT_FORMAT_VERSION:
        raise ArtifactError(f"Unsupported format_version {document.get('format_version')!r}.")
    try:
        feature_names = tuple(str(name) for name in document["feature_names"])
        class_labels = tuple(str(label) for label in document["class_labels"])
        coefficients = np.asarray(document["coefficients"], dtype=float)
        intercepts = np.asarray(document["intercepts"], dtype=float)
        mean = np.asarray(document["scaler"]["mean"], dtype=float)
        scale = np.asarray(document["scaler"]["scale"], dtype=float)
        task = document["task"]
    except (KeyError, TypeError, ValueError) as error:
        raise ArtifactError(f"{ARTIFACT_MEMBER} is missing or mistypes a field: {error}") from None
    width = len(feature_names)
    rows = 1 if task == "binary_probability" else len(class_labels)
    if task not in ("binary_probability", "class_label"):
        raise ArtifactError(f"Unknown task {task!r}.")
    if (
        coefficients.shape != (rows, width)
        or intercepts.shape != (rows,)
        or mean.shape != (width,)
        or scale.shape != (width,)
        or not np.all(scale > 0)
    ):
        raise ArtifactError(f"{ARTIFACT_MEMBER} has parameters of inconsistent shapes.")
    return SandboxModel(
        kind=str(document.get("kind", "unknown")),
        task=task,
        feature_names=feature_names,
        class_labels=class_labels,
        coefficients=coefficients,
        intercepts=intercepts,
        scaler_mean=mean,
        scaler_scale=scale,
        training=dict(document.get("training") or {}),
    )
