from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import registry
from {{ cookiecutter.package_name }}.settings import MODELS, load_settings
from {{ cookiecutter.package_name }}.training import build_pipeline, run_training

DAY = "2026-02-10"


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


@pytest.mark.parametrize(
    ("challenger", "champion", "min_improvement", "promoted"),
    [
        (0.80, None, 0.0, True),
        (0.70, None, 0.0, False),
        (0.82, 0.80, 0.0, True),
        (0.80, 0.80, 0.0, True),
        (0.81, 0.80, 0.02, False),
        (0.79, 0.80, 0.0, False),
    ],
)
def test_promotion_gate(challenger, champion, min_improvement, promoted):
    decision, reason = registry.promotion_decision(challenger, champion, 0.75, min_improvement)
    assert decision is promoted
    assert reason


def test_first_training_logs_registers_promotes_and_records_lineage(isolated_store):
    result = run_training(isolated_store, DAY, tags={"trigger": "test"})

    client = registry.connect(isolated_store)
    run = client.get_run(result["run_id"])
    for metric in (
        "training_accuracy",
        "cv_mean_accuracy",
        "cv_std_accuracy",
        "test_accuracy",
        "test_f1",
    ):
        assert metric in run.data.metrics
    assert result["promoted"], result["reason"]
    champion = registry.champion_version(client, isolated_store)
    assert str(champion.version) == result["model_version"]
    assert champion.run_id == result["run_id"]
    [dataset] = run.inputs.dataset_inputs
    assert champion.tags["training_data_digest"] == dataset.dataset.digest
    assert champion.tags["logical_date"] == DAY
    assert champion.tags["trigger"] == "test"


def test_weaker_challenger_is_registered_but_not_promoted(isolated_store):
    first = run_training(isolated_store, DAY)
    # Above min_accuracy, so only the comparison with the champion can stop it.
    weak = replace(isolated_store, max_features=5, ngram_max=1, min_accuracy=0.5)
    second = run_training(weak, "2026-02-11")

    assert not second["promoted"]
    assert "does not beat the champion" in second["reason"]
    client = registry.connect(isolated_store)
    name = isolated_store.registered_model_name
    assert str(registry.champion_version(client, isolated_store).version) == first["model_version"]
    rejected = client.get_model_version(name, second["model_version"])
    assert rejected.tags["promotion"] == "rejected"
    assert float(rejected.tags["champion_holdout_accuracy"]) > float(
        rejected.tags["challenger_holdout_accuracy"]
    )
    assert client.get_model_version_by_alias(name, "challenger").version == rejected.version


def test_manual_promote_and_rollback_record_who_and_why(isolated_store):
    first = run_training(isolated_store, DAY)
    second = run_training(replace(isolated_store, min_accuracy=0.99), "2026-02-11")
    assert not second["promoted"]
    client = registry.connect(isolated_store)
    name = isolated_store.registered_model_name

    registry.promote(
        client, isolated_store, second["model_version"], reason="manual: try it", actor="ana"
    )
    promoted = registry.champion_version(client, isolated_store)
    assert str(promoted.version) == second["model_version"]
    assert promoted.tags["promoted_by"] == "ana"
    assert promoted.tags["previous_champion"] == first["model_version"]

    restored = registry.rollback(client, isolated_store, reason="worse on real traffic", actor="bo")
    assert restored == first["model_version"]
    champion = client.get_model_version_by_alias(name, "champion")
    assert str(champion.version) == first["model_version"]
    assert "worse on real traffic" in champion.tags["promotion_reason"]
    assert champion.tags["promoted_by"] == "bo"
