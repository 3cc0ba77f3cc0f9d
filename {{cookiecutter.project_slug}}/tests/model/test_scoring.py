"""Chunked and parallel scoring give, row for row, what one process gives."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import psutil
import pytest

from {{ cookiecutter.package_name }}.data import storage
{%- if cookiecutter.data_source == "demo" %}
from {{ cookiecutter.package_name }}.data import synthetic as data
{%- endif %}
from {{ cookiecutter.package_name }}.data.digest import BatchDigest
from {{ cookiecutter.package_name }}.data.schema import LABEL, TEXT
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.model import scoring
from {{ cookiecutter.package_name }}.model.pipeline import build_pipeline, fit, known_token_counts
from {{ cookiecutter.package_name }}.model.scoring import score_chunks, top_class
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.steps import inference
from tests import conftest
{%- if cookiecutter.data_source != "demo" %}
from tests import synthetic as data
{%- endif %}


@pytest.fixture(scope="module")
def model():
    reviews = data.synthesize_reviews("2026-03-01", 400)
    return fit(build_pipeline(load_settings().model), reviews[[TEXT]], reviews[LABEL])


@pytest.fixture(scope="module")
def reviews():
    return data.synthesize_reviews("2026-03-02", 103)[["id", TEXT]]


def chunks_of(frame: pd.DataFrame, rows: int) -> list[pd.DataFrame]:
    return [frame.iloc[start : start + rows] for start in range(0, len(frame), rows)]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_chunked_parallel_scores_equal_single_process(model, reviews, workers):
    expected_labels, expected_confidence = top_class(model, reviews)

    # 103 rows in chunks of 10: the last chunk has 3.
    scored = list(score_chunks(model, chunks_of(reviews, 10), workers))

    assert [len(chunk) for chunk, _ in scored] == [10] * 10 + [3]
    pd.testing.assert_frame_equal(pd.concat([chunk for chunk, _ in scored]), reviews)
    labels = np.concatenate([scores.best for _, scores in scored])
    confidence = np.concatenate([scores.confidence for _, scores in scored])
    assert np.array_equal(labels, expected_labels)
    assert np.array_equal(confidence, expected_confidence)  # bit for bit, not approximately
    known = sum(scores.oov_known for _, scores in scored)
    total = sum(scores.oov_total for _, scores in scored)
    assert (known, total) == known_token_counts(model, reviews[TEXT])


def test_the_model_gets_python_strings_and_scores_as_from_arrow(model, reviews):
    arrow = reviews.astype({TEXT: "str"})
    text = scoring.model_input(arrow)
    assert text.columns.tolist() == [TEXT] and text[TEXT].dtype == object
    assert text[TEXT].tolist() == arrow[TEXT].tolist()
    probabilities = model.predict_proba(arrow[[TEXT]])
    best, confidence = top_class(model, arrow)
    assert np.array_equal(best, probabilities.argmax(axis=1))
    # bit for bit: the input's dtype changes the speed, not one probability
    assert np.array_equal(confidence, probabilities.max(axis=1))


def test_a_list_of_texts_scores_as_the_same_rows_of_a_batch(model, reviews):
    labels, confidence = scoring.predict_texts(model, reviews[TEXT].tolist())
    best, expected = top_class(model, reviews.astype({TEXT: "str"}))
    assert labels == np.asarray(model.classes_)[best].tolist()
    assert all(type(label) is str for label in labels)  # JSON-ready, not NumPy scalars
    assert confidence == expected.tolist()


def _score_in_daemon(model, chunks, results) -> None:
    scored = scoring.score_chunks(model, chunks, workers=2)
    results.put(np.concatenate([scores.confidence for _, scores in scored]))


def test_the_digest_does_not_depend_on_the_chunking(reviews):
    whole = BatchDigest(head_rows=25)
    whole.add(reviews)
    for rows in (1, 10, 24, 25, 26, 103):
        chunked = BatchDigest(head_rows=25)
        for chunk in chunks_of(reviews, rows):
            chunked.add(chunk)
        assert chunked.hexdigest() == whole.hexdigest(), rows
    # The head rows, the row count and the columns each change it.
    for changed in (
        reviews.assign(**{TEXT: reviews[TEXT].where(reviews.index != 24, "edited")}),
        reviews.iloc[:-1],
        reviews.rename(columns={"id": "review_id"}),
    ):
        other = BatchDigest(head_rows=25)
        other.add(changed)
        assert other.hexdigest() != whole.hexdigest()


def test_digests_of_shards_merge_into_the_whole_batch_digest(reviews):
    whole = BatchDigest(head_rows=25)
    whole.add(reviews)
    for cuts in ([10], [24, 25, 26], [3, 60, 90]):
        bounds = [0, *cuts, len(reviews)]
        merged = None
        for start, stop in itertools.pairwise(bounds):
            shard = BatchDigest(head_rows=25)
            for chunk in chunks_of(reviews.iloc[start:stop], 7):
                shard.add(chunk)
            shard = BatchDigest.from_dict(json.loads(json.dumps(shard.to_dict())))
            merged = shard if merged is None else merged.merge(shard)
        assert merged.hexdigest() == whole.hexdigest(), cuts


def test_a_daemonic_task_process_still_scores_on_workers(model, reviews):
{%- if cookiecutter.executor == "celery" %}
    """A Celery-run task inherits its pool process's daemon flag; the pool must still start."""
{%- else %}
    """A task forked from a pool process inherits its daemon flag; the pool must still start."""
{%- endif %}
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    task = context.Process(
        target=_score_in_daemon, args=(model, chunks_of(reviews, 10), results), daemon=True
    )
    task.start()
    task.join(timeout=120)  # the result is small: the queue does not hold up the exit
    assert task.exitcode == 0, "scoring failed in the daemonic process (see its traceback above)"
    assert np.array_equal(results.get(timeout=10), top_class(model, reviews)[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_an_empty_stream_scores_nothing(model, workers):
    assert list(score_chunks(model, [], workers)) == []


def test_orphaned_workers_exit_when_the_parent_is_killed(tmp_path):
    """SIGKILL (the OOM killer, a lost{% if cookiecutter.executor == "celery" %} Celery{% endif %} worker) runs no cleanup: workers must notice."""
    pids = tmp_path / "pids"
    script = textwrap.dedent(
        """
        import os, sys, time
        import pandas as pd
        from {{ cookiecutter.package_name }}.model import scoring

        class Slow:
            classes_ = ["negative", "positive"]
            def predict_proba(self, frame):
                with open(sys.argv[1], "a") as out:
                    out.write(str(os.getpid()) + "\\n")
                time.sleep(60)

        chunks = [pd.DataFrame(dict(text=["a"]))] * 4
        list(scoring.score_chunks(Slow(), chunks, workers=2))
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(pids)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_lines(pids)) < 2:
            time.sleep(0.2)
        workers = [int(pid) for pid in _lines(pids)]
        assert len(workers) == 2, "the workers never started"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if _alive(pid)]


def _lines(path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        # A zombie has exited: it only waits for its new parent to reap it.
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def write_batch(session_settings):
    def write(day: str, batch: pd.DataFrame) -> None:
        conftest.write_batch(session_settings, day, batch)

    return write


def test_batch_predict_chunked_parallel_equals_one_chunk(session_settings, champion, write_batch):
    day = "2026-03-03"
    batch = data.synthesize_reviews(day, 95)[["id", TEXT]]
    batch.loc[[0, 41, 94], TEXT] = ["", None, "  "]  # rejects in the first and last chunk
    write_batch(day, batch)

    one = inference.batch_predict(
        session_settings.with_overrides(inference_chunk_rows=1000, inference_workers=1),
        day,
    )
    expected = storage.read_parts(one["path"])
    partition = storage.partition_dir(session_settings.data.data_dir, storage.PREDICTIONS, day)
    expected_rejects = pd.read_parquet(partition / "rejects-00000.parquet")
    chunked = inference.batch_predict(
        session_settings.with_overrides(inference_chunk_rows=10, inference_workers=2),
        day,
    )

    pd.testing.assert_frame_equal(storage.read_parts(chunked["path"]), expected)
    pd.testing.assert_frame_equal(
        pd.read_parquet(partition / "rejects-00000.parquet"), expected_rejects
    )
    assert list(expected_rejects["id"]) == list(batch["id"].iloc[[0, 41, 94]])
    assert (chunked["rows"], chunked["rejected_rows"]) == (92, 3)
    timings = {"model_load_seconds", "scoring_seconds"}
    assert timings <= set(chunked["metrics"])
    counted = {key: value for key, value in chunked["metrics"].items() if key not in timings}
    assert counted == pytest.approx({key: one["metrics"][key] for key in counted})


def test_a_batch_without_rows_writes_nothing(session_settings, champion, write_batch):
    day = "2026-03-04"
    write_batch(day, pd.DataFrame({"id": pd.Series(dtype=str), TEXT: pd.Series(dtype=str)}))

    with pytest.raises(DataValidationError, match="no row with text"):
        inference.batch_predict(session_settings, day)

    partition = storage.partition_dir(session_settings.data.data_dir, storage.PREDICTIONS, day)
    assert not partition.exists() or not list(partition.iterdir())
