"""Score one shard of the day's batch: the part of batch inference that runs on many workers.

A shard is a range of rows of the day's snapshot (``plan_shards`` in
steps/inference.py cuts them). Airflow maps ``batch_predict`` over the plan,
so each shard is its own task on any worker, and a failed one retries alone.
It writes ``part-<n>.parquet`` (and ``rejects-<n>.parquet``, ``stats-<n>.json``)
into the run's staging directory beside the day's predictions partition;
``merge_shards`` checks every part, puts them in place and logs the day's one
MLflow run. Nothing here imports MLflow: with the pinned model version in the
host's cache, a shard task pays only for pandas, pyarrow and scikit-learn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.digest import BatchDigest
from {{ cookiecutter.package_name }}.data.schema import ID, MARGIN, TEXT, split_rejects
from {{ cookiecutter.package_name }}.errors import DataValidationError, PipelineError
from {{ cookiecutter.package_name }}.model.scoring import ChunkScores, available_cores, score_chunks
from {{ cookiecutter.package_name }}.monitoring.live_accuracy import agreeing_rows
from {{ cookiecutter.package_name }}.monitoring.statistics import BatchStats
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tracking.pinned import PinnedVersion, load_cached

# Dictionary-encoded in the predictions file: trying it on mostly distinct
# texts and ids costs time and saves no space.
LOW_CARDINALITY = ["prediction", "model_version"]
# Min/max statistics of every id and text cost a third of the Parquet writing,
# and no reader filters on them.
WITH_STATISTICS = [*LOW_CARDINALITY, "confidence"]
log = logging.getLogger(__name__)


def inference_workers(settings: Settings) -> int:
    """Processes that predict: the setting, or every core this task may use when it is 0."""
    return settings.data.inference_workers or available_cores()


def shard_label(shard: dict) -> str:
    """How a shard is named in logs and in Airflow's list of mapped tasks."""
    return (
        f"shard {shard['shard'] + 1} of {shard['shards']} "
        f"(rows {shard['start']:,} to {shard['stop'] - 1:,})"
    )


def predict_shard(settings: Settings, shard: dict) -> dict:
    """Score the rows of ``shard`` with its pinned model; write its part files into staging.

    A retry rewrites the same files (each appears whole or not at all).
    """
    day = storage.as_date(shard["logical_date"])
    snapshot = (
        storage.partition_dir(settings.data.data_dir, storage.BATCHES, day) / storage.BATCH_FILE
    )
    staging = storage.staging_dir(
        storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day), shard["token"]
    )
    if not (staging / storage.SHARD_PLAN_FILE).is_file():
        raise PipelineError(
            f"{shard_label(shard)} of {day}: its run's staging directory {staging} is gone "
            f"(its merge already put the parts in place, or a later run of {day} replaced "
            f"them): clear the whole DAG run to score the day again."
        )
    if not snapshot.is_file() or storage.parquet_rows(snapshot) != shard["batch_rows"]:
        raise DataValidationError(
            f"the snapshot {snapshot} is not the one planned ({shard['batch_rows']:,} rows): "
            f"it changed after the plan; clear the whole DAG run of {day} to plan it again."
        )
    pinned = PinnedVersion(**shard["model"])
    started = time.perf_counter()
    model = load_model(settings, pinned)
    loaded = time.perf_counter()

    index = shard["shard"]
    monitoring = settings.monitoring
    classes = [str(label) for label in model.classes_]
    stats = BatchStats(
        classes, monitoring.low_confidence_threshold, monitoring.high_confidence_threshold
    )
    digest = BatchDigest()
    labels = pa.array(classes)
    chunks = storage.read_parquet_range(
        snapshot, shard["start"], shard["stop"], settings.data.inference_chunk_rows
    )
    with (
        storage.parquet_stream(
            staging / storage.part_name(storage.REJECTS_PREFIX, index)
        ) as rejects,
        storage.parquet_stream(
            staging / storage.part_name(storage.PART_PREFIX, index),
            use_dictionary=LOW_CARDINALITY,
            write_statistics=WITH_STATISTICS,
        ) as predictions,
    ):
        # The unknown-token sample counts rows from the shard's first batch row,
        # as one pass over the batch would (scoring rejects none of a snapshot
{%- if cookiecutter.data_source == "demo" %}
        # that extraction or the demo wrote: both write only scorable rows).
{%- else %}
        # that extraction wrote: it writes only scorable rows).
{%- endif %}
        scored = score_chunks(
            model, validated(chunks, rejects), inference_workers(settings), offset=shard["start"]
        )
        for chunk, scores in scored:
            stats.add(scores.best, scores.confidence, scores.oov_known, scores.oov_total)
            digest.add(chunk)
            table = with_predictions(chunk, scores, labels, pinned.version)
            # The labelling queue's ranking (steps/label_requests.py); not delivered.
            margin = pa.array(scores.margin, pa.float32())
            predictions.write(table.append_column(MARGIN, margin))
    finished = time.perf_counter()
    if rejects.rows:
        log.warning(
            "%s: %d rows rejected, see %s", shard_label(shard), rejects.rows, rejects.target
        )
    # After the champion's part is whole: the shadow can neither delay nor spoil it.
    shadow = score_shadow(settings, shard, staging) if shard.get("shadow") else None
    result = {
        "logical_date": day.isoformat(),
        "shard": index,
        "shards": shard["shards"],
        "token": shard["token"],
        "rows": stats.rows,
        "rejected_rows": rejects.rows,
        "model_version": pinned.version,
        "model_load_seconds": loaded - started,
        "scoring_seconds": finished - loaded,
    }
    # The counts go to a file, not to XCom: a digest head is up to 80 KB.
    storage.write_json(
        {**result, "stats": stats.to_dict(), "digest": digest.to_dict(), "shadow": shadow},
        staging / storage.part_name(storage.SHARD_STATS_PREFIX, index, ".json"),
    )
    log.info("%s: %d rows scored in %.1f s", shard_label(shard), stats.rows, finished - loaded)
    return result


