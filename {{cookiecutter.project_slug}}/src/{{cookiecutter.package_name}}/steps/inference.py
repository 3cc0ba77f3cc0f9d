"""Batch inference: score the day's batch snapshot with the champion, write its predictions.

Also scores any file on demand (``predict_file``, behind ``<slug> predict --input``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import mlflow
import pandas as pd
import pyarrow as pa
from mlflow.data.meta_dataset import MetaDataset

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.readers import read_chunks, table_format
from {{ cookiecutter.package_name }}.data.schema import TEXT, split_rejects
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.model.scoring import ChunkScores, available_cores, score_chunks
from {{ cookiecutter.package_name }}.monitoring.statistics import BatchStats, batch_drift
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tracking import registry, runs
from {{ cookiecutter.package_name }}.tracking.client import connect, ensure_experiment, tracking_server_required
from {{ cookiecutter.package_name }}.tracking.lineage import BatchDigest, dataset_source_object

# Dictionary-encoded in the predictions file: trying it on mostly distinct
# texts and ids costs time and saves no space.
LOW_CARDINALITY = ["prediction", "model_version"]
log = logging.getLogger(__name__)


def inference_workers(settings: Settings) -> int:
    """Processes that predict: the setting, or every core this task may use when it is 0."""
    return settings.data.inference_workers or available_cores()


def batch_predict(
    settings: Settings,
    day: date | str,
    *,
    tags: dict[str, str] | None = None,
) -> dict:
    """Score the batch of ``day`` with the champion and write its predictions partition."""
    with tracking_server_required(settings):
        return _batch_predict(settings, day, tags=tags)


def _batch_predict(settings: Settings, day: date | str, *, tags: dict[str, str] | None) -> dict:
    low, high = (
        settings.monitoring.low_confidence_threshold,
        settings.monitoring.high_confidence_threshold,
    )
    day = storage.as_date(day)
    location, quarantined, chunks = _snapshot(settings, day)
    started = time.perf_counter()
    champion = registry.load_champion(settings)
    loaded = time.perf_counter()

    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    output = partition / storage.PREDICTIONS_FILE
    classes = [str(label) for label in champion.model.classes_]
    stats = BatchStats(classes, low, high)
    digest = BatchDigest()
    labels = pa.array(classes)
    # Both files appear together at the end, or neither does.
    with (
        storage.parquet_stream(partition / storage.REJECTS_FILE) as rejects,
        storage.parquet_stream(output, use_dictionary=LOW_CARDINALITY) as predictions,
    ):
        valid = _validated(chunks, rejects)
        for chunk, scores in score_chunks(champion.model, valid, inference_workers(settings)):
            stats.add(scores.best, scores.confidence, scores.oov_known, scores.oov_total)
            digest.add(chunk)
            predictions.write(_with_predictions(chunk, scores, labels, champion.version))
        if not stats.rows:
            raise DataValidationError(
                f"the batch at {location} has no row with text ({rejects.rows} rejected)."
            )
    scored = time.perf_counter()
    if rejects.rows:
        log.warning("%d rows of %s rejected: see %s", rejects.rows, location, rejects.target)

    metrics = stats.metrics()
    metrics["rejected_rows"] = float(rejects.rows)
    # Rows extract_batch set aside before the snapshot (see its rejects.parquet).
    metrics["quarantined_rows"] = float(quarantined)
    # Where the task's time goes: loading the model is fixed, scoring grows with the batch.
    metrics["model_load_seconds"] = loaded - started
    metrics["scoring_seconds"] = scored - loaded
    profile = registry.reference_profile(champion)
    if profile is None:
        log.warning(
            "model version %s has no %s: drift metrics skipped",
            champion.version,
            runs.PROFILE_ARTIFACT,
        )
    else:
        metrics.update(batch_drift(profile, stats))
    client = connect(settings)
    experiment_id = ensure_experiment(client, settings, settings.inference_experiment)
    name = runs.run_name(runs.INFERENCE, day)
    runs.delete_runs_named(client, settings.inference_experiment, name)
    run_tags = {
        **(tags or {}),
        "logical_date": day.isoformat(),
        "model_version": champion.version,
        "model_run_id": champion.run_id or "",
    }
    with mlflow.start_run(experiment_id=experiment_id, run_name=name, tags=run_tags) as run:
        mlflow.log_params({"low_confidence_threshold": low, "high_confidence_threshold": high})
        mlflow.log_metrics(metrics)
        # Digested as the chunks went by: the batch is never whole in memory
        # to hand to mlflow.data.from_pandas.
        dataset = MetaDataset(
            dataset_source_object(location),
            name=f"batch-{day.isoformat()}",
            digest=digest.hexdigest(),
        )
        mlflow.log_input(dataset, context="inference")
    return {
        "logical_date": day.isoformat(),
        "path": str(output),
        "rows": stats.rows,
        "rejected_rows": rejects.rows,
        "model_version": champion.version,
        "run_id": run.info.run_id,
        "metrics": metrics,
    }


def _snapshot(settings: Settings, day: date):
    """Where the batch came from, how many rows extraction set aside, the snapshot in chunks."""
    partition = storage.partition_dir(settings.data.data_dir, storage.BATCHES, day)
    snapshot = partition / storage.BATCH_FILE
    if not snapshot.is_file():
        first = "generate-data" if settings.data.data_source == "demo" else "extract"
        raise DataValidationError(f"no batch at {snapshot}: run {first} for {day} first.")
    origin = partition / storage.SOURCE_FILE
    summary = storage.read_json(origin) if origin.is_file() else {}
    location = summary.get("source", str(snapshot))
    chunks = storage.read_parquet_chunks(snapshot, settings.data.inference_chunk_rows)
    return location, summary.get("rejected_rows", 0), chunks


def default_output(path: Path) -> Path:
    """``reviews.csv`` -> ``reviews.predictions.csv``, next to the input."""
    return path.with_name(f"{path.stem}.predictions{path.suffix}")


def predict_file(settings: Settings, path: Path, output: Path | None = None) -> dict:
    """Score a CSV, Parquet or JSON Lines file with the champion, chunk by chunk on every core.

    The output has the input's columns plus ``prediction``, ``confidence``
    and ``model_version``, in the format its name says (default: the input's,
    next to it). Rows without text go to ``<output>.rejects.<ext>`` with the reason.
    """
    output = output or default_output(path)
    kinds = table_format(path), table_format(output)
    rejects_path = output.with_name(f"{output.stem}.rejects{output.suffix}")
    champion = registry.load_champion(settings)
    labels = pa.array([str(label) for label in champion.model.classes_])
    chunks = _with_text(read_chunks(path, settings.data.inference_chunk_rows), path)
    scored = 0
    with (
        storage.table_stream(rejects_path, kinds[1]) as write_rejects,
        storage.table_stream(output, kinds[1]) as write,
    ):
        rejected = _Counter(write_rejects)
        for chunk, scores in score_chunks(
            champion.model, _validated(chunks, rejected), inference_workers(settings)
        ):
            table = _with_predictions(chunk, scores, labels, champion.version)
            write(table.to_pandas())
            scored += len(chunk)
    if not scored:
        output.unlink(missing_ok=True)
        raise DataValidationError(f"{path} has no row with text ({rejected.rows} rejected).")
    if not rejected.rows:
        rejects_path.unlink(missing_ok=True)
    return {
        "input": str(path),
        "output": str(output),
        "rows": scored,
        "rejected_rows": rejected.rows,
        "rejects": str(rejects_path) if rejected.rows else None,
        "model_version": champion.version,
    }


def _with_text(chunks: Iterable[pd.DataFrame], path: Path) -> Iterator[pd.DataFrame]:
    for chunk in chunks:
        if TEXT not in chunk.columns:
            raise DataValidationError(
                f"{path} has no '{TEXT}' column (columns: {list(chunk.columns)}): "
                f"name the column of texts to score '{TEXT}'."
            )
        yield chunk


class _Counter:
    """A writer that counts the rows it is given, like ``storage.ParquetStream``."""

    def __init__(self, write) -> None:
        self._write = write
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        self._write(frame)
        self.rows += len(frame)


def _with_predictions(
    chunk: pd.DataFrame, scores: ChunkScores, labels: pa.Array, version: str
) -> pa.Table:
    """The chunk's rows with their prediction, confidence and model version, as Arrow.

    Built from Arrow arrays (``take`` of the class labels, one repeated
    version) rather than as pandas object columns converted back for Parquet.
    """
    table = pa.Table.from_pandas(chunk, preserve_index=False)
    table = table.append_column("prediction", labels.take(scores.best))
    table = table.append_column("confidence", pa.array(scores.confidence))
    return table.append_column("model_version", pa.repeat(pa.scalar(version), len(chunk)))


def _validated(
    chunks: Iterable[pd.DataFrame], rejects: storage.ParquetStream | _Counter
) -> Iterator[pd.DataFrame]:
    """The scorable rows of each chunk; the others go to ``rejects`` with their reason."""
    for chunk in chunks:
        valid, rejected = split_rejects(chunk)
        if len(rejected):
            rejects.write(rejected)
        if len(valid):
            yield valid
