"""Batch inference: a partition of predictions, its own run, bad rows kept aside with a reason."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import storage
{%- if cookiecutter.data_source == "demo" %}
from {{ cookiecutter.package_name }}.data import synthetic as data
{%- endif %}
from {{ cookiecutter.package_name }}.errors import ChampionNotFoundError, DataValidationError
from {{ cookiecutter.package_name }}.settings import PROJECT_SLUG
from {{ cookiecutter.package_name }}.steps import inference
from {{ cookiecutter.package_name }}.tracking.client import connect
{%- if cookiecutter.data_source != "demo" %}
from tests import synthetic as data
{%- endif %}
from tests.conftest import invented_day, write_batch


def test_no_champion_says_to_train_first(isolated_store):
    invented_day(isolated_store, "2026-02-01", 10)
    with pytest.raises(ChampionNotFoundError) as raised:
        inference.batch_predict(isolated_store, "2026-02-01")
    name = isolated_store.model.registered_model_name
    assert str(raised.value) == (
        f"no model version of '{name}' has the alias 'champion' in "
        f"{isolated_store.platform.tracking_uri}: run `{PROJECT_SLUG} train` first."
    )


def test_missing_batch_says_which_step_to_run(isolated_data):
    first = "{% if cookiecutter.data_source == "demo" %}generate-data{% else %}extract{% endif %}"
    with pytest.raises(DataValidationError, match=f"no batch at .* run {first} for"):
        inference.batch_predict(isolated_data, "2026-02-01")


def test_predict_writes_partition_logs_run_and_keeps_bad_rows_aside(session_settings, champion):
    day = "2026-02-02"
    batch = data.synthesize_reviews(day, 30)[["id", "text"]]
    batch.loc[[3, 7], "text"] = ["", None]
    write_batch(session_settings, day, batch)

    first = inference.batch_predict(session_settings, day, tags={"dag_id": "manual"})
    result = inference.batch_predict(session_settings, day, tags={"dag_id": "manual"})

    predictions = storage.read_parts(result["path"])
    assert len(predictions) == 28
    assert result["rejected_rows"] == 2
    assert {"id", "text", "prediction", "confidence", "model_version"} <= set(predictions.columns)
    assert predictions["confidence"].between(0.5, 1.0).all()
    assert (predictions["model_version"] == champion["model_version"]).all()
    partition = storage.partition_dir(session_settings.data.data_dir, storage.PREDICTIONS, day)
    rejects = pd.read_parquet(partition / "rejects-00000.parquet")
    assert set(rejects["reason"]) == {"empty text"}

    client = connect(session_settings)
    experiment = client.get_experiment_by_name(session_settings.inference_experiment)
    runs = client.search_runs([experiment.experiment_id], f"tags.logical_date = '{day}'")
    # The rerun replaced the first run instead of adding a duplicate.
    assert [run.info.run_id for run in runs] == [result["run_id"]]
    assert first["run_id"] != result["run_id"]
    assert runs[0].data.tags["model_version"] == champion["model_version"]
    assert runs[0].data.metrics["rejected_rows"] == 2