def score_shadow(settings: Settings, shard: dict, staging: Path) -> dict:
    """Score the shard's rows with the challenger too, into ``shadow-<n>.parquet``; never raises.

    The rows come back from the champion's part, chunk by chunk (memory stays
    flat), with the champion's label to count agreement. The shadow part is
    never published nor delivered; a failure is logged and counted, and the
    day's predictions go on without it.
    """
    pinned = PinnedVersion(**shard["shadow"])
    part = staging / storage.part_name(storage.PART_PREFIX, shard["shard"])
    target = staging / storage.part_name(storage.SHADOW_PREFIX, shard["shard"])
    if not part.is_file():  # every row of the shard was rejected: nothing to score
        return {"version": pinned.version, "rows": 0, "agreeing_rows": 0}
    agreeing = 0
    try:
        model = load_model(settings, pinned)
        labels = pa.array([str(label) for label in model.classes_])
        chunks = (
            batch.to_pandas()
            for batch in pq.ParquetFile(part).iter_batches(
                batch_size=settings.data.inference_chunk_rows, columns=[ID, TEXT, "prediction"]
            )
        )
        with storage.parquet_stream(
            target, use_dictionary=LOW_CARDINALITY, write_statistics=WITH_STATISTICS
        ) as written:
            for chunk, scores in score_chunks(model, chunks, inference_workers(settings)):
                predicted = labels.take(scores.best)
                agreeing += agreeing_rows(chunk["prediction"], predicted.to_numpy(False))
                table = pa.Table.from_pandas(chunk[[ID]], preserve_index=False)
                written.write(with_predictions_columns(table, scores, predicted, pinned.version))
    except Exception as error:  # the challenger's problem, never the day's
        target.unlink(missing_ok=True)
        reason = _one_line(error)
        log.warning(
            "%s: challenger version %s not scored in the shadow (%s); the champion's "
            "predictions are unaffected",
            shard_label(shard),
            pinned.version,
            reason,
        )
        return {"version": pinned.version, "rows": 0, "agreeing_rows": 0, "error": reason}
    return {"version": pinned.version, "rows": written.rows, "agreeing_rows": agreeing}


def _one_line(error: Exception) -> str:
    """``Type: first line of the message``: a registry error's message can run to several."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else 'no message'}"


def load_model(settings: Settings, pinned: PinnedVersion) -> Any:
    """The pinned version: from this host's model cache, else from the registry."""
    model = load_cached(settings, pinned)
    if model is not None:
        return model
    # The version's first load on this host: the registry, and MLflow with it.
    from {{ cookiecutter.package_name }}.tracking import registry

    return registry.load_version(settings, pinned.version)


def with_predictions(
    chunk: pd.DataFrame, scores: ChunkScores, labels: pa.Array, version: str
) -> pa.Table:
    """The chunk's rows with their prediction, confidence and model version, as Arrow.

    Built from Arrow arrays (``take`` of the class labels, one repeated
    version) rather than as pandas object columns converted back for Parquet.
    """
    table = pa.Table.from_pandas(chunk, preserve_index=False)
    return with_predictions_columns(table, scores, labels.take(scores.best), version)


def with_predictions_columns(
    table: pa.Table, scores: ChunkScores, predicted: pa.Array, version: str
) -> pa.Table:
    """``table`` with the prediction, confidence and model version columns appended."""
    table = table.append_column("prediction", predicted)
    table = table.append_column("confidence", pa.array(scores.confidence))
    return table.append_column("model_version", pa.repeat(pa.scalar(version), len(table)))


def validated(chunks: Iterable[pd.DataFrame], rejects) -> Iterator[pd.DataFrame]:
    """The scorable rows of each chunk; the others go to ``rejects`` with their reason."""
    for chunk in chunks:
        valid, rejected = split_rejects(chunk)
        if len(rejected):
            rejects.write(rejected)
        if len(valid):
            yield valid
