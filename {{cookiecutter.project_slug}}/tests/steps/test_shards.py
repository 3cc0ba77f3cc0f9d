"""Sharded batch inference: the plan, shards scored apart, the merge, and what a failure leaves."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import storage
{%- if cookiecutter.data_source == "demo" %}
from {{ cookiecutter.package_name }}.data import synthetic as data
{%- endif %}
from {{ cookiecutter.package_name }}.data.schema import TEXT
from {{ cookiecutter.package_name }}.errors import DataValidationError, PipelineError
from {{ cookiecutter.package_name }}.settings import PACKAGE_NAME
from {{ cookiecutter.package_name }}.steps import inference, shards
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect
{%- if cookiecutter.data_source != "demo" %}
from tests import synthetic as data
{%- endif %}
from tests.conftest import write_batch

DAY = "2026-04-04"
ROWS = 240
TIMINGS = {"model_load_seconds", "scoring_seconds", "shards"}


@pytest.fixture
def batch(session_settings, champion) -> pd.DataFrame:
    rows = data.synthesize_reviews(DAY, ROWS)[["id", TEXT]]
    write_batch(session_settings, DAY, rows)
    return rows


def in_shards_of(settings, rows: int):
    # Small chunks, so that every shard is scored on the worker pool.
    return settings.with_overrides(shard_rows=rows, inference_chunk_rows=25)


def partition(settings):
    return storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, DAY)


def logged_run(settings):
    client = connect(settings)
    experiment = client.get_experiment_by_name(settings.inference_experiment)
    [run] = client.search_runs([experiment.experiment_id], f"tags.logical_date = '{DAY}'")
    return run


def test_four_shards_score_bit_for_bit_what_one_does(session_settings, batch):
    four = inference.batch_predict(in_shards_of(session_settings, 60), DAY)
    sharded = storage.read_parts(four["path"])
    sharded_run = logged_run(session_settings)
    assert [part.name for part in storage.part_files(partition(session_settings))] == [
        f"part-0000{index}.parquet" for index in range(4)
    ]

    one = inference.batch_predict(in_shards_of(session_settings, ROWS), DAY)
    whole = storage.read_parts(one["path"])
    whole_run = logged_run(session_settings)

    assert (four["shards"], one["shards"]) == (4, 1)
    assert list(whole["id"]) == list(batch["id"])
    pd.testing.assert_frame_equal(sharded, whole, check_exact=True)
    assert sharded["confidence"].to_numpy().tobytes() == whole["confidence"].to_numpy().tobytes()
    # One run per date, with the same figures to the last bit and the same dataset digest.
    figures = {key: value for key, value in whole_run.data.metrics.items() if key not in TIMINGS}
    assert figures["prediction_count"] == ROWS
    assert {k: v for k, v in sharded_run.data.metrics.items() if k not in TIMINGS} == figures
    assert sharded_run.inputs.dataset_inputs[0].dataset.digest == (
        whole_run.inputs.dataset_inputs[0].dataset.digest
    )
    # The rerun in one shard left no part, rejects or counts of the four behind.
    assert sorted(path.name for path in partition(session_settings).iterdir()) == [
        "part-00000.parquet",
        "plan.json",
        "stats-00000.json",
    ]
    assert not storage.stale_staging_dirs(partition(session_settings))


def test_a_failed_shard_retries_alone_and_nothing_moves_until_every_shard_is_in(
    session_settings, batch
):
    before = storage.read_parts(
        inference.batch_predict(in_shards_of(session_settings, ROWS), DAY)["path"]
    )
    settings = in_shards_of(session_settings, 60)
    plan = inference.plan_shards(settings, DAY)
    results = [shards.predict_shard(settings, shard) for shard in plan[:3]]

    # Shard 4 failed: the merge refuses, and the day's predictions stay whole.
    with pytest.raises(PipelineError, match=r"shard 4 of 4 .* did not finish"):
        inference.merge_shards(settings, results)
    pd.testing.assert_frame_equal(storage.read_parts(partition(settings)), before)

    # Its retry, and a second try of a finished shard, rewrite only their own parts.
    results.append(shards.predict_shard(settings, plan[3]))
    results[1] = shards.predict_shard(settings, plan[1])
    merged = inference.merge_shards(settings, results)
    assert (merged["rows"], merged["shards"]) == (ROWS, 4)
    pd.testing.assert_frame_equal(storage.read_parts(partition(settings)), before)
    # A merge retried after its parts went in place finds them there.
    assert inference.merge_shards(settings, results)["run_id"]

    # A shard of a run that a later run replaced says so, and writes nothing.
    inference.plan_shards(settings, DAY)
    with pytest.raises(PipelineError, match="clear the whole DAG run"):
        shards.predict_shard(settings, plan[0])


def test_the_merge_counts_every_row_and_a_changed_snapshot_stops_its_shards(
    session_settings, batch
):
    settings = in_shards_of(session_settings, 120)
    plan = inference.plan_shards(settings, DAY)
    results = [shards.predict_shard(settings, shard) for shard in plan]
    staging = storage.staging_dir(partition(settings), plan[0]["token"])
    counts = staging / "stats-00001.json"
    saved = storage.read_json(counts)
    saved["stats"]["rows"] -= 1
    storage.write_json(saved, counts)
    with pytest.raises(PipelineError, match=f"account for {ROWS - 1} of the snapshot's {ROWS}"):
        inference.merge_shards(settings, results)

    write_batch(session_settings, DAY, batch.iloc[:-1])
    (staging / "part-00000.parquet").unlink()
    with pytest.raises(DataValidationError, match="changed after the plan"):
        shards.predict_shard(settings, plan[0])
    assert not (staging / "part-00000.parquet").exists()


def test_the_challenger_scores_in_the_shadow_and_its_failure_spares_the_day(
    session_settings, batch
):
    settings = session_settings.with_overrides(shard_rows=ROWS // 2)
    plan = inference.plan_shards(settings, DAY)
    champion = plan[0]["model"]
    # The champion stands in for a challenger on shard 1 (so every row agrees);
    # on shard 2 the challenger is a version the registry does not have.
    plan[0]["shadow"] = champion
    plan[1]["shadow"] = {**champion, "version": "999"}

    results = [shards.predict_shard(settings, shard) for shard in plan]
    merged = inference.merge_shards(settings, results)

    assert merged["rows"] == ROWS
    metrics = merged["metrics"]
    assert (metrics["shadow_rows"], metrics["shadow_failed_shards"]) == (ROWS // 2, 1)
    assert metrics["shadow_agreement"] == 1.0
    # Why, in one line, in the failed shard's counts.
    failed = storage.read_json(partition(settings) / "stats-00001.json")["shadow"]["error"]
    assert failed.startswith("MlflowException: ") and "\n" not in failed
    assert logged_run(settings).data.tags["shadow_version"] == champion["version"]
    published = storage.read_parts(partition(settings))
    shadowed = storage.read_parts(partition(settings), prefix=storage.SHADOW_PREFIX)
    assert list(shadowed.columns) == ["id", "prediction", "confidence", "model_version"]
    pd.testing.assert_frame_equal(
        shadowed[["id", "prediction"]], published.iloc[: ROWS // 2][["id", "prediction"]]
    )


# A fresh process, as an Airflow task is: with the pinned version in this
# host's cache, a shard imports neither MLflow nor skops (the registry's loader).
FRESH_TASK = """
import json, sys
from PACKAGE.settings import load_settings
from PACKAGE.steps.shards import predict_shard
rows = predict_shard(load_settings(), json.loads(sys.argv[1]))["rows"]
print(json.dumps({"rows": rows, "loaded": sorted({name.split(".")[0] for name in sys.modules})}))
""".replace("PACKAGE", PACKAGE_NAME)


def test_a_shard_task_on_a_host_with_the_model_cached_needs_neither_mlflow_nor_skops(
    session_settings, batch
):
    # The first load of the champion on this host fills its model cache.
    inference.batch_predict(session_settings, DAY)
    [shard] = inference.plan_shards(session_settings, DAY)
    done = subprocess.run(
        [sys.executable, "-c", FRESH_TASK, json.dumps(shard)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "model cache" not in done.stderr
    task = json.loads(done.stdout.splitlines()[-1])
    assert task["rows"] == ROWS
    assert {"mlflow", "skops"}.isdisjoint(task["loaded"]) and "sklearn" in task["loaded"]
    # Its part holds what the registry's own copy of the model, loaded with skops, predicts.
    registry_copy = registry.load_champion(session_settings.with_overrides(model_cache_dir=""))
    staging = storage.staging_dir(partition(session_settings), shard["token"])
    scored = pd.read_parquet(staging / storage.part_name(storage.PART_PREFIX, 0))
    expected = registry_copy.model.predict_proba(batch[[TEXT]]).max(axis=1)
    assert np.allclose(scored["confidence"], expected)
