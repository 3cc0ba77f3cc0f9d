"""The monitoring step reads the window by logical date and logs a run of its own."""

from __future__ import annotations

from datetime import date, timedelta

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.steps.inference import batch_predict
from {{ cookiecutter.package_name }}.steps.monitoring import monitor
from {{ cookiecutter.package_name }}.tracking.client import connect
from tests.conftest import invented_day

START = date(2026, 4, 1)


def test_monitor_reads_the_window_by_logical_date_and_logs_its_own_run(session_settings, champion):
    window = [START + timedelta(days=i) for i in range(3)]
    outside = START - timedelta(days=30)
    for day in [outside, *window]:
        invented_day(session_settings, day, 50)
        batch_predict(session_settings, day)

    settings = session_settings.with_overrides(monitoring_window_days=7)
    result = monitor(settings, window[-1])

    assert result["metrics"]["window_runs"] == 3
    report = storage.read_json(result["report_path"])
    assert [point["logical_date"] for point in report["history"]] == [d.isoformat() for d in window]
    client = connect(session_settings)
    run = client.get_run(result["run_id"])
    assert run.info.run_name == f"monitoring-{window[-1].isoformat()}"
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == session_settings.monitoring_experiment
    for metric in ("overall_avg_confidence", "avg_low_confidence_rate", "alert_count"):
        assert metric in run.data.metrics
