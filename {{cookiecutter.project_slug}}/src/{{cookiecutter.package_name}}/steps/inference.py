"""Batch inference: plan the day's shards, merge what they scored into the day's one MLflow run.

``plan_shards`` pins the champion and cuts the day's snapshot into shards;
each is scored by ``steps/shards.py`` (in Airflow, one mapped task per
shard, on any worker); ``merge_shards`` checks that every row was accounted
for, puts the parts in place of the day's predictions and logs the run.
``batch_predict`` does all three in this process (``<slug> predict --date``);
given a sidecar, it sends MLflow's part there, so importing MLflow overlaps
with reading and scoring. Nothing here imports MLflow at module level.

Also scores any file on demand (``predict_file``, behind ``<slug> predict --input``).
"""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.columns import Columns
from {{ cookiecutter.package_name }}.data.digest import BatchDigest
from {{ cookiecutter.package_name }}.data.readers import read_chunks, table_format
from {{ cookiecutter.package_name }}.data.schema import TEXT
from {{ cookiecutter.package_name }}.errors import DataValidationError, PipelineError
from {{ cookiecutter.package_name }}.model.pipeline import build_pipeline
from {{ cookiecutter.package_name }}.model.scoring import score_chunks
from {{ cookiecutter.package_name }}.monitoring.statistics import BatchStats, batch_drift
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.steps.shards import (
    inference_workers,
    predict_shard,
    validated,
    with_predictions,
)
from {{ cookiecutter.package_name }}.tracking import inference_run
from {{ cookiecutter.package_name }}.tracking.pinned import PinnedVersion
from {{ cookiecutter.package_name }}.tracking.sidecar import InProcess, Sidecar

log = logging.getLogger(__name__)

__all__ = ["batch_predict", "inference_workers", "merge_shards", "plan_shards", "predict_file"]


def batch_predict(
    settings: Settings,
    day: date | str,
    *,
    tags: dict[str, str] | None = None,
    mlflow_side: Sidecar | InProcess | None = None,
) -> dict:
    """Score the batch of ``day`` with the champion, shard after shard, in this process.

    MLflow's calls (pin the champion, fetch its drift reference, log the run)
    go to ``mlflow_side``, a sidecar process; by default they run here.
    """
    side = mlflow_side or InProcess()
    day = storage.as_date(day)
    _require_snapshot(settings, day)
    pinning = side.submit(inference_run.pin_champion, settings)
    # Meanwhile, import the scikit-learn modules loading the model needs (about
    # 1 s): with a sidecar, its MLflow import and this one run side by side.
    build_pipeline(settings.model)
    pinned = pinning.result()
    shadow = side.submit(inference_run.pin_shadow, settings, pinned).result()
    # Fetched while the shards are scored; needed only by the merge.
    profile = side.submit(inference_run.reference_profile, settings, pinned)
    shards = _plan(settings, day, pinned, shadow)
    merged = _merged(settings, [predict_shard(settings, shard) for shard in shards])
    return _log_and_publish(settings, merged, profile.result(), side, tags)


def plan_shards(settings: Settings, day: date | str) -> list[dict]:
    """Pin the champion and cut the day's snapshot into shards of at most ``shard_rows`` rows.

    Shards are equal ranges of rows. Each shard of this plan writes into one
    new staging directory; those that earlier, unfinished runs left go. When
    the challenger alias names another version, it is pinned too, and every
    shard also scores with it, in the shadow.
    """
    day = storage.as_date(day)
    _require_snapshot(settings, day)
    pinned = inference_run.pin_champion(settings)
    return _plan(settings, day, pinned, inference_run.pin_shadow(settings, pinned))


def _require_snapshot(settings: Settings, day: date) -> None:
    snapshot = (
        storage.partition_dir(settings.data.data_dir, storage.BATCHES, day) / storage.BATCH_FILE
    )
    if not snapshot.is_file():
{%- if cookiecutter.data_source == "demo" %}
        first = "generate-data" if settings.data.data_source == "demo" else "extract"
{%- else %}
        first = "extract"
{%- endif %}
        raise DataValidationError(f"no batch at {snapshot}: run {first} for {day} first.")


