"""The small real models: safe to load, deterministic, and actually predictive."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest

from sandbox.models import (
    ArtifactError,
    ModelInputError,
    artifact_bytes,
    holdout,
    holdout_rows,
    load_artifact,
    rows_to_csv,
    train_fraud,
    train_iris,
    train_model,
    train_tumor,
)


def test_artifact_is_a_tarball_of_json_only_and_round_trips() -> None:
    model = train_tumor()
    data = artifact_bytes(model)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        members = archive.getmembers()
        assert [m.name for m in members] == ["model.json"]
        document = json.loads(archive.extractfile(members[0]).read())  # type: ignore[union-attr]
    assert document["kind"] == "tumor"
    assert len(document["feature_names"]) == 30
    loaded = load_artifact(data)
    rows = rows_to_csv(holdout_rows("tumor")[:20])
    assert loaded.predict_csv(rows) == model.predict_csv(rows)


def test_training_is_deterministic() -> None:
    retrain = train_model.__wrapped__  # bypass the cache: train again from scratch
    first = artifact_bytes(retrain("fraud", regularization=0.5))
    second = artifact_bytes(retrain("fraud", regularization=0.5))
    assert first == second


def test_tumor_model_answers_probabilities_that_classify_held_out_rows() -> None:
    test = holdout("tumor")
    lines = train_tumor().predict_csv(rows_to_csv(test.features.tolist())).splitlines()
    probabilities = np.array([float(line) for line in lines])
    assert len(probabilities) == len(test.labels)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    predicted = np.where(probabilities >= 0.5, "malignant", "benign")
    assert (predicted == np.array(test.labels)).mean() > 0.9


def test_iris_model_answers_species_names() -> None:
    test = holdout("iris")
    answers = train_iris().predict_csv(rows_to_csv(test.features.tolist())).splitlines()
    assert set(answers) <= {"setosa", "versicolor", "virginica"}
    assert (np.array(answers) == np.array(test.labels)).mean() > 0.85


def test_the_two_fraud_variants_are_different_models() -> None:
    strong, weak = train_fraud(regularization=1.0), train_fraud(regularization=0.05)
    rows = rows_to_csv(holdout_rows("fraud")[:50])
    assert strong.predict_csv(rows) != weak.predict_csv(rows)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("1.0,2.0,3.0\n", "Row 1 has 3 columns; the model expects 30"),
        (rows_to_csv(holdout_rows("tumor")[:1]) + "x" + ",1" * 29 + "\n", "Row 2, column 1"),
        ("\n\n", "no CSV rows"),
    ],
)
def test_unreadable_rows_raise_model_input_error(body: str, complaint: str) -> None:
    with pytest.raises(ModelInputError, match=complaint):
        train_tumor().predict_csv(body)


def test_bytes_that_are_not_an_artifact_are_refused() -> None:
    with pytest.raises(ArtifactError):
        load_artifact(b"\x80\x04definitely not a tarball")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        payload = json.dumps({"format": "something-else"}).encode()
        info = tarfile.TarInfo("model.json")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    with pytest.raises(ArtifactError):
        load_artifact(raw.getvalue())
