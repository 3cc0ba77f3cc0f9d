"""Prediction-quality monitoring over a window of logical dates.

History comes from the batch-inference runs of the last N logical days (not
the last N runs by wall-clock time), and the result goes to its own
experiment, so a monitoring run never counts as a prediction run. Three
kinds of evidence: the confidence trend, the day's drift against the model's
reference profile, and real accuracy once the true labels of a batch arrive.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import mlflow
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from {{ cookiecutter.package_name }} import registry, storage
from {{ cookiecutter.package_name }}.alerts import Alert, deliver, requests_retraining, webhook_url
from {{ cookiecutter.package_name }}.data import LABEL
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.inference import PREDICTIONS_FILE
from {{ cookiecutter.package_name }}.inference import run_name as inference_run_name
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.sources import source_for

REPORT_FILE = "report.json"
MIN_TREND_POINTS = 5
DRIFT_CHECKS = (
    # (alert kind, metric on the batch-inference run, settings field with its threshold)
    ("confidence_drift", "confidence_psi", "drift_psi_threshold"),
    ("vocabulary_drift", "oov_rate_increase", "oov_increase_threshold"),
    ("class_shift", "class_share_shift", "class_shift_threshold"),
)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayMetrics:
    """What one logical date's batch-inference run measured."""

    logical_date: date
    average_confidence: float
    low_confidence_percentage: float
    drift: dict[str, float] | None = None
    accuracy: float | None = None
    f1: float | None = None


def run_name(day: date | str) -> str:
    return f"monitoring-{storage.as_date(day).isoformat()}"


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


def _alert(kind: str, metric: str, value: float, threshold: float, day: date, text: str) -> Alert:
    return Alert(kind, metric, float(value), float(threshold), day.isoformat(), text)


def evaluate(
    history: list[DayMetrics], day: date, settings: Settings
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
                "low_confidence_rate",
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
                "declining_confidence",
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
            rising = kind == "confidence_drift" and today.drift.get("confidence_shift", -1.0) >= 0
            if value > threshold and not rising:
                alerts.append(
                    _alert(
                        kind, metric, value, threshold, day, f"{metric} {value:.3f} > {threshold:g}"
                    )
                )
    labeled = [p for p in history if p.accuracy is not None]
    if labeled:
        latest = labeled[-1]
        metrics["labeled_accuracy"] = latest.accuracy
        metrics["labeled_f1"] = latest.f1
        if latest.accuracy < settings.min_accuracy:
            alerts.append(
                _alert(
                    "accuracy_drop",
                    "accuracy",
                    latest.accuracy,
                    settings.min_accuracy,
                    day,
                    f"accuracy on the labeled batch of {latest.logical_date} is "
                    f"{latest.accuracy:.3f} < min_accuracy {settings.min_accuracy:g}",
                )
            )
    metrics["alert_count"] = float(len(alerts))
    return metrics, alerts


def ground_truth(settings: Settings, day: date) -> dict[str, float] | None:
    """Accuracy and F1 of the day's predictions, once its true labels have arrived."""
    labels = source_for(settings).read_labels(day)
    path = storage.partition_dir(settings.data_dir, storage.PREDICTIONS, day) / PREDICTIONS_FILE
    if labels is None or not path.is_file():
        return None
    joined = pd.read_parquet(path, columns=["id", "prediction"]).merge(labels, on="id")
    if joined.empty:
        return None
    return {
        "accuracy": float(accuracy_score(joined[LABEL], joined["prediction"])),
        "f1": float(f1_score(joined[LABEL], joined["prediction"], average="macro")),
        "labeled_rows": float(len(joined)),
    }


DRIFT_METRICS = (*(metric for _, metric, _ in DRIFT_CHECKS), "confidence_shift")


def collect_history(settings: Settings, day: date) -> list[DayMetrics]:
    """One point per logical day of the window that has a batch-inference run.

    True labels that have arrived are scored and their accuracy and F1 are
    logged on that day's batch-inference run.
    """
    client = registry.connect(settings)
    experiment = client.get_experiment_by_name(settings.inference_experiment)
    if experiment is None:
        return []
    history = []
    for offset in range(settings.monitoring_window_days - 1, -1, -1):
        logical_date = day - timedelta(days=offset)
        # MLflow's search allows a list (IN) only for run ids: one query per day,
        # by the run name that batch inference derives from the logical date.
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"attributes.run_name = '{inference_run_name(logical_date)}'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if not runs or "average_confidence" not in runs[0].data.metrics:
            continue
        metrics = runs[0].data.metrics
        truth = ground_truth(settings, logical_date)
        if truth is not None:
            for name, value in truth.items():
                client.log_metric(runs[0].info.run_id, name, value)
        history.append(
            DayMetrics(
                logical_date=logical_date,
                average_confidence=metrics["average_confidence"],
                low_confidence_percentage=metrics.get("low_confidence_percentage", 0.0),
                drift={m: metrics[m] for m in DRIFT_METRICS if m in metrics} or None,
                accuracy=truth["accuracy"] if truth else None,
                f1=truth["f1"] if truth else None,
            )
        )
    return history


def monitor(settings: Settings, day: date | str, *, tags: dict[str, str] | None = None) -> dict:
    """Evaluate the window ending at ``day``, log a monitoring run, write the report, alert."""
    day = storage.as_date(day)
    history = collect_history(settings, day)
    if not history:
        raise PipelineError(
            f"no batch-inference run for the {settings.monitoring_window_days} days up to {day}: "
            "run batch_predict first."
        )
    metrics, alerts = evaluate(history, day, settings)
    for alert in alerts:
        log.warning("ALERT %s", alert.as_dict())
    retrain = requests_retraining(alerts)
    report = {
        "logical_date": day.isoformat(),
        "window_days": settings.monitoring_window_days,
        "thresholds": {
            name: getattr(settings, name)
            for name in (
                "low_confidence_alert_pct",
                "trend_tolerance",
                "drift_psi_threshold",
                "oov_increase_threshold",
                "class_shift_threshold",
                "min_accuracy",
            )
        },
        "metrics": metrics,
        "alerts": [alert.as_dict() for alert in alerts],
        "retraining_requested": retrain,
        "history": [
            {**asdict(point), "logical_date": point.logical_date.isoformat()} for point in history
        ],
    }
    path = storage.write_json(
        report, storage.partition_dir(settings.data_dir, storage.MONITORING, day) / REPORT_FILE
    )

    client = registry.connect(settings)
    experiment_id = registry.ensure_experiment(client, settings, settings.monitoring_experiment)
    registry.delete_runs_named(client, experiment_id, run_name(day))
    run_tags = {**(tags or {}), "logical_date": day.isoformat()}
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=run_name(day), tags=run_tags
    ) as run:
        mlflow.log_metrics(metrics)
        mlflow.log_dict(report, REPORT_FILE)
        if alerts:
            mlflow.log_table(pd.DataFrame([a.as_dict() for a in alerts]), "alerts.json")
    delivered = deliver(alerts, webhook_url(settings), timeout=settings.webhook_timeout_seconds)
    return {
        "logical_date": day.isoformat(),
        "report_path": str(path),
        "run_id": run.info.run_id,
        "metrics": metrics,
        "alerts": report["alerts"],
        "retraining_requested": retrain,
        "webhook_delivered": delivered,
    }
