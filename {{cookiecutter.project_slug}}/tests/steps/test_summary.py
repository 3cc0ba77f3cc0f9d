from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.steps import inference, monitoring
from {{ cookiecutter.package_name }}.steps import summary as reporting
from tests.conftest import invented_day

DAY = "2026-05-01"


def test_summary_is_built_from_the_day_outputs(session_settings, champion):
    invented_day(session_settings, DAY, 60)
    inference.batch_predict(session_settings, DAY)
    monitoring.monitor(session_settings, DAY)
    # Two rows extraction set aside: the summary counts them, not only scoring's rejects.
    batch = storage.partition_dir(session_settings.data.data_dir, storage.BATCHES, DAY)
    quarantine = pd.DataFrame({"id": ["q-1", "q-2"], "text": ["", " "], "reason": "empty text"})
    storage.write_parquet(quarantine, batch / storage.REJECTS_FILE)

    summary = reporting.write_summary(session_settings, DAY)

    predictions = storage.read_parts(
        storage.partition_dir(session_settings.data.data_dir, storage.PREDICTIONS, DAY)
    )
    assert summary["predictions"] == len(predictions) == 60
    assert sum(summary["label_counts"].values()) == 60
    assert summary["average_confidence"] == pytest.approx(predictions["confidence"].mean())
    text = (
        storage.partition_dir(session_settings.data.data_dir, storage.REPORTS, DAY) / "summary.md"
    ).read_text()
    assert DAY in text
    assert "Predictions: 60" in text
    assert summary["quarantined_rows"] == 2
    assert f"Set aside before scoring: 2 rows, with the reason of each in {batch}" in text


def test_summary_without_outputs_says_what_to_run(isolated_data):
    with pytest.raises(PipelineError, match="batch_predict"):
        reporting.write_summary(isolated_data, DAY)


def test_html_report_for_a_day_with_alerts_and_one_without(session_settings, champion):
    quiet, loud = "2026-05-05", "2026-05-06"
    for day in (quiet, loud):
        invented_day(session_settings, day, 60)
        inference.batch_predict(session_settings, day)
    # Thresholds nothing can cross for the quiet day, and two nothing can stay
    # under for the loud one, whatever the model's confidence looks like.
    lenient = session_settings.with_overrides(
        low_confidence_alert_pct=100,
        drift_psi_threshold=100,
        oov_increase_threshold=1,
        class_shift_threshold=1,
        min_accuracy=0,
    )
    monitoring.monitor(lenient, quiet)
    strict = session_settings.with_overrides(low_confidence_alert_pct=0, class_shift_threshold=1e-9)
    monitoring.monitor(strict, loud)

    pages = {day: (reporting.write_summary(session_settings, day)) for day in (quiet, loud)}

    quiet_html = Path(pages[quiet]["report_path"]).read_text()
    loud_html = Path(pages[loud]["report_path"]).read_text()
    for html in (quiet_html, loud_html):
        assert html.count("<svg") >= 4
        assert "Average confidence by logical date" in html
        assert "http://" not in html.replace('xmlns="http://', "")
    assert "Healthy: no alert" in quiet_html
    assert "Attention" in loud_html
    assert "<td>low_confidence_rate</td>" in loud_html
    assert "<td>class_shift</td>" in loud_html
