"""Score a batch chunk by chunk on every core, in memory that does not grow with the batch.

Chunks (Parquet row groups, SQL result chunks) go to forked worker processes
that already hold the model, and come back in input order, so the output is
row for row what one process writes. At most two chunks per worker are in
flight: that, not the batch size, bounds memory.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data.schema import TEXT
from {{ cookiecutter.package_name }}.model.pipeline import known_token_counts

# The unknown-token share is measured on the first OOV_FULL_ROWS rows of a
# batch and on every OOV_SAMPLE_EVERY-th row after them: tokenizing every row
# again in Python would cost a third of the prediction time, and a systematic
# sample of 10,000 rows or more estimates the share to a few tenths of a percent.
OOV_FULL_ROWS = 10_000
OOV_SAMPLE_EVERY = 50
IN_FLIGHT_PER_WORKER = 2


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ChunkScores:
    """What scoring one chunk yields: a class index and a confidence per row, and token counts.

    ``margin`` is the top class's probability minus the runner-up's: the
    labelling queue asks for the rows where it is smallest (steps/label_requests.py).
    """

    best: np.ndarray
    confidence: np.ndarray
    oov_known: int
    oov_total: int
    margin: np.ndarray | None = None


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The text column alone, as Python strings (NumPy object dtype).

    The vectorizer iterates its input one text at a time; from pandas' Arrow-backed
    ``str`` dtype, as Parquet reads it, each step builds a new Python string, which
    costs about a tenth of the prediction. The conversion makes them all at once in C.
    """
    return texts_input(frame[TEXT].to_numpy(dtype=object))


def texts_input(texts: Sequence[str] | np.ndarray) -> pd.DataFrame:
    """Python strings as the one-column frame the model takes (``dtype=object`` keeps them so)."""
    return pd.DataFrame({TEXT: texts}, dtype=object)


def top_class(model: Any, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The index in ``model.classes_`` of each row's most probable class, and its probability."""
    return _top_class(model, model_input(frame))


def _top_class(model: Any, model_frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    probabilities = model.predict_proba(model_frame)
    best = probabilities.argmax(axis=1)
    return best, probabilities[np.arange(len(model_frame)), best]


def predict_texts(model: Any, texts: Sequence[str]) -> tuple[list[str], list[float]]:
    """Each text's predicted label and confidence, with no frame but the model's input."""
    labels, confidence, _ = predict_texts_with_probabilities(model, texts)
    return labels, confidence


def predict_texts_with_probabilities(
    model: Any, texts: Sequence[str]
) -> tuple[list[str], list[float], np.ndarray]:
    """``predict_texts``, and the probability of every class of ``model.classes_`` per text."""
    from sklearn import config_context

    # A fitted model's parameters were checked when it was fitted, and TF-IDF
    # features are finite: checking both again took a tenth of a one-text request.
    with config_context(skip_parameter_validation=True, assume_finite=True):
        probabilities = model.predict_proba(texts_input(texts))
    best = probabilities.argmax(axis=1)
    confidence = probabilities[np.arange(len(texts)), best]
    labels = np.asarray(model.classes_)[best].astype(str)
    return labels.tolist(), confidence.tolist(), probabilities


def oov_sample(offset: int, rows: int) -> np.ndarray:
    """Which rows of a chunk starting at batch row ``offset`` count towards the OOV share."""
    position = np.arange(offset, offset + rows)
    return (position < OOV_FULL_ROWS) | (position % OOV_SAMPLE_EVERY == 0)


def score_chunk(model: Any, chunk: pd.DataFrame, sampled: np.ndarray) -> ChunkScores:
    """Predict every row; count known and total tokens of the ``sampled`` ones."""
    probabilities = model.predict_proba(model_input(chunk))
    best = probabilities.argmax(axis=1)
    confidence = probabilities[np.arange(len(chunk)), best]
    runner_up = np.partition(probabilities, -2, axis=1)[:, -2]
    known, total = known_token_counts(model, chunk[TEXT][sampled])
    return ChunkScores(best, confidence, known, total, confidence - runner_up)


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
{%- if cookiecutter.executor == "celery" %}

    Airflow's Celery executor forks each task from a process of Celery's pool,
    and the task keeps that process's daemon flag, which multiprocessing reads
    as "no children allowed". The task is no multiprocessing daemon of anyone,
    and its workers exit with it (``_exit_with_parent``), so the flag goes.
{%- else %}

    An executor that forks each task from a process of its own worker pool
    leaves the task that process's daemon flag, which multiprocessing reads
    as "no children allowed". The task is no multiprocessing daemon of anyone,
    and its workers exit with it (``_exit_with_parent``), so the flag goes.
{%- endif %}
    """
    process = multiprocessing.current_process()
    if process.daemon:
        process.daemon = False


def score_chunks(
    model: Any, chunks: Iterable[pd.DataFrame], workers: int, offset: int = 0
) -> Iterator[tuple[pd.DataFrame, ChunkScores]]:
    """Each chunk with its scores, in input order.

    A batch of one chunk, or ``workers=1``, is scored in this process: forking
    pays off only when there is a second chunk to overlap with the first.
    ``offset`` is the batch row of the first chunk's first row: a shard of a
    batch samples the same rows for the unknown-token share as the whole batch.
    """
    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None)
    if second is None or workers <= 1:
        for chunk in _chain(first, second, chunks):
            yield chunk, score_chunk(model, chunk, oov_sample(offset, len(chunk)))
            offset += len(chunk)
        return
    _allow_children()
    # fork: the workers inherit the loaded model instead of unpickling it. On macOS
    # too, where Python defaults to spawn because system frameworks break after a
    # fork: the workers only run NumPy and scikit-learn (the macOS CI job scores so).
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(model, os.getpid())
    ) as pool:
        pending: deque[tuple[pd.DataFrame, Future[ChunkScores]]] = deque()
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