def _plan(
    settings: Settings, day: date, pinned: PinnedVersion, shadow: PinnedVersion | None
) -> list[dict]:
    snapshot = (
        storage.partition_dir(settings.data.data_dir, storage.BATCHES, day) / storage.BATCH_FILE
    )
    rows = storage.parquet_rows(snapshot)
    count = max(1, -(-rows // settings.data.shard_rows))
    bounds = [rows * index // count for index in range(count + 1)]
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    for stale in storage.stale_staging_dirs(partition):
        shutil.rmtree(stale)
    token = secrets.token_hex(6)
    plan = {
        "logical_date": day.isoformat(),
        "token": token,
        "batch_rows": rows,
        "shards": count,
        "model": pinned.to_dict(),
        "shadow": shadow.to_dict() if shadow else None,
    }
    staging = storage.staging_dir(partition, token)
    staging.mkdir(parents=True)
    storage.write_json({**plan, "bounds": bounds}, staging / storage.SHARD_PLAN_FILE)
    return [
        {**plan, "shard": index, "start": bounds[index], "stop": bounds[index + 1]}
        for index in range(count)
    ]


def merge_shards(
    settings: Settings, results: Iterable[dict], *, tags: dict[str, str] | None = None
) -> dict:
    """Merge the shards' counts into the day's metrics and MLflow run; put the parts in place.

    Fails, and replaces nothing, unless every planned shard finished and the
    shards account for every row of the snapshot. A retry after the parts
    went in place finds them there.
    """
    merged = _merged(settings, list(results))
    profile = inference_run.reference_profile(settings, merged.pinned)
    return _log_and_publish(settings, merged, profile, InProcess(), tags)


@dataclass(frozen=True)
class _Merged:
    """The shards of one run of a day, checked and counted; not yet logged or in place."""

    day: date
    partition: Path
    staging: Path
    folder: Path  # staging, or the partition when a retry finds the parts in place
    shards: int
    pinned: PinnedVersion
    stats: BatchStats
    digest: BatchDigest
    rejected: int
    location: str
    metrics: dict[str, float]
    shadow: dict | None  # the challenger's version and counts, when it scored in the shadow


def _merged(settings: Settings, results: list[dict]) -> _Merged:
    if not results:
        raise PipelineError("no shard results to merge: batch_predict scored no shard.")
    day = storage.as_date(results[0]["logical_date"])
    token = results[0]["token"]
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    staging = storage.staging_dir(partition, token)
    folder = staging if staging.is_dir() else partition
    plan_file = folder / storage.SHARD_PLAN_FILE
    plan = storage.read_json(plan_file) if plan_file.is_file() else {}
    if plan.get("token") != token:
        raise PipelineError(
            f"the shards of this run of {day} are gone from {staging} (a later run replaced "
            f"them): clear the whole DAG run to score the day again."
        )
    stats, digest, rejected, loads, scoring = None, None, 0, [], 0.0
    shadows = []
    for index in range(plan["shards"]):
        path = folder / storage.part_name(storage.SHARD_STATS_PREFIX, index, ".json")
        if not path.is_file():
            raise PipelineError(
                f"shard {index + 1} of {plan['shards']} of {day} has no results in {folder}: "
                f"it did not finish; clear its batch_predict task to score it again."
            )
        saved = storage.read_json(path)
        shard_stats = BatchStats.from_dict(saved["stats"])
        shard_digest = BatchDigest.from_dict(saved["digest"])
        stats = shard_stats if stats is None else stats.merge(shard_stats)
        digest = shard_digest if digest is None else digest.merge(shard_digest)
        rejected += saved["rejected_rows"]
        loads.append(saved["model_load_seconds"])
        scoring += saved["scoring_seconds"]
        if saved.get("shadow"):
            shadows.append(saved["shadow"])
    if stats.rows + rejected != plan["batch_rows"]:
        raise PipelineError(
            f"the shards of {day} account for {stats.rows + rejected:,} of the snapshot's "
            f"{plan['batch_rows']:,} rows: clear the whole DAG run to score the day again."
        )
    origin = (
        storage.partition_dir(settings.data.data_dir, storage.BATCHES, day) / storage.SOURCE_FILE
    )
    summary = storage.read_json(origin) if origin.is_file() else {}
    location = summary.get("source", str(origin.with_name(storage.BATCH_FILE)))
    if not stats.rows:
        raise DataValidationError(
            f"the batch at {location} has no row with text ({rejected} rejected)."
        )
    if rejected:
        log.warning("%d rows of %s rejected: see %s", rejected, location, partition)

    metrics = stats.metrics()
    metrics["rejected_rows"] = float(rejected)
    # Rows extract_batch set aside before the snapshot (see its rejects.parquet).
    metrics["quarantined_rows"] = float(summary.get("rejected_rows", 0))
    metrics["shards"] = float(plan["shards"])
    # Where the time goes: loading the model is fixed per shard, scoring grows with the batch.
    metrics["model_load_seconds"] = max(loads)
    metrics["scoring_seconds"] = scoring
    shadow = _shadow_summary(shadows)
    if shadow is not None:
        metrics.update(shadow["metrics"])
    return _Merged(
        day=day,
        partition=partition,
        staging=staging,
        folder=folder,
        shards=plan["shards"],
        pinned=PinnedVersion(**plan["model"]),
        stats=stats,
        digest=digest,
        rejected=rejected,
        location=location,
        metrics=metrics,
        shadow=shadow,
    )


def _shadow_summary(shards: list[dict]) -> dict | None:
    """The shards' shadow counts as the day's: rows scored, agreement, failed shards and why."""
    if not shards:
        return None
    rows = sum(shard["rows"] for shard in shards)
    errors = [shard["error"] for shard in shards if "error" in shard]
    metrics = {"shadow_rows": float(rows), "shadow_failed_shards": float(len(errors))}
    if rows:
        metrics["shadow_agreement"] = sum(shard["agreeing_rows"] for shard in shards) / rows
    if errors:
        log.warning(
            "challenger version %s failed in the shadow on %d of %d shards (first: %s); "
            "the predictions are the champion's, whole",
            shards[0]["version"],
            len(errors),
            len(shards),
            errors[0],
        )
    return {"version": shards[0]["version"], "errors": errors, "metrics": metrics}


def _log_and_publish(
    settings: Settings,
    merged: _Merged,
    profile: dict | None,
    side: Sidecar | InProcess,
    tags: dict[str, str] | None,
) -> dict:
    """Add the drift metrics, log the day's run, then put the parts in place."""
    metrics = dict(merged.metrics)
    if profile is None:
        log.warning(
            "model version %s has no reference profile: drift metrics skipped",
            merged.pinned.version,
        )
    else:
        metrics.update(batch_drift(profile, merged.stats))
    stats = merged.stats
    run_id = side.submit(
        inference_run.log_run,
        settings,
        merged.day,
        pinned=merged.pinned,
        params={
            "low_confidence_threshold": stats.low_threshold,
            "high_confidence_threshold": stats.high_threshold,
        },
        metrics=metrics,
        source=merged.location,
        digest=merged.digest.hexdigest(),
        tags=_with_shadow_tag(tags, merged.shadow),
    ).result()
    # Only a logged run's predictions go in place: a failure above publishes nothing.
    if merged.folder == merged.staging:
        storage.replace_dir(merged.staging, merged.partition)
    return {
        "logical_date": merged.day.isoformat(),
        "path": str(merged.partition),
        "rows": stats.rows,
        "rejected_rows": merged.rejected,
        "shards": merged.shards,
        "model_version": merged.pinned.version,
        "shadow_version": merged.shadow["version"] if merged.shadow else None,
        "run_id": run_id,
        "metrics": metrics,
    }


def _with_shadow_tag(tags: dict[str, str] | None, shadow: dict | None) -> dict[str, str] | None:
    """The run's tags, and the challenger's version when it scored rows in the shadow."""
    if shadow is None or not shadow["metrics"]["shadow_rows"]:
        return tags
    return {**(tags or {}), inference_run.SHADOW_VERSION_TAG: shadow["version"]}


def default_output(path: Path) -> Path:
    """``reviews.csv`` -> ``reviews.predictions.csv``, next to the input."""
    return path.with_name(f"{path.stem}.predictions{path.suffix}")


def predict_file(
    settings: Settings,
    path: Path,
    output: Path | None = None,
    progress: Callable[[int], object] | None = None,
) -> dict:
    """Score a CSV, Parquet or JSON Lines file with the champion, chunk by chunk on every core.

    The output has the input's columns plus ``prediction``, ``confidence``
    and ``model_version``, in the format its name says (default: the input's,
    next to it). Rows without text go to ``<output>.rejects.<ext>`` with the reason.
    The texts are the ``text_column`` setting's column; its name and every
    other column's come out as they went in. ``progress`` is told the rows of each chunk scored.
    """
    output = output or default_output(path)
    kinds = table_format(path), table_format(output)
    rejects_path = output.with_name(f"{output.stem}.rejects{output.suffix}")
    columns = Columns.of(settings)
    # A missing input is refused here, before the champion's seconds of loading.
    read = read_chunks(path, settings.data.inference_chunk_rows, strings=columns.strings)
    from {{ cookiecutter.package_name }}.tracking import registry

    champion = registry.load_champion(settings)
    labels = pa.array([str(label) for label in champion.model.classes_])
    # The team's text column is scored as ``text``; a column of theirs named
    # ``text`` meanwhile has the team's name, and both go back on the way out.
    swap = {columns.text: TEXT, TEXT: columns.text} if columns.text != TEXT else {}
    chunks = _with_text(read, path, columns.text, swap)
    scored = 0
    with (
        storage.table_stream(rejects_path, kinds[1]) as write_rejects,
        storage.table_stream(output, kinds[1]) as write,
    ):
        rejected = _Counter(write_rejects, swap)
        for chunk, scores in score_chunks(
            champion.model, validated(chunks, rejected), inference_workers(settings)
        ):
            table = with_predictions(chunk, scores, labels, champion.version)
            write(_renamed(table.to_pandas(), swap))
            scored += len(chunk)
            if progress is not None:
                progress(len(chunk))
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


def _with_text(
    chunks: Iterable[pd.DataFrame], path: Path, text: str, swap: dict[str, str]
) -> Iterator[pd.DataFrame]:
    for chunk in chunks:
        if text not in chunk.columns:
            raise DataValidationError(
                f"{path} has no '{text}' column (columns: {list(chunk.columns)}): "
                f"name the column of texts to score '{text}'."
            )
        yield _renamed(chunk, swap)


def _renamed(frame: pd.DataFrame, swap: dict[str, str]) -> pd.DataFrame:
    return frame.rename(columns=swap) if swap else frame


class _Counter:
    """A writer that counts the rows it is given, like ``storage.ParquetStream``.

    ``swap`` gives the columns their names in the input back.
    """

    def __init__(self, write, swap: dict[str, str]) -> None:
        self._write = write
        self._swap = swap
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        self._write(_renamed(frame, self._swap))
        self.rows += len(frame)
