"""Window rules: when a run of days is a problem, and which alerts it raises.

Pure functions over what batch inference measured (no MLflow, no I/O): the
steps collect the history, these rules judge it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from {{ cookiecutter.package_name }}.monitoring.alerts import Alert, AlertKind
from {{ cookiecutter.package_name }}.monitoring.live_accuracy import BIASED, UNBIASED
from {{ cookiecutter.package_name }}.settings import MonitoringSettings

MIN_TREND_POINTS = 5
DRIFT_CHECKS = (
    # (alert kind, metric on the batch-inference run, monitoring setting with its threshold)
    (AlertKind.CONFIDENCE_DRIFT, "confidence_psi", "drift_psi_threshold"),
    (AlertKind.VOCABULARY_DRIFT, "oov_rate_increase", "oov_increase_threshold"),
    (AlertKind.CLASS_SHIFT, "class_share_shift", "class_shift_threshold"),
)
DRIFT_METRICS = (*(metric for _, metric, _ in DRIFT_CHECKS), "confidence_shift")
THRESHOLDS = (
    "low_confidence_alert_pct",
    "trend_tolerance",
    "drift_psi_threshold",
    "oov_increase_threshold",
    "class_shift_threshold",
)


@dataclass(frozen=True)
class DayMetrics:
    """What one logical date's batch-inference run measured."""

    logical_date: date
    average_confidence: float
    low_confidence_percentage: float
    drift: dict[str, float] | None = None
    accuracy: float | None = None
    f1: float | None = None
    # What the day's arrived labels gave: label coverage, and the unbiased
    # and biased figures (steps/monitoring.py ground_truth).
    labels: dict[str, float] | None = None


def slope_per_day(history: list[DayMetrics]) -> tuple[float, float]:
    """Least-squares slope of average confidence per day, and its standard error."""
    n = len(history)
    if n < 3:
        return 0.0, float("inf")
    xs = [float(point.logical_date.toordinal()) for point in history]
    ys = [point.average_confidence for point in history]
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0, float("inf")
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    residuals = sum((y - mean_y - slope * (x - mean_x)) ** 2 for x, y in zip(xs, ys, strict=True))
    return slope, math.sqrt(residuals / (n - 2) / spread)


def _alert(
    kind: AlertKind, metric: str, value: float, threshold: float, day: date, text: str
) -> Alert:
    return Alert(kind, metric, float(value), float(threshold), day.isoformat(), text)


def _which_accuracy(truth: dict[str, float]) -> str:
    """What an accuracy alert judged: the random sample, or all labels (and why)."""
    if truth.get("accuracy_is_unbiased"):
        return (
            f"unbiased: {truth['labeled_random_rows']:.0f} randomly requested labels, 95% "
            f"interval {truth['accuracy_unbiased_ci_low']:.3f}-"
            f"{truth['accuracy_unbiased_ci_high']:.3f}"
        )
    if "label_requests" in truth:
        return (
            f"biased: all {truth.get('labeled_rows', 0):.0f} labels, most of them on the least "
            f"confident rows; {truth.get('label_requests_random_answered', 0):.0f} randomly "
            "requested rows have labels, fewer than min_labeled_rows"
        )
    return f"all {truth.get('labeled_rows', 0):.0f} labels; the day requested none at random"


def _label_coverage(history: list[DayMetrics]) -> dict[str, float]:
    """The window's label requests, and the share answered so far (late labels still come)."""
    days = [p.labels for p in history if p.labels and "label_requests" in p.labels]
    if not days:
        return {}
    requested = sum(day["label_requests"] for day in days)
    answered = sum(day["label_requests_answered"] for day in days)
    return {
        "label_requests": requested,
        "label_requests_answered": answered,
        "label_requests_random_answered": sum(
            day["label_requests_random_answered"] for day in days
        ),
        "label_coverage": answered / requested if requested else 0.0,
    }


def evaluate(
    history: list[DayMetrics], day: date, settings: MonitoringSettings, *, min_accuracy: float
) -> tuple[dict[str, float], list[Alert]]:
    """Window metrics and the alerts they raise, for the window ending at ``day``."""
    count = len(history)
    avg_confidence = sum(p.average_confidence for p in history) / count
    avg_low_rate = sum(p.low_confidence_percentage for p in history) / count
    slope, slope_error = slope_per_day(history)
    alerts = []
    if avg_low_rate > settings.low_confidence_alert_pct:
        alerts.append(
            _alert(
                AlertKind.LOW_CONFIDENCE_RATE,
                "avg_low_confidence_rate",
                avg_low_rate,
                settings.low_confidence_alert_pct,
                day,
                f"{avg_low_rate:.1f}% of predictions were low-confidence over {count} days "
                f"(alert above {settings.low_confidence_alert_pct:g}%)",
            )
        )
    # A trend needs enough days, a fall steeper than the tolerance, and a fall
    # that day-to-day noise does not explain (two standard errors).
    declining = slope < -settings.trend_tolerance and slope + 2 * slope_error < 0
    if count >= MIN_TREND_POINTS and declining:
        alerts.append(
            _alert(
                AlertKind.DECLINING_CONFIDENCE,
                "confidence_trend_slope",
                slope,
                -settings.trend_tolerance,
                day,
                f"average confidence falls by {-slope:.4f} a day over {count} days "
                f"(tolerance {settings.trend_tolerance:g})",
            )
        )
    today = next((p for p in history if p.logical_date == day), None)
    metrics = {
        "overall_avg_confidence": avg_confidence,
        "avg_low_confidence_rate": avg_low_rate,
        "confidence_trend_slope": slope,
        "window_runs": float(count),
    }
    if today is not None and today.drift:
        for kind, metric, threshold_field in DRIFT_CHECKS:
            value, threshold = today.drift[metric], getattr(settings, threshold_field)
            metrics[metric] = value
            # A batch that is more confident than the reference has moved, but
            # not towards trouble: log its PSI, alert only on a fall.
            rising = (
                kind is AlertKind.CONFIDENCE_DRIFT
                and today.drift.get("confidence_shift", -1.0) >= 0
            )
            if value > threshold and not rising:
                alerts.append(
                    _alert(
                        kind, metric, value, threshold, day, f"{metric} {value:.3f} > {threshold:g}"
                    )
                )
    metrics.update(_label_coverage(history))
    labeled = [p for p in history if p.accuracy is not None]
    if labeled:
        latest = labeled[-1]
        truth = latest.labels or {}
        metrics["labeled_accuracy"] = latest.accuracy
        metrics["labeled_f1"] = latest.f1
        metrics.update({name: truth[name] for name in (*UNBIASED, *BIASED) if name in truth})
        if latest.accuracy < min_accuracy:
            alerts.append(
                _alert(
                    AlertKind.ACCURACY_DROP,
                    "accuracy",
                    latest.accuracy,
                    min_accuracy,
                    day,
                    f"accuracy on the labeled batch of {latest.logical_date} is "
                    f"{latest.accuracy:.3f} < min_accuracy {min_accuracy:g} "
                    f"({_which_accuracy(truth)})",
                )
            )
    metrics["alert_count"] = float(len(alerts))
    return metrics, alerts
