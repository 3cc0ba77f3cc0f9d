from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ cookiecutter.package_name }} import registry
from {{ cookiecutter.package_name }}.settings import MODELS, load_settings
from {{ cookiecutter.package_name }}.training import build_pipeline, train


@pytest.mark.parametrize("model", MODELS)
def test_every_model_gives_class_probabilities(model):
    settings = replace(load_settings(), model=model)
    frame = pd.DataFrame({"text": ["great fun", "awful mess", "not good", "really great"] * 10})
    labels = ["positive", "negative", "negative", "positive"] * 10
    pipeline = build_pipeline(settings).fit(frame, labels)
    probabilities = pipeline.predict_proba(frame.head(4))
    assert probabilities.shape == (4, 2)
    assert probabilities.sum(axis=1) == pytest.approx([1, 1, 1, 1])


def test_negations_survive_the_vectorizer():
    pipeline = build_pipeline(load_settings())
    vectorizer = pipeline.named_steps["features"].transformers[0][1]
    vocabulary = vectorizer.fit(["not good", "no way", "never again"]).vocabulary_
    assert {"not", "no", "never"} <= set(vocabulary)


def test_train_logs_registers_and_promotes(isolated_store):
    result = train(isolated_store)

    client = MlflowClient(isolated_store.tracking_uri)
    run = client.get_run(result["run_id"])
    for metric in (
        "training_accuracy",
        "cv_mean_accuracy",
        "cv_std_accuracy",
        "test_accuracy",
        "test_f1",
    ):
        assert metric in run.data.metrics
    assert result["promoted"]
    champion = registry.champion_version(client, isolated_store)
    assert str(champion.version) == result["model_version"]
    assert champion.run_id == result["run_id"]


def test_a_model_below_min_accuracy_is_registered_but_not_promoted(isolated_store):
    first = train(isolated_store)
    strict = replace(isolated_store, min_accuracy=1.0)
    second = train(strict)

    assert not second["promoted"]
    assert "min_accuracy" in second["reason"]
    client = MlflowClient(isolated_store.tracking_uri)
    assert str(registry.champion_version(client, isolated_store).version) == first["model_version"]
    rejected = client.get_model_version(
        isolated_store.registered_model_name, second["model_version"]
    )
    assert rejected.tags["promotion"] == "rejected"
