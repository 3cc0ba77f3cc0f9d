"""Window rules: trends, rates, drift and accuracy, judged without MLflow or files."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from {{ cookiecutter.package_name }}.monitoring.alerts import AlertKind
from {{ cookiecutter.package_name }}.monitoring.rules import DayMetrics, evaluate, slope_per_day
from {{ cookiecutter.package_name }}.settings import load_settings

START = date(2026, 4, 1)
SETTINGS = load_settings().with_overrides(low_confidence_alert_pct=25, trend_tolerance=0.005)


def days(confidences, low_rates=None):
    low_rates = low_rates or [5.0] * len(confidences)
    return [
        DayMetrics(START + timedelta(days=i), confidence, low_rate)
        for i, (confidence, low_rate) in enumerate(zip(confidences, low_rates, strict=True))
    ]


def judge(history, day=None):
    """Window metrics and alerts for the window ending at ``day`` (default: its last day)."""
    day = day or history[-1].logical_date
    return evaluate(history, day, SETTINGS.monitoring, min_accuracy=SETTINGS.model.min_accuracy)


def test_slope_of_a_straight_line():
    slope, error = slope_per_day(days([0.9, 0.88, 0.86, 0.84]))
    assert slope == pytest.approx(-0.02)
    assert error == pytest.approx(0, abs=1e-9)


def test_constant_quality_raises_no_alert():
    history = days([0.85, 0.86, 0.85, 0.84, 0.86, 0.85, 0.85])
    metrics, alerts = judge(history, START)
    assert alerts == []
    assert metrics["alert_count"] == 0


def test_declining_confidence_raises_an_alert():
    history = days([0.9, 0.87, 0.84, 0.8, 0.77])
    _, alerts = judge(history, START)
    assert [a.kind for a in alerts] == ["declining_confidence"]
    assert alerts[0].value < alerts[0].threshold


def test_few_points_are_not_a_trend():
    _, alerts = judge(days([0.9, 0.8, 0.7, 0.6]), START)
    assert alerts == []


def test_noise_around_a_constant_is_not_a_trend():
    # Falls of up to 0.02 between neighbours, but no direction overall.
    history = days([0.86, 0.84, 0.86, 0.85, 0.83, 0.86, 0.84, 0.85, 0.86, 0.84])
    _, alerts = judge(history, START)
    assert alerts == []


def test_high_low_confidence_rate_raises_an_alert():
    history = days([0.7, 0.7, 0.7], low_rates=[30, 40, 35])
    metrics, alerts = judge(history, START)
    assert metrics["avg_low_confidence_rate"] == pytest.approx(35)
    assert [a.kind for a in alerts] == ["low_confidence_rate"]


def test_drift_metrics_above_thresholds_raise_drift_alerts():
    history = days([0.85, 0.85, 0.85])
    drift = {
        "confidence_psi": 0.9,
        "confidence_shift": -0.1,
        "oov_rate_increase": 0.02,
        "class_share_shift": 0.5,
    }
    history[-1] = replace(history[-1], drift=drift)
    _, alerts = judge(history)
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
    metrics, alerts = judge(history)
    assert alerts == []
    assert metrics["confidence_psi"] == 2.0


def test_accuracy_below_min_accuracy_on_labeled_batches_alerts():
    history = days([0.85, 0.85, 0.85])
    history[0] = replace(history[0], accuracy=0.9, f1=0.9)
    history[1] = replace(history[1], accuracy=0.6, f1=0.6)
    metrics, alerts = judge(history)
    assert metrics["labeled_accuracy"] == 0.6
    assert [a.kind for a in alerts] == ["accuracy_drop"]


def test_alert_kinds_are_an_enum_that_reads_as_text():
    history = days([0.85, 0.85, 0.85], [40.0, 40.0, 40.0])
    [alert] = judge(history)[1]
    assert alert.kind is AlertKind.LOW_CONFIDENCE_RATE
    assert alert.as_dict()["kind"] == "low_confidence_rate"


def test_an_accuracy_alert_says_whether_it_judged_the_random_sample_or_all_labels():
    unbiased = {
        "label_requests": 100.0,
        "label_requests_answered": 100.0,
        "label_requests_random_answered": 20.0,
        "accuracy_unbiased": 0.6,
        "accuracy_unbiased_ci_low": 0.39,
        "accuracy_unbiased_ci_high": 0.78,
        "labeled_random_rows": 20.0,
        "accuracy_is_unbiased": 1.0,
    }
    history = days([0.85, 0.85])
    history[0] = replace(history[0], accuracy=0.6, f1=0.6, labels=unbiased)
    metrics, [alert] = judge(history)
    assert "unbiased: 20 randomly requested labels, 95% interval 0.390-0.780" in alert.message
    assert metrics["accuracy_unbiased_ci_low"] == 0.39 and metrics["label_coverage"] == 1.0

    biased = {
        "label_requests": 100.0,
        "label_requests_answered": 60.0,
        "label_requests_random_answered": 5.0,
        "accuracy_all_labels_biased": 0.6,
        "labeled_rows": 60.0,
        "accuracy_is_unbiased": 0.0,
    }
    history[0] = replace(history[0], labels=biased)
    metrics, [alert] = judge(history)
    assert "biased: all 60 labels" in alert.message and "5 randomly requested" in alert.message
    assert "accuracy_unbiased" not in metrics and metrics["label_coverage"] == 0.6
