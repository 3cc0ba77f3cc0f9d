from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import data, inference, registry, storage
from {{ cookiecutter.package_name }}.errors import ChampionNotFoundError, DataValidationError
from {{ cookiecutter.package_name }}.scoring import BatchStats, ChunkScores
from {{ cookiecutter.package_name }}.sources import source_for


def test_summary_metrics_count_confidence_bands():
    stats = BatchStats(["negative", "positive"], low_threshold=0.6, high_threshold=0.8)
    for best, confidence in [([1, 0], [0.55, 0.7]), ([1, 1], [0.9, 0.8])]:
        stats.add(ChunkScores(np.array(best), np.array(confidence), 3, 4))
    metrics = stats.metrics()
    assert metrics["low_confidence_predictions"] == 1
    assert metrics["high_confidence_predictions"] == 2
    assert metrics["low_confidence_percentage"] == 25.0
    assert metrics["predictions_positive"] == 3
    assert metrics["predictions_negative_percentage"] == 25.0
    assert metrics["average_confidence"] == pytest.approx(0.7375)
    assert stats.oov_rate == pytest.approx(0.25)


def test_no_champion_says_to_train_first(isolated_store):
    data.generate_batch(source_for(isolated_store), "2026-02-01", 10)
    with pytest.raises(ChampionNotFoundError, match="train"):
        inference.batch_predict(isolated_store, "2026-02-01")


def test_missing_batch_says_which_step_to_run(isolated_store):
    with pytest.raises(DataValidationError, match="generate_data"):
        inference.batch_predict(isolated_store, "2026-02-01")


def test_predict_writes_partition_logs_run_and_keeps_bad_rows_aside(session_settings, champion):
    day = "2026-02-02"
    batch = data.synthesize_reviews(day, 30)[["id", "text"]]
    batch.loc[[3, 7], "text"] = ["", None]
    source_for(session_settings).write_batch(day, batch)

    first = inference.batch_predict(session_settings, day, tags={"dag_id": "manual"})
    result = inference.batch_predict(session_settings, day, tags={"dag_id": "manual"})

    predictions = pd.read_parquet(result["path"])
    assert len(predictions) == 28
    assert result["rejected_rows"] == 2
    assert {"id", "text", "prediction", "confidence", "model_version"} <= set(predictions.columns)
    assert predictions["confidence"].between(0.5, 1.0).all()
    assert (predictions["model_version"] == champion["model_version"]).all()
    partition = storage.partition_dir(session_settings.data_dir, storage.PREDICTIONS, day)
    rejects = pd.read_parquet(partition / inference.REJECTS_FILE)
    assert set(rejects["reason"]) == {"empty text"}

    client = registry.connect(session_settings)
    experiment = client.get_experiment_by_name(session_settings.inference_experiment)
    runs = client.search_runs([experiment.experiment_id], f"tags.logical_date = '{day}'")
    # The rerun replaced the first run instead of adding a duplicate.
    assert [run.info.run_id for run in runs] == [result["run_id"]]
    assert first["run_id"] != result["run_id"]
    assert runs[0].data.tags["model_version"] == champion["model_version"]
    assert runs[0].data.metrics["rejected_rows"] == 2
