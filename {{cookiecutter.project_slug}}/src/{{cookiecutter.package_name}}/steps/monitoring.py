"""Prediction-quality monitoring over a window of logical dates.

History comes from the batch-inference runs of the last N logical days (not
the last N runs by wall-clock time), and the result goes to its own
experiment, so a monitoring run never counts as a prediction run. Three
kinds of evidence: the confidence trend, the day's drift against the model's
reference profile, and real accuracy once enough true labels of a day's
predictions have arrived, joined by id whenever they come: unbiased on the
rows the day's labelling queue drew at random, biased on all labels.
While a challenger scores in the shadow, its agreement with the champion and
both models' accuracy on the same labelled rows are logged too (steps/shadow.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from datetime import date, timedelta

import mlflow
import pandas as pd
from mlflow.entities import Metric

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import DS, ID, LABEL
from {{ cookiecutter.package_name }}.data.sources import placed_labels
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.monitoring.alerts import requests_retraining
from {{ cookiecutter.package_name }}.monitoring.delivery import deliver, webhook_url
from {{ cookiecutter.package_name }}.monitoring.live_accuracy import live_accuracy, shadow_comparison
from {{ cookiecutter.package_name }}.monitoring.rules import DRIFT_METRICS, THRESHOLDS, DayMetrics, evaluate
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.steps import shadow
from {{ cookiecutter.package_name }}.steps.label_requests import RANDOM, REASON, read_requests
from {{ cookiecutter.package_name }}.tracking import runs
from {{ cookiecutter.package_name }}.tracking.client import connect, ensure_experiment

log = logging.getLogger(__name__)


def label_coverage(requests: pd.DataFrame, labels: pd.DataFrame) -> dict[str, float]:
    """How many of a day's label requests (and of their random part) have an arrived label."""
    answered = requests[ID].isin(labels[ID])
    drawn = requests[REASON] == RANDOM
    return {
        "label_requests": float(len(requests)),
        "label_requests_answered": float(answered.sum()),
        "label_requests_random": float(drawn.sum()),
        "label_requests_random_answered": float((answered & drawn).sum()),
        "label_coverage": float(answered.mean()) if len(requests) else 0.0,
    }


def ground_truth(settings: Settings, day: date, labels: pd.DataFrame) -> dict[str, float] | None:
    """The day's label coverage, and accuracy and macro F1 once enough rows have true labels.

    ``labels`` are every label that has arrived, placed on the scored row it
    labels (data/label_placement.py): the day's are joined by id, however late.
    The rows its labelling queue drew at random give the unbiased figures, all
    labeled rows the biased ones (monitoring/live_accuracy.py).
    """
    labels = labels.loc[labels[DS] == day.isoformat(), [ID, LABEL]]
    requests = read_requests(settings, day)
    coverage = {} if requests is None else label_coverage(requests, labels)
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    predictions = None if labels.empty else storage.read_parts(partition, [ID, "prediction"])
    if predictions is None:
        return coverage or None
    predictions = predictions.astype({ID: "string"})
    joined = predictions.merge(labels, on=ID)
    drawn = [] if requests is None else requests.loc[requests[REASON] == RANDOM, ID]
    scores = live_accuracy(
        joined[LABEL],
        joined["prediction"],
        joined[ID].isin(drawn),
        min_rows=settings.data.min_labeled_rows,
        seed=settings.model.random_seed,
    )
    scores.update(_shadow_comparison(settings, partition, joined, drawn))
    if "accuracy" not in scores and len(joined):
        log.info(
            "%s: %d of %d predictions labeled, accuracy waits for %d",
            day,
            len(joined),
            len(predictions),
            settings.data.min_labeled_rows,
        )
    return {**coverage, **scores} or None


def _shadow_comparison(
    settings: Settings, partition, joined: pd.DataFrame, drawn
) -> dict[str, float]:
    """Champion and challenger on the labelled rows both scored, when the day had a shadow."""
    shadow = storage.read_parts(partition, [ID, "prediction"], storage.SHADOW_PREFIX)
    if shadow is None or joined.empty:
        return {}
    shadow = shadow.astype({ID: "string"}).rename(columns={"prediction": "shadow_prediction"})
    paired = joined.merge(shadow, on=ID)
    return shadow_comparison(
        paired[LABEL],
        paired["prediction"],
        paired["shadow_prediction"],
        paired[ID].isin(drawn),
        min_rows=settings.data.min_labeled_rows,
    )


