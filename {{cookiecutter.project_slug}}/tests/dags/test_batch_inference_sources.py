"""The batch DAG on real data, with dag.test(): a hand-written batch in, predictions out.

Every text here is typed in the test; the checks compare the scored rows with
them one by one, so invented rows could not pass. The runs
over several dates are scenarios (`nox -s scenarios`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.orchestration import BATCH_INFERENCE_DAG_ID
from {{ cookiecutter.package_name }}.settings import load_settings
from tests.conftest import parse_dags, run_dag
from tests.dags.typed_rows import BAD, GOOD, TRUTH, configure, inference_metrics, predictions


def write_files_batch(settings, day: str, rows: list[tuple[str, str]]) -> None:
    folder = Path(settings.data.incoming_dir) / f"ds={day}"
    folder.mkdir(parents=True, exist_ok=True)
    half = len(rows) // 2
    pd.DataFrame(rows[:half], columns=["id", "text"]).to_csv(folder / "1-morning.csv", index=False)
    pd.DataFrame(rows[half:], columns=["id", "text"]).to_json(
        folder / "2-evening.jsonl", orient="records", lines=True
    )


@pytest.mark.scenario
def test_files_batch_is_scored_delivered_and_judged_once_labels_arrive(
    airflow_db, champion_store, monkeypatch
):
    configure(monkeypatch, "files")
    settings = load_settings()
    dag = parse_dags()[BATCH_INFERENCE_DAG_ID]
    rows = [*GOOD.items(), *((i, t) for i, t, _ in BAD)]
    write_files_batch(settings, "2026-09-01", rows)

    run_dag(dag, "2026-09-01")

    scored = predictions(settings, "2026-09-01").set_index("id")
    assert scored["text"].to_dict() == GOOD  # exactly the typed rows, nothing invented
    partition = storage.partition_dir(settings.data.data_dir, storage.BATCHES, "2026-09-01")
    rejects = pd.read_parquet(partition / storage.REJECTS_FILE)
    assert sorted(zip(rejects["id"], rejects["reason"], strict=True)) == sorted(
        (i, reason) for i, _, reason in BAD
    )
    delivered = pd.read_parquet(
        Path(settings.data.outgoing_dir) / "ds=2026-09-01" / storage.PREDICTIONS_FILE
    )
    assert sorted(delivered["id"]) == sorted(GOOD)
    assert {"prediction", "confidence", "model_version", "logical_date", "run_id"} <= set(
        delivered.columns
    )
    metrics = inference_metrics(settings, "2026-09-01")
    assert "accuracy" not in metrics and metrics["quarantined_rows"] == len(BAD)

    # Labels arrive later, in a file of their own; the next day's run scores the earlier day.
    feedback = Path(settings.data.feedback_dir)
    feedback.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(TRUTH.items(), columns=["id", "sentiment"]).to_csv(
        feedback / "labels-from-support.csv", index=False
    )
    write_files_batch(settings, "2026-09-02", [("n-1", "Good value"), ("n-2", "Too loud")])
    run_dag(dag, "2026-09-02")

    expected = (scored.loc[list(TRUTH), "prediction"] == pd.Series(TRUTH)).mean()
    metrics = inference_metrics(settings, "2026-09-01")
    assert metrics["accuracy"] == pytest.approx(expected)
    assert metrics["labeled_rows"] == 4

    # A rerun of a date after its files changed replaces every output of that date.
    (Path(settings.data.incoming_dir) / "ds=2026-09-02" / "2-evening.jsonl").unlink()
    run_dag(dag, "2026-09-02")
    assert list(predictions(settings, "2026-09-02")["id"]) == ["n-1"]
    delivered = pd.read_parquet(
        Path(settings.data.outgoing_dir) / "ds=2026-09-02" / storage.PREDICTIONS_FILE
    )
    assert list(delivered["id"]) == ["n-1"]


# Plain verdicts and mixed ones, so the model is surer of some than of others.
QUEUE = {
    "q-01": ("Works perfectly, I love it", "positive"),
    "q-02": ("Broke after two days, a waste of money", "negative"),
    "q-03": ("The staff was friendly and helpful", "positive"),
    "q-04": ("Arrived damaged and support was rude", "negative"),
    "q-05": ("Not bad at all, but the battery is terrible", "negative"),
    "q-06": ("Great value, though the manual is awful", "positive"),
    "q-07": ("It is fine I guess", "positive"),
    "q-08": ("The screen looks beautiful and fast", "positive"),
    "q-09": ("Stopped working, never again", "negative"),
    "q-10": ("The packaging was okay and the jacket was okay", "negative"),
    "q-11": ("Exceeded my expectations", "positive"),
    "q-12": ("Overpriced and feels cheap", "negative"),
}


def test_files_run_requests_labels_and_monitoring_scores_the_random_part_alone(
    airflow_db, champion_store, monkeypatch
):
    from {{ cookiecutter.package_name }}.monitoring.live_accuracy import wilson_interval
    from {{ cookiecutter.package_name }}.steps.label_requests import request_labels
    from {{ cookiecutter.package_name }}.steps.monitoring import monitor

    configure(monkeypatch, "files", LABEL_REQUESTS_PER_DAY="8", LABEL_RANDOM_SHARE="0.5")
    settings = load_settings()
    day = "2026-09-20"
    write_files_batch(settings, day, [(key, text) for key, (text, _) in QUEUE.items()])

    run_dag(parse_dags()[BATCH_INFERENCE_DAG_ID], day)

    path = Path(settings.data.outgoing_dir) / f"ds={day}" / storage.LABEL_REQUESTS_FILE
    requests = pd.read_csv(path, dtype=str)
    assert list(requests.columns) == ["ds", "id", "text", "prediction", "confidence", "reason"]
    assert len(requests) == 8 and set(requests["ds"]) == {day}
    assert requests["reason"].value_counts().to_dict() == {"uncertain": 4, "random": 4}
    assert requests.set_index("id")["text"].to_dict() == {i: QUEUE[i][0] for i in requests["id"]}
    scored = predictions(settings, day)
    drawn = requests.loc[requests["reason"] == "random", "id"]
    least = scored[~scored["id"].isin(drawn)].nsmallest(4, "margin")["id"]
    assert set(requests.loc[requests["reason"] == "uncertain", "id"]) == set(least)
    # The same date, the same requests: a rerun writes the file byte for byte.
    before = path.read_bytes()
    request_labels(settings, day)
    assert path.read_bytes() == before

    # The team labels the requested rows, with their ds; monitoring judges the random part.
    feedback = Path(settings.data.feedback_dir)
    feedback.mkdir(parents=True, exist_ok=True)
    answered = requests.assign(sentiment=[QUEUE[i][1] for i in requests["id"]])
    answered[["ds", "id", "sentiment"]].to_csv(feedback / "answers.csv", index=False)
    result = monitor(settings, day)

    correct = answered["prediction"] == answered["sentiment"]
    random = answered["reason"] == "random"
    metrics = inference_metrics(settings, day)
    assert metrics["accuracy_unbiased"] == pytest.approx(correct[random].mean())
    low, high = wilson_interval(int(correct[random].sum()), 4)
    assert metrics["accuracy_unbiased_ci_low"] == pytest.approx(low)
    assert metrics["accuracy_unbiased_ci_high"] == pytest.approx(high)
    assert metrics["accuracy_all_labels_biased"] == pytest.approx(correct.mean())
    assert metrics["label_coverage"] == 1.0 and metrics["label_requests_random_answered"] == 4
    assert result["metrics"]["accuracy_unbiased"] == metrics["accuracy_unbiased"]
    assert result["metrics"]["labeled_accuracy"] == metrics["accuracy_unbiased"]


def test_no_batch_fails_the_run_naming_the_folder_it_watched(
    airflow_db, champion_store, monkeypatch, capsys, caplog
):
    # Two looks a second apart, then the sensor's own timeout.
    configure(monkeypatch, "files", BATCH_WAIT_SECONDS="1")
    dag = parse_dags()[BATCH_INFERENCE_DAG_ID]

    dag_run = dag.test(logical_date=datetime.fromisoformat("2026-09-05T00:00:00+00:00"))

    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "failed" and states["extract_batch"] == "failed"
    assert states["batch_predict"] == "upstream_failed"
    captured = capsys.readouterr()
    logged = captured.out + captured.err + caplog.text
    folder = Path(load_settings().data.incoming_dir) / "ds=2026-09-05"
    assert f"no batch arrived at {folder}" in logged
