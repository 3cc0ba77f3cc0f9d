"""Training logs, registers and gates: a champion with lineage, a weaker challenger kept out."""

from __future__ import annotations

import getpass
from html import escape
from pathlib import Path

import mlflow.artifacts
import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.data.readers import read_table
from {{ cookiecutter.package_name }}.data.schema import bundled_dataset_path
from {{ cookiecutter.package_name }}.steps.training import run_training
from {{ cookiecutter.package_name }}.tracking import reference, registry
from {{ cookiecutter.package_name }}.tracking.client import connect

DAY = "2026-02-10"
# A small vocabulary trains in a fraction of the default's time.
QUICK = {"max_features": 50, "ngram_max": 1}


def test_first_training_logs_registers_promotes_and_records_lineage(session_settings, champion):
    client = connect(session_settings)
    run = client.get_run(champion["run_id"])
    for metric in (
        "training_accuracy",
        "cv_mean_accuracy",
        "cv_std_accuracy",
        "test_accuracy",
        "test_f1",
    ):
        assert metric in run.data.metrics
    version = client.get_model_version(
        session_settings.model.registered_model_name, champion["model_version"]
    )
    assert version.run_id == champion["run_id"]
    assert version.tags["promotion"] == "promoted"
    contexts = {item.dataset.name: item.tags[0].value for item in run.inputs.dataset_inputs}
    assert contexts == {"training-data": "training"}
    [dataset] = [item for item in run.inputs.dataset_inputs if item.dataset.name == "training-data"]
    assert version.tags["training_data_digest"] == dataset.dataset.digest
    assert version.tags["logical_date"] == "2026-01-01"
    assert version.tags["trigger"] == "test-session"


def test_mlflow_s_evaluator_scores_the_hold_out_on_the_training_run(champion_store, champion):
    settings = champion_store.with_overrides(mlflow_evaluator=True, min_accuracy=0.5, **QUICK)
    second = run_training(settings, DAY)

    run = connect(champion_store).get_run(second["run_id"])
    # The training data, and the hold-out MLflow's evaluator scored, under its prefix.
    contexts = {item.dataset.name: item.tags[0].value for item in run.inputs.dataset_inputs}
    assert contexts == {"training-data": "training", "holdout-set": "holdout_"}
    # On the rows of the project's own report, which the gate judged.
    assert run.data.metrics["holdout_accuracy_score"] == pytest.approx(
        run.data.metrics["holdout_accuracy"]
    )
    assert run.data.metrics["holdout_accuracy"] == pytest.approx(second["challenger"]["accuracy"])
    plots = {item.path for item in connect(champion_store).list_artifacts(second["run_id"])}
    assert {"holdout_confusion_matrix.png", "holdout_roc_curve_plot.png"} <= plots


def test_weaker_challenger_is_registered_but_not_promoted(champion_store, champion):
    # Above min_accuracy, so only the comparison with the champion can stop it.
    weak = champion_store.with_overrides(max_features=5, ngram_max=1, min_accuracy=0.5)
    second = run_training(weak, DAY)

    assert not second["promoted"]
    assert "does not beat the champion" in second["reason"]
    client = connect(champion_store)
    name = champion_store.model.registered_model_name
    current = registry.champion_version(client, champion_store)
    assert str(current.version) == champion["model_version"]
    rejected = client.get_model_version(name, second["model_version"])
    assert rejected.tags["promotion"] == "rejected"
    assert float(rejected.tags["champion_holdout_accuracy"]) > float(
        rejected.tags["challenger_holdout_accuracy"]
    )
    assert client.get_model_version_by_alias(name, "challenger").version == rejected.version
    # The reference set (the first champion's hold-out) has a report on the run too.
    metrics = client.get_run(second["run_id"]).data.metrics
    assert metrics["reference_accuracy"] == pytest.approx(
        second["challenger"]["reference_accuracy"]
    )