def collect_history(settings: Settings, day: date) -> list[DayMetrics]:
    """One point per logical day of the window that has a batch-inference run.

    True labels that have arrived are scored, and their accuracy, F1 and
    label coverage are logged on that day's batch-inference run.
    """
    client = connect(settings)
    labels = placed_labels(settings)
    history = []
    for offset in range(settings.monitoring.monitoring_window_days - 1, -1, -1):
        logical_date = day - timedelta(days=offset)
        run = runs.find_run(
            client, settings.inference_experiment, runs.run_name(runs.INFERENCE, logical_date)
        )
        if run is None or "average_confidence" not in run.data.metrics:
            continue
        metrics = run.data.metrics
        truth = ground_truth(settings, logical_date, labels)
        if truth is not None:
            stamp = int(time.time() * 1000)
            client.log_batch(
                run.info.run_id,
                metrics=[Metric(name, value, stamp, 0) for name, value in truth.items()],
            )
        history.append(
            DayMetrics(
                logical_date=logical_date,
                average_confidence=metrics["average_confidence"],
                low_confidence_percentage=metrics.get("low_confidence_percentage", 0.0),
                drift={m: metrics[m] for m in DRIFT_METRICS if m in metrics} or None,
                accuracy=truth.get("accuracy") if truth else None,
                f1=truth.get("f1") if truth else None,
                labels=truth,
            )
        )
    return history


def monitor(settings: Settings, day: date | str, *, tags: dict[str, str] | None = None) -> dict:
    """Evaluate the window ending at ``day``, log a monitoring run, write the report, alert."""
    day = storage.as_date(day)
    history = collect_history(settings, day)
    if not history:
        raise PipelineError(
            f"no batch-inference run for the {settings.monitoring.monitoring_window_days} days "
            f"up to {day}: run batch_predict first."
        )
    metrics, alerts = evaluate(
        history, day, settings.monitoring, min_accuracy=settings.model.min_accuracy
    )
    for alert in alerts:
        log.warning("ALERT %s", alert.as_dict())
    retrain = requests_retraining(alerts)
    # The challenger in the shadow: its days against the champion so far.
    live = shadow.evidence(settings)
    if live is not None:
        metrics.update(shadow.monitoring_metrics(live, day))
    report = {
        "logical_date": day.isoformat(),
        "window_days": settings.monitoring.monitoring_window_days,
        "thresholds": {
            **{name: settings.value(name) for name in THRESHOLDS},
            "min_accuracy": settings.model.min_accuracy,
        },
        "metrics": metrics,
        "alerts": [alert.as_dict() for alert in alerts],
        "retraining_requested": retrain,
        "shadow": live,
        "history": [
            {**asdict(point), "logical_date": point.logical_date.isoformat()} for point in history
        ],
    }
    path = storage.write_json(
        report,
        storage.partition_dir(settings.data.data_dir, storage.MONITORING, day)
        / storage.MONITORING_REPORT_FILE,
    )

    client = connect(settings)
    experiment_id = ensure_experiment(client, settings, settings.monitoring_experiment)
    name = runs.run_name(runs.MONITORING, day)
    runs.delete_runs_named(client, settings.monitoring_experiment, name)
    run_tags = {**(tags or {}), "logical_date": day.isoformat()}
    with mlflow.start_run(experiment_id=experiment_id, run_name=name, tags=run_tags) as run:
        mlflow.log_metrics(metrics)
        mlflow.log_dict(report, runs.MONITORING_REPORT_ARTIFACT)
        if alerts:
            mlflow.log_table(pd.DataFrame([a.as_dict() for a in alerts]), "alerts.json")
    comparison_page = None if live is None else shadow.refresh_comparison_page(settings, live)
    delivered = deliver(
        alerts, webhook_url(settings), timeout=settings.monitoring.webhook_timeout_seconds
    )
    return {
        "logical_date": day.isoformat(),
        "report_path": str(path),
        "run_id": run.info.run_id,
        "metrics": metrics,
        "alerts": report["alerts"],
        "retraining_requested": retrain,
        "shadow_version": None if live is None else live["version"],
        "comparison_page": comparison_page,
        "webhook_delivered": delivered,
    }
