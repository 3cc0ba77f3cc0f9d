"""Score a batch chunk by chunk on every core, in memory that does not grow with the batch.

Chunks (Parquet row groups, SQL result chunks) go to forked worker processes
that already hold the model, and come back in input order, so the output is
row for row what one process writes. At most two chunks per worker are in
flight: that, not the batch size, bounds memory.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data import TEXT
from {{ cookiecutter.package_name }}.drift import CONFIDENCE_BINS, confidence_counts, normalized, oov_counts
from {{ cookiecutter.package_name }}.settings import LABELS

# The unknown-token share is measured on the first OOV_FULL_ROWS rows of a
# batch and on every OOV_SAMPLE_EVERY-th row after them: tokenizing every row
# again in Python would cost a third of the prediction time, and a systematic
# sample of 10,000 rows or more estimates the share to a few tenths of a percent.
OOV_FULL_ROWS = 10_000
OOV_SAMPLE_EVERY = 50
IN_FLIGHT_PER_WORKER = 2
# MLflow's own digest of a pandas dataset hashes this many rows.
DIGEST_HEAD_ROWS = 10_000


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ChunkScores:
    """What scoring one chunk yields: a class index and a confidence per row, and token counts."""

    best: np.ndarray
    confidence: np.ndarray
    oov_known: int
    oov_total: int


def top_class(model: Any, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The index in ``model.classes_`` of each row's most probable class, and its probability."""
    probabilities = model.predict_proba(frame[[TEXT]])
    best = probabilities.argmax(axis=1)
    return best, probabilities[np.arange(len(frame)), best]


def oov_sample(offset: int, rows: int) -> np.ndarray:
    """Which rows of a chunk starting at batch row ``offset`` count towards the OOV share."""
    position = np.arange(offset, offset + rows)
    return (position < OOV_FULL_ROWS) | (position % OOV_SAMPLE_EVERY == 0)


def score_chunk(model: Any, chunk: pd.DataFrame, sampled: np.ndarray) -> ChunkScores:
    """Predict every row; count known and total tokens of the ``sampled`` ones."""
    best, confidence = top_class(model, chunk)
    known, total = oov_counts(model, chunk[TEXT][sampled])
    return ChunkScores(best, confidence, known, total)


class BatchDigest:
    """A batch's content digest, taken chunk by chunk, the way MLflow digests a DataFrame.

    Like ``mlflow.data.from_pandas`` (``mlflow.data.digest_utils``), it hashes
    the first ``head_rows`` rows, the row count and the column names: the
    same for any chunking, and without hashing every row of a large batch.
    """

    def __init__(self, head_rows: int = DIGEST_HEAD_ROWS) -> None:
        self.head_rows = head_rows
        self.rows = 0
        self.columns: list[str] = []
        self._head = hashlib.sha256()

    def add(self, chunk: pd.DataFrame) -> None:
        wanted = self.head_rows - self.rows
        if wanted > 0:
            head = pd.util.hash_pandas_object(chunk.iloc[:wanted], index=False)
            self._head.update(head.to_numpy().tobytes())
        self.rows += len(chunk)
        self.columns = [str(column) for column in chunk.columns]

    def hexdigest(self) -> str:
        digest = self._head.copy()
        digest.update(json.dumps([self.rows, self.columns]).encode())
        return digest.hexdigest()[:16]


