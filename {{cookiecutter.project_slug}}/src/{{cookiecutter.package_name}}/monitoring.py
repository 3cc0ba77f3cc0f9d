"""Prediction-quality monitoring over a window of logical dates.

History comes from the batch-inference runs of the last N logical days (not
the last N runs by wall-clock time), and the result goes to its own
experiment, so a monitoring run never counts as a prediction run.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import mlflow

from {{ cookiecutter.package_name }} import registry, storage
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.inference import run_name as inference_run_name
from {{ cookiecutter.package_name }}.settings import Settings

REPORT_FILE = "report.json"
MIN_TREND_POINTS = 3
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayMetrics:
    """What one logical date's batch-inference run measured."""

    logical_date: date
    average_confidence: float
    low_confidence_percentage: float


@dataclass(frozen=True)
class Alert:
    """One reason to look at the model, in a form a machine can route."""

    kind: str
    metric: str
    value: float
    threshold: float
    logical_date: str
    message: str


def run_name(day: date | str) -> str:
    return f"monitoring-{storage.as_date(day).isoformat()}"


def slope_per_day(history: list[DayMetrics]) -> float:
    """Least-squares slope of average confidence against the day number."""
    if len(history) < 2:
        return 0.0
    xs = [float(point.logical_date.toordinal()) for point in history]
    ys = [point.average_confidence for point in history]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def evaluate(
    history: list[DayMetrics],
    day: date,
    *,
    low_confidence_alert_pct: float,
    trend_tolerance: float,
) -> tuple[dict[str, float], list[Alert]]:
    """Window metrics and the alerts they raise."""
    count = len(history)
    avg_confidence = sum(p.average_confidence for p in history) / count
    avg_low_rate = sum(p.low_confidence_percentage for p in history) / count
    slope = slope_per_day(history)
    alerts = []
    if avg_low_rate > low_confidence_alert_pct:
        alerts.append(
            Alert(
                kind="low_confidence_rate",
                metric="avg_low_confidence_rate",
                value=avg_low_rate,
                threshold=low_confidence_alert_pct,
                logical_date=day.isoformat(),
                message=(
                    f"{avg_low_rate:.1f}% of predictions were low-confidence over {count} days "
                    f"(alert above {low_confidence_alert_pct:g}%)"
                ),
            )
        )
    # A slope over fewer points is noise, not a trend.
    if count >= MIN_TREND_POINTS and slope < -trend_tolerance:
        alerts.append(
            Alert(
                kind="declining_confidence",
                metric="confidence_trend_slope",
                value=slope,
                threshold=-trend_tolerance,
                logical_date=day.isoformat(),
                message=(
                    f"average confidence falls by {-slope:.4f} a day over {count} days "
                    f"(tolerance {trend_tolerance:g})"
                ),
            )
        )
    metrics = {
        "overall_avg_confidence": avg_confidence,
        "avg_low_confidence_rate": avg_low_rate,
        "confidence_trend_slope": slope,
        "window_runs": float(count),
        "alert_count": float(len(alerts)),
    }
    return metrics, alerts


def fetch_history(settings: Settings, day: date, window_days: int) -> list[DayMetrics]:
    """Metrics of the batch-inference runs for the ``window_days`` days ending at ``day``."""
    client = registry.connect(settings)
    experiment = client.get_experiment_by_name(settings.inference_experiment)
    if experiment is None:
        return []
    history = []
    for offset in range(window_days - 1, -1, -1):
        logical_date = day - timedelta(days=offset)
        # MLflow's search allows a list (IN) only for run ids: one query per day,
        # by the run name that batch inference derives from the logical date.
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"attributes.run_name = '{inference_run_name(logical_date)}'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if runs and "average_confidence" in runs[0].data.metrics:
            metrics = runs[0].data.metrics
            history.append(
                DayMetrics(
                    logical_date=logical_date,
                    average_confidence=metrics["average_confidence"],
                    low_confidence_percentage=metrics.get("low_confidence_percentage", 0.0),
                )
            )
    return history


def monitor(
    settings: Settings,
    day: date | str,
    *,
    window_days: int | None = None,
    low_confidence_alert_pct: float | None = None,
    trend_tolerance: float | None = None,
    tags: dict[str, str] | None = None,
) -> dict:
    """Evaluate the window ending at ``day``, log a monitoring run and write the report."""
    day = storage.as_date(day)
    window = window_days or settings.monitoring_window_days
    alert_pct = (
        settings.low_confidence_alert_pct
        if low_confidence_alert_pct is None
        else float(low_confidence_alert_pct)
    )
    tolerance = settings.trend_tolerance if trend_tolerance is None else float(trend_tolerance)
    history = fetch_history(settings, day, window)
    if not history:
        raise PipelineError(
            f"no batch-inference run for the {window} days up to {day}: run batch_predict first."
        )
    metrics, alerts = evaluate(
        history, day, low_confidence_alert_pct=alert_pct, trend_tolerance=tolerance
    )
    for alert in alerts:
        log.warning("ALERT %s: %s", alert.kind, alert.message)
    report = {
        "logical_date": day.isoformat(),
        "window_days": window,
        "thresholds": {"low_confidence_alert_pct": alert_pct, "trend_tolerance": tolerance},
        "metrics": metrics,
        "alerts": [asdict(alert) for alert in alerts],
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
    return {
        "logical_date": day.isoformat(),
        "report_path": str(path),
        "run_id": run.info.run_id,
        "metrics": metrics,
        "alerts": report["alerts"],
    }