def test_the_comparison_page_shows_both_versions_and_the_gate_s_reason(champion_store, champion):
    second = run_training(champion_store.with_overrides(min_accuracy=0.5, **QUICK), DAY)

    page = Path(second["comparison_page"]).read_text()
    assert not second["promoted"] and "Rejected" in page
    assert escape(second["reason"]) in page
    assert f"champion v{champion['model_version']}" in page
    assert f"challenger v{second['model_version']}" in page
    comparison = mlflow.artifacts.load_dict(f"runs:/{second['run_id']}/evaluation/comparison.json")
    # Both models' numbers on the same rows: the gate's own figures.
    holdout = comparison["champion"]["holdout"]["metrics"]
    assert holdout["accuracy"] == second["champion"]["accuracy"]
    assert comparison["challenger"]["holdout"]["metrics"]["rows"] == holdout["rows"]
    assert f"{holdout['accuracy']:.4f}" in page
    assert second["comparison_artifact"].endswith("evaluation/comparison.html")


def test_manual_promote_and_rollback_record_who_and_why(champion_store, champion):
    second = run_training(champion_store.with_overrides(min_accuracy=0.99, **QUICK), DAY)
    assert not second["promoted"]
    client = connect(champion_store)
    name = champion_store.model.registered_model_name

    registry.promote(
        client, champion_store, second["model_version"], reason="manual: try it", actor="ana"
    )
    promoted = registry.champion_version(client, champion_store)
    assert str(promoted.version) == second["model_version"]
    assert promoted.tags["promoted_by"] == "ana"
    assert promoted.tags["previous_champion"] == champion["model_version"]

    restored = registry.rollback(client, champion_store, reason="worse on real traffic", actor="bo")
    assert restored == champion["model_version"]
    current = client.get_model_version_by_alias(name, "champion")
    assert str(current.version) == champion["model_version"]
    assert "worse on real traffic" in current.tags["promotion_reason"]
    assert current.tags["promoted_by"] == "bo"


def test_the_first_champion_s_hold_out_becomes_the_reference_set(session_settings, champion):
    client = connect(session_settings)
    current = reference.current(client, session_settings)
    assert current is not None and champion["reference_run_id"] == current.run_id
    assert len(current.rows) == champion["holdout_rows"]
    run = client.get_run(current.run_id)
    assert run.data.tags["set_by"] == getpass.getuser()  # who ran the session's training
    assert "first champion" in run.data.tags["reason"]


def test_inverted_labels_past_the_agreement_check_are_stopped_by_the_reference_set(
    champion_store, champion, tmp_path
):
    # With the label-agreement check switched off, the challenger is trained and
    # registered: it wins on its own (inverted) hold-out, and loses on the reference.
    frame = read_table(bundled_dataset_path())
    swap = {"positive": "negative", "negative": "positive"}
    path = tmp_path / "inverted.csv"
    frame.assign(sentiment=frame["sentiment"].map(swap)).to_csv(path, index=False)
    # A vocabulary of 1,000 words learns the inversion well, in a fraction of the default time.
    settings = champion_store.with_overrides(
        label_agreement_tolerance=1.0, max_features=1000, ngram_max=1
    )

    result = run_training(settings, DAY, training_path=path)

    assert not result["promoted"]
    assert result["reason"].startswith("reference-set accuracy")
    assert result["challenger"]["accuracy"] > result["champion"]["accuracy"]
    assert result["challenger"]["reference_accuracy"] < 0.3
    assert result["champion"]["reference_accuracy"] > 0.8
    client = connect(champion_store)
    current = registry.champion_version(client, champion_store)
    assert str(current.version) == champion["model_version"]


def test_model_reference_replaces_the_set_recording_who_and_why(champion_store, tmp_path, capsys):
    path = tmp_path / "curated.csv"
    read_table(bundled_dataset_path()).sample(300, random_state=1).to_csv(path, index=False)
    client = connect(champion_store)
    before = reference.current(client, champion_store)

    assert cli.main(["model", "reference", "--data", str(path), "--reason", "curated"]) == 0

    after = reference.current(client, champion_store)
    assert after.run_id != before.run_id and len(after.rows) == 300
    tags = client.get_run(after.run_id).data.tags
    assert tags["reason"] == "manual: curated"
    assert tags["previous_reference_run_id"] == before.run_id