@dataclass
class BatchStats:
    """Counts over every scored row, added chunk by chunk, from which the run's metrics come."""

    classes: list[str]
    low_threshold: float
    high_threshold: float
    rows: int = 0
    confidence_sum: float = 0.0
    low_confidence: int = 0
    high_confidence: int = 0
    class_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABELS, 0))
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(len(CONFIDENCE_BINS) - 1))
    oov_known: int = 0
    oov_total: int = 0

    def add(self, scores: ChunkScores) -> None:
        confidence = scores.confidence
        self.rows += len(confidence)
        self.confidence_sum += float(confidence.sum())
        self.low_confidence += int((confidence < self.low_threshold).sum())
        self.high_confidence += int((confidence >= self.high_threshold).sum())
        counts = np.bincount(scores.best, minlength=len(self.classes))
        for label, count in zip(self.classes, counts.tolist(), strict=True):
            self.class_counts[label] = self.class_counts.get(label, 0) + count
        self.histogram += confidence_counts(confidence)
        self.oov_known += scores.oov_known
        self.oov_total += scores.oov_total

    @property
    def average_confidence(self) -> float:
        return self.confidence_sum / self.rows if self.rows else 0.0

    @property
    def oov_rate(self) -> float:
        return 1.0 - self.oov_known / self.oov_total if self.oov_total else 0.0

    def confidence_histogram(self) -> list[float]:
        return normalized(self.histogram)

    def class_shares(self) -> dict[str, float]:
        return {
            label: self.class_counts[label] / self.rows if self.rows else 0.0 for label in LABELS
        }

    def metrics(self) -> dict[str, float]:
        def share(part: int) -> float:
            return 100.0 * part / self.rows if self.rows else 0.0

        metrics = {
            "prediction_count": float(self.rows),
            "average_confidence": self.average_confidence,
            "low_confidence_predictions": float(self.low_confidence),
            "high_confidence_predictions": float(self.high_confidence),
            "low_confidence_percentage": share(self.low_confidence),
        }
        for label in LABELS:
            metrics[f"predictions_{label}"] = float(self.class_counts[label])
            metrics[f"predictions_{label}_percentage"] = share(self.class_counts[label])
        return metrics


# The model of a worker process, inherited from the parent by fork.
_worker_model: Any = None


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed (SIGKILL skips every cleanup) exits too."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init_worker(model: Any, parent: int) -> None:
    global _worker_model
    _worker_model = model
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _score_in_worker(chunk: pd.DataFrame, sampled: np.ndarray) -> ChunkScores:
    return score_chunk(_worker_model, chunk, sampled)


def _allow_children() -> None:
    """Let a task process that inherited a daemon flag start the worker pool.

    Airflow's Celery executor forks each task from a process of Celery's pool,
    and the task keeps that process's daemon flag, which multiprocessing reads
    as "no children allowed". The task is no multiprocessing daemon of anyone,
    and its workers exit with it (``_exit_with_parent``), so the flag goes.
    """
    process = multiprocessing.current_process()
    if process.daemon:
        process.daemon = False


def score_chunks(
    model: Any, chunks: Iterable[pd.DataFrame], workers: int
) -> Iterator[tuple[pd.DataFrame, ChunkScores]]:
    """Each chunk with its scores, in input order.

    A batch of one chunk, or ``workers=1``, is scored in this process: forking
    pays off only when there is a second chunk to overlap with the first.
    """
    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None)
    if second is None or workers <= 1:
        offset = 0
        for chunk in _chain(first, second, chunks):
            yield chunk, score_chunk(model, chunk, oov_sample(offset, len(chunk)))
            offset += len(chunk)
        return
    _allow_children()
    # fork: the workers inherit the loaded model instead of unpickling it.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(model, os.getpid())
    ) as pool:
        pending: deque[tuple[pd.DataFrame, Future[ChunkScores]]] = deque()
        offset = 0
        for chunk in _chain(first, second, chunks):
            sampled = oov_sample(offset, len(chunk))
            # Workers need the text only: the other columns need not be pickled.
            future = pool.submit(_score_in_worker, chunk[[TEXT]], sampled)
            pending.append((chunk, future))
            offset += len(chunk)
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                chunk, future = pending.popleft()
                yield chunk, future.result()
        while pending:
            chunk, future = pending.popleft()
            yield chunk, future.result()


def _chain(first: pd.DataFrame, second: pd.DataFrame | None, rest: Iterator) -> Iterator:
    yield first
    if second is not None:
        yield second
        yield from rest
