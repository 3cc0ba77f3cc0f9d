"""One-line errors a user can cause that no command test reaches: each triggered, its words checked.

Most need no model and no MLflow store; the rest say why they take one.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.data.schema import split_rejects
from {{ cookiecutter.package_name }}.errors import (
    DataValidationError,
    ModelEnvironmentError,
    PipelineError,
)
from {{ cookiecutter.package_name }}.settings import {% if cookiecutter.data_source == "demo" %}ENV_PREFIX, {% endif %}PROJECT_SLUG
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect

DAY = "2026-04-01"


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    # Less the log file it names (tests/test_cli_output.py).
    return re.sub(r" \(log: [^()]*\.log\)$", "", err.removeprefix("error: ").strip())


def test_rollback_when_the_champion_records_no_earlier_one(champion_store, capsys):
    # The store holds a champion (the session's); without the tag a promotion
    # leaves, there is nothing to go back to.
    client = connect(champion_store)
    current = registry.champion_version(client, champion_store)
    name = champion_store.model.registered_model_name
    if "previous_champion" in current.tags:
        client.delete_model_version_tag(name, current.version, "previous_champion")

    assert cli.main(["model", "rollback", "--reason", "test"]) == 1

    assert error_line(capsys) == (
        f"version {current.version} records no earlier champion: "
        f"use `{PROJECT_SLUG} model promote <version>` to choose one."
    )
    assert registry.champion_version(client, champion_store).version == current.version


def test_evaluate_before_any_reference_set_says_to_pass_data(isolated_store, capsys):
    # An empty store: the reference set comes with the first champion.
    assert cli.main(["evaluate"]) == 2
    assert error_line(capsys) == (
        "there is no reference set yet to evaluate on: pass --data with a labeled "
        "text,sentiment file."
    )


def test_monitor_before_any_prediction_says_to_predict(isolated_store, capsys):
    # An empty store: monitoring looks for the window's batch-inference runs there.
    assert cli.main(["monitor", "--date", DAY]) == 1
    days = isolated_store.monitoring.monitoring_window_days
    assert error_line(capsys) == (
        f"no batch-inference run for the {days} days up to {DAY}: run batch_predict first."
    )
{%- if cookiecutter.data_source == "demo" %}


def test_the_demo_refuses_to_write_labels_to_a_url(isolated_data, monkeypatch, capsys):
    monkeypatch.setenv(f"{ENV_PREFIX}FEEDBACK_DIR", "memory://bucket/feedback")

    assert cli.main(["generate-data", "--date", DAY]) == 1

    assert error_line(capsys) == "the demo writes its labels to a local feedback_dir, not a URL."
    assert not isolated_data.data.data_dir.exists()
{%- endif %}


def test_publishing_a_day_without_predictions_says_to_predict(isolated_data):
    from {{ cookiecutter.package_name }}.data import storage
    from {{ cookiecutter.package_name }}.steps.publish import publish_predictions

    partition = storage.partition_dir(isolated_data.data.data_dir, storage.PREDICTIONS, DAY)
    with pytest.raises(PipelineError) as raised:
        publish_predictions(isolated_data, DAY, run_id="r1")
    assert str(raised.value) == f"no predictions in {partition}: run predict for {DAY} first."


def test_merging_no_shards_or_shards_a_later_run_replaced_is_refused(isolated_data):
    from {{ cookiecutter.package_name }}.data import storage
    from {{ cookiecutter.package_name }}.steps.inference import merge_shards

    with pytest.raises(PipelineError, match=r"^no shard results to merge: batch_predict scored"):
        merge_shards(isolated_data, [])
    partition = storage.partition_dir(isolated_data.data.data_dir, storage.PREDICTIONS, DAY)
    staging = storage.staging_dir(partition, "gone")
    with pytest.raises(PipelineError) as raised:
        merge_shards(isolated_data, [{"logical_date": DAY, "token": "gone"}])
    assert str(raised.value).startswith(
        f"the shards of this run of {DAY} are gone from {staging} (a later run replaced them)"
    )


def test_tune_refuses_an_estimator_it_does_not_know(isolated_data):
    from {{ cookiecutter.package_name }}.steps.tuning import tune

    with pytest.raises(DataValidationError, match=r"^--model 'forest' is not one of logistic_"):
        tune(isolated_data, estimator="forest", trials=1)


def test_a_batch_without_a_text_column_is_named():
    with pytest.raises(DataValidationError) as raised:
        split_rejects(pd.DataFrame({"id": ["a"], "review": ["fine"]}))
    assert str(raised.value) == "the batch has no 'text' column (columns: ['id', 'review'])."


def write_mlmodel(directory, flavor: str) -> None:
    directory.mkdir()
    (directory / "MLmodel").write_text(f"flavors:\n  sklearn:\n{flavor}")


def test_a_model_not_saved_with_skops_is_refused(tmp_path):
    local = tmp_path / "model"
    write_mlmodel(local, "    pickled_model: model.pkl\n    serialization_format: cloudpickle\n")
    with pytest.raises(ModelEnvironmentError) as raised:
        registry.load_skops_model("models:/m/1", local)
    assert str(raised.value) == (
        "models:/m/1 cannot be loaded safely: it is not a scikit-learn model saved with "
        f"skops and no code; register it with `{PROJECT_SLUG} train`."
    )


def test_a_model_whose_file_is_not_beside_its_mlmodel_is_refused(tmp_path):
    local = tmp_path / "model"
    write_mlmodel(local, "    pickled_model: ../elsewhere.skops\n    serialization_format: skops\n")
    (tmp_path / "elsewhere.skops").write_bytes(b"")
    with pytest.raises(ModelEnvironmentError) as raised:
        registry.load_skops_model("models:/m/1", local)
    assert str(raised.value) == (
        "models:/m/1 cannot be loaded safely: its MLmodel names no model file beside it."
    )


def test_predict_input_without_texts_to_score_says_what_is_missing(
    champion_store, tmp_path, capsys
):
    # predict --input loads the champion before it reads the file.
    no_column = tmp_path / "reviews.csv"
    no_column.write_text("id,review\n1,fine\n")
    blank = tmp_path / "blank.jsonl"
    blank.write_text('{"text": ""}\n{"text": "   "}\n')

    assert cli.main(["predict", "--input", str(no_column)]) == 2
    assert error_line(capsys) == (
        f"{no_column} has no 'text' column (columns: ['id', 'review']): "
        "name the column of texts to score 'text'."
    )
    assert cli.main(["predict", "--input", str(blank)]) == 2
    assert error_line(capsys) == f"{blank} has no row with text (2 rejected)."
    assert not (tmp_path / "blank.predictions.jsonl").exists()
