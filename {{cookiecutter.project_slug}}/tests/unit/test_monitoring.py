from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from {{ cookiecutter.package_name }} import data, inference, monitoring, registry, storage
from {{ cookiecutter.package_name }}.monitoring import DayMetrics, evaluate, slope_per_day
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.sources import source_for

START = date(2026, 4, 1)
SETTINGS = replace(load_settings(), low_confidence_alert_pct=25, trend_tolerance=0.005)


def days(confidences, low_rates=None):
    low_rates = low_rates or [5.0] * len(confidences)
    return [
        DayMetrics(START + timedelta(days=i), confidence, low_rate)
        for i, (confidence, low_rate) in enumerate(zip(confidences, low_rates, strict=True))
    ]


def test_slope_of_a_straight_line():
    slope, error = slope_per_day(days([0.9, 0.88, 0.86, 0.84]))
    assert slope == pytest.approx(-0.02)
    assert error == pytest.approx(0, abs=1e-9)


def test_constant_quality_raises_no_alert():
    history = days([0.85, 0.86, 0.85, 0.84, 0.86, 0.85, 0.85])
    metrics, alerts = evaluate(history, START, SETTINGS)
    assert alerts == []
    assert metrics["alert_count"] == 0


def test_declining_confidence_raises_an_alert():
    history = days([0.9, 0.87, 0.84, 0.8, 0.77])
    _, alerts = evaluate(history, START, SETTINGS)
    assert [a.kind for a in alerts] == ["declining_confidence"]
    assert alerts[0].value < alerts[0].threshold


def test_few_points_are_not_a_trend():
    _, alerts = evaluate(days([0.9, 0.8, 0.7, 0.6]), START, SETTINGS)
    assert alerts == []


def test_noise_around_a_constant_is_not_a_trend():
    # Falls of up to 0.02 between neighbours, but no direction overall.
    history = days([0.86, 0.84, 0.86, 0.85, 0.83, 0.86, 0.84, 0.85, 0.86, 0.84])
    _, alerts = evaluate(history, START, SETTINGS)
    assert alerts == []


def test_high_low_confidence_rate_raises_an_alert():
    history = days([0.7, 0.7, 0.7], low_rates=[30, 40, 35])
    metrics, alerts = evaluate(history, START, SETTINGS)
    assert metrics["avg_low_confidence_rate"] == pytest.approx(35)
    assert [a.kind for a in alerts] == ["low_confidence_rate"]


def test_monitor_reads_the_window_by_logical_date_and_logs_its_own_run(session_settings, champion):
    window = [START + timedelta(days=i) for i in range(3)]
    outside = START - timedelta(days=30)
    for day in [outside, *window]:
        data.generate_batch(source_for(session_settings), day, 50)
        inference.batch_predict(session_settings, day)

    settings = replace(session_settings, monitoring_window_days=7)
    result = monitoring.monitor(settings, window[-1])

    assert result["metrics"]["window_runs"] == 3
    report = storage.read_json(result["report_path"])
    assert [point["logical_date"] for point in report["history"]] == [d.isoformat() for d in window]
    client = registry.connect(session_settings)
    run = client.get_run(result["run_id"])
    assert run.info.run_name == f"monitoring-{window[-1].isoformat()}"
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == session_settings.monitoring_experiment
    for metric in ("overall_avg_confidence", "avg_low_confidence_rate", "alert_count"):
        assert metric in run.data.metrics


def test_drift_metrics_above_thresholds_raise_drift_alerts():
    history = days([0.85, 0.85, 0.85])
    drift = {
        "confidence_psi": 0.9,
        "confidence_shift": -0.1,
        "oov_rate_increase": 0.02,
        "class_share_shift": 0.5,
    }
    history[-1] = replace(history[-1], drift=drift)
    _, alerts = evaluate(history, history[-1].logical_date, SETTINGS)
    assert sorted(a.kind for a in alerts) == ["class_shift", "confidence_drift"]


def test_a_batch_more_confident_than_the_reference_is_not_a_drift_alert():
    history = days([0.85, 0.85, 0.99])
    drift = {
        "confidence_psi": 2.0,
        "confidence_shift": 0.2,
        "oov_rate_increase": 0.0,
        "class_share_shift": 0.0,
    }
    history[-1] = replace(history[-1], drift=drift)
    metrics, alerts = evaluate(history, history[-1].logical_date, SETTINGS)
    assert alerts == []
    assert metrics["confidence_psi"] == 2.0


def test_accuracy_below_min_accuracy_on_labeled_batches_alerts():
    history = days([0.85, 0.85, 0.85])
    history[0] = replace(history[0], accuracy=0.9, f1=0.9)
    history[1] = replace(history[1], accuracy=0.6, f1=0.6)
    metrics, alerts = evaluate(history, history[-1].logical_date, SETTINGS)
    assert metrics["labeled_accuracy"] == 0.6
    assert [a.kind for a in alerts] == ["accuracy_drop"]
