from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import data, inference, monitoring, reporting, storage
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.sources import source_for

DAY = "2026-05-01"


def test_summary_is_built_from_the_day_outputs(session_settings, champion):
    data.generate_batch(source_for(session_settings), DAY, 60)
    inference.batch_predict(session_settings, DAY)
    monitoring.monitor(session_settings, DAY)

    summary = reporting.write_summary(session_settings, DAY)

    predictions = pd.read_parquet(
        storage.partition_dir(session_settings.data_dir, storage.PREDICTIONS, DAY)
        / "predictions.parquet"
    )
    assert summary["predictions"] == len(predictions) == 60
    assert sum(summary["label_counts"].values()) == 60
    assert summary["average_confidence"] == pytest.approx(predictions["confidence"].mean())
    text = (
        storage.partition_dir(session_settings.data_dir, storage.REPORTS, DAY) / "summary.md"
    ).read_text()
    assert DAY in text
    assert "Predictions: 60" in text


def test_summary_without_outputs_says_what_to_run(isolated_store):
    with pytest.raises(PipelineError, match="batch_predict"):
        reporting.write_summary(isolated_store, DAY)
