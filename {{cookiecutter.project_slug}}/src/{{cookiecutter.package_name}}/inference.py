"""Batch prediction with the champion model."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import mlflow
import mlflow.data
import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }} import registry, storage
from {{ cookiecutter.package_name }}.data import TEXT
from {{ cookiecutter.package_name }}.drift import PROFILE_FILE, batch_drift
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.settings import LABELS, Settings
from {{ cookiecutter.package_name }}.sources import source_for

PREDICTIONS_FILE = "predictions.parquet"
REJECTS_FILE = "rejects.parquet"
log = logging.getLogger(__name__)


def run_name(day: date | str) -> str:
    """One batch-inference run per logical date; the name is its key."""
    return f"batch-inference-{storage.as_date(day).isoformat()}"


def predict_frame(model: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus ``prediction`` and ``confidence`` (the top class probability)."""
    if frame.empty:
        return frame.assign(prediction=pd.Series(dtype="string"), confidence=pd.Series(dtype=float))
    probabilities = model.predict_proba(frame[[TEXT]])
    best = probabilities.argmax(axis=1)
    return frame.assign(
        prediction=np.asarray(model.classes_)[best],
        confidence=probabilities[np.arange(len(frame)), best],
    )


def split_rejects(batch: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows that can be scored, and the others with the reason they cannot."""
    if TEXT not in batch.columns:
        raise DataValidationError(
            f"the batch has no '{TEXT}' column (columns: {list(batch.columns)})."
        )
    text = batch[TEXT].astype("string")
    empty = text.isna() | (text.str.strip() == "")
    return batch.loc[~empty].reset_index(drop=True), batch.loc[empty].assign(reason="empty text")


def summarize_predictions(predictions: pd.DataFrame, low: float, high: float) -> dict[str, float]:
    """The per-batch metrics logged to MLflow."""
    count = len(predictions)
    confidence = predictions["confidence"].astype(float)
    low_count = int((confidence < low).sum())

    def share(part: int) -> float:
        return 100.0 * part / count if count else 0.0

    metrics = {
        "prediction_count": float(count),
        "average_confidence": float(confidence.mean()) if count else 0.0,
        "low_confidence_predictions": float(low_count),
        "high_confidence_predictions": float((confidence >= high).sum()),
        "low_confidence_percentage": share(low_count),
    }
    for label in LABELS:
        label_count = int((predictions["prediction"] == label).sum())
        metrics[f"predictions_{label}"] = float(label_count)
        metrics[f"predictions_{label}_percentage"] = share(label_count)
    return metrics


def batch_predict(
    settings: Settings,
    day: date | str,
    *,
    tags: dict[str, str] | None = None,
) -> dict:
    """Score the batch of ``day`` with the champion and write its predictions partition."""
    with registry.tracking_server_required(settings):
        return _batch_predict(settings, day, tags=tags)


def _batch_predict(settings: Settings, day: date | str, *, tags: dict[str, str] | None) -> dict:
    low, high = settings.low_confidence_threshold, settings.high_confidence_threshold
    day = storage.as_date(day)
    source = source_for(settings)
    location = source.batch_location(day)
    batch, rejects = split_rejects(source.read_batch(day))
    if batch.empty:
        raise DataValidationError(
            f"the batch at {location} has no row with text ({len(rejects)} rejected)."
        )

    champion = registry.load_champion(settings)
    predictions = predict_frame(champion.model, batch).assign(model_version=champion.version)

    partition = storage.partition_dir(settings.data_dir, storage.PREDICTIONS, day)
    output = storage.write_parquet(predictions, partition / PREDICTIONS_FILE)
    rejects_path = partition / REJECTS_FILE
    if len(rejects):
        storage.write_parquet(rejects, rejects_path)
        log.warning(
            "%d rows of %s rejected: %s", len(rejects), location, rejects["reason"].unique()
        )
    else:
        rejects_path.unlink(missing_ok=True)

    metrics = summarize_predictions(predictions, low, high)
    metrics["rejected_rows"] = float(len(rejects))
    profile = registry.reference_profile(champion)
    if profile is None:
        log.warning(
            "model version %s has no %s: drift metrics skipped", champion.version, PROFILE_FILE
        )
    else:
        metrics.update(batch_drift(profile, champion.model, predictions))
    client = registry.connect(settings)
    experiment_id = registry.ensure_experiment(client, settings, settings.inference_experiment)
    registry.delete_runs_named(client, experiment_id, run_name(day))
    run_tags = {
        **(tags or {}),
        "logical_date": day.isoformat(),
        "model_version": champion.version,
        "model_run_id": champion.run_id or "",
    }
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=run_name(day), tags=run_tags
    ) as run:
        mlflow.log_params({"low_confidence_threshold": low, "high_confidence_threshold": high})
        mlflow.log_metrics(metrics)
        dataset = mlflow.data.from_pandas(
            batch, source=registry.dataset_source(location), name=f"batch-{day.isoformat()}"
        )
        mlflow.log_input(dataset, context="inference")
    return {
        "logical_date": day.isoformat(),
        "path": str(output),
        "rows": len(predictions),
        "rejected_rows": len(rejects),
        "model_version": champion.version,
        "run_id": run.info.run_id,
        "metrics": metrics,
    }
