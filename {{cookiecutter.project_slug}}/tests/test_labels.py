"""The label set the project was generated with, end to end: K classes in, K classes out.

The suite's other tests run two-class data (the bundled and the invented
reviews) under their labels, negative,positive. These put the `labels` setting
back to the generated default, or to three labels when that default is those
two, and train on hand-written rows whose words tell the classes apart.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)

from {{ cookiecutter.package_name }} import cli
{%- if cookiecutter.data_source == "warehouse" %}
from {{ cookiecutter.package_name }}.data import storage
{%- endif %}
from {{ cookiecutter.package_name }}.errors import SettingsError
from {{ cookiecutter.package_name }}.model.evaluation import evaluation_report
from {{ cookiecutter.package_name }}.model.pipeline import build_pipeline, fit
from {{ cookiecutter.package_name }}.monitoring.statistics import BatchStats, batch_drift, build_profile
from {{ cookiecutter.package_name }}.orchestration import BATCH_INFERENCE_DAG_ID
{%- if cookiecutter.serving == "http" %}
from {{ cookiecutter.package_name }}.serving.app import create_app
{%- endif %}
from {{ cookiecutter.package_name }}.settings import (
    DEFAULT_LABELS,
    ENV_PREFIX,
    SAMPLE_LABELS,
    load_settings,
)
from {{ cookiecutter.package_name }}.steps.training import run_training
from {{ cookiecutter.package_name }}.tracking import runs
from {{ cookiecutter.package_name }}.tracking.client import connect
{%- if cookiecutter.data_source == "warehouse" %}
from tests.conftest import append_rows, delivered_predictions, parse_dags, run_dag
{%- else %}
from tests.conftest import delivered_predictions, parse_dags, run_dag
{%- endif %}
from tests.dags.typed_rows import configure
{%- if cookiecutter.serving == "http" %}
from tests.serving.conftest import call, free_port, run_server
{%- endif %}

LABEL_SET = (
    DEFAULT_LABELS if DEFAULT_LABELS != SAMPLE_LABELS else ("negative", "neutral", "positive")
)
# Words that mark a class, by its position in the label set.
WORDS = [
    ["awful", "broken", "useless", "horrible", "disaster", "faulty"],
    ["average", "acceptable", "ordinary", "adequate", "middling", "passable"],
    ["wonderful", "perfect", "delightful", "superb", "brilliant", "flawless"],
    ["sturdy", "reliable", "durable", "dependable", "solid", "robust"],
    ["bargain", "affordable", "discounted", "budget", "inexpensive", "cheap"],
]
SUBJECTS = ["the blender", "the delivery", "the hotel room", "the app", "the jacket", "the battery"]


def words_of(position: int) -> list[str]:
    if position < len(WORDS):
        return WORDS[position]
    return [f"{LABEL_SET[position]}{n}" for n in "abcdef"]  # past five classes: made-up words


def reviews(per_class: int, seed: int) -> pd.DataFrame:
    """``per_class`` typed-out reviews of each label, shuffled: two marker words each."""
    rng = random.Random(seed)
    rows = []
    for position, label in enumerate(LABEL_SET):
        for _ in range(per_class):
            first, second = rng.sample(words_of(position), 2)
            rows.append((f"{rng.choice(SUBJECTS)} was {first} and {second}", label))
    rng.shuffle(rows)
    return pd.DataFrame(rows, columns=["text", "sentiment"])


@pytest.fixture
def labeled_project(isolated_store, monkeypatch, tmp_path):
{%- if cookiecutter.data_source == "warehouse" %}
    """A warehouse with the label set, and a champion trained on typed-out rows."""
    from {{ cookiecutter.package_name }}.data.sources import source_for

    monkeypatch.setenv(f"{ENV_PREFIX}WAREHOUSE_URL", f"sqlite:///{tmp_path / 'labels.db'}")
    source_for(load_settings()).init()
    append_rows(load_settings(), load_settings().data.training_table, reviews(40, seed=1))
    configure(monkeypatch, "warehouse", LABELS=",".join(LABEL_SET))
{%- else %}
    """The files source with the label set, and a champion trained on typed-out rows."""
    training = tmp_path / "training"
    training.mkdir()
    reviews(40, seed=1).to_csv(training / "reviews.csv", index=False)
    configure(
        monkeypatch, "files", LABELS=",".join(LABEL_SET), TRAINING_FILES=str(training / "*.csv")
    )
{%- endif %}
    settings = load_settings()
    result = run_training(settings, "2026-10-01")
    assert result["promoted"], result["reason"]
    return settings, result


def test_the_label_set_is_a_comma_list_setting_and_bad_ones_fail_in_one_line(monkeypatch, tmp_path):
{%- if cookiecutter.data_source != "warehouse" %}
    monkeypatch.setenv(f"{ENV_PREFIX}DATA_SOURCE", "files")
{%- endif %}
    monkeypatch.setenv(f"{ENV_PREFIX}LABELS", " Bad, ok ,GOOD ")
    assert load_settings().model.labels == ("bad", "ok", "good")
    # A TOML list in the tuned-settings file reads the same, under the environment.
    tuned = tmp_path / "tuned.toml"
    tuned.write_text('[settings]\nlabels = ["1", "2", "3"]\n', encoding="utf-8")
    monkeypatch.setenv(f"{ENV_PREFIX}TUNED_SETTINGS_FILE", str(tuned))
    monkeypatch.delenv(f"{ENV_PREFIX}LABELS")
    assert load_settings().model.labels == ("1", "2", "3")
    bad = ("positive", "good,good", "so so,fine", "bad,,good", ",".join(f"s{n}" for n in range(21)))
    for value in bad:
        monkeypatch.setenv(f"{ENV_PREFIX}LABELS", value)
        with pytest.raises(SettingsError, match=f"{ENV_PREFIX}LABELS=") as caught:
            load_settings()
        assert "\n" not in str(caught.value)
{%- if cookiecutter.data_source == "demo" %}
    # The demo's reviews are two-class: it says what to choose instead.
    monkeypatch.setenv(f"{ENV_PREFIX}LABELS", "bad,ok,good")
    monkeypatch.setenv(f"{ENV_PREFIX}DATA_SOURCE", "demo")
    with pytest.raises(SettingsError, match="the demo knows only the labels"):
        load_settings()
{%- endif %}


def test_a_bad_label_set_stops_a_command_in_one_line(isolated_data, monkeypatch, capsys):
    monkeypatch.setenv(f"{ENV_PREFIX}LABELS", "good")
    assert cli.main(["train"]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1
    assert f"{ENV_PREFIX}LABELS='good'" in captured.err and "Traceback" not in captured.err
{%- if cookiecutter.data_source == "warehouse" %}
    # The sample reviews are two-class: the warehouse is not filled with them.
    monkeypatch.setenv(f"{ENV_PREFIX}LABELS", ",".join(LABEL_SET))
    assert cli.main(["warehouse", "init", "--with-sample-data"]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1
    assert "load your own labeled rows" in captured.err and "Traceback" not in captured.err
{%- endif %}


def test_a_label_without_rows_stops_training_in_one_line(isolated_data, monkeypatch, tmp_path):
    path = tmp_path / "two-of-them.csv"
    reviews(20, seed=4).query("sentiment != @LABEL_SET[-1]").to_csv(path, index=False)
    monkeypatch.setenv(f"{ENV_PREFIX}LABELS", ",".join(LABEL_SET))
{%- if cookiecutter.data_source != "warehouse" %}
    monkeypatch.setenv(f"{ENV_PREFIX}DATA_SOURCE", "files")
{%- endif %}
    from {{ cookiecutter.package_name }}.data.readers import read_table
    from {{ cookiecutter.package_name }}.data.schema import validate_labeled
    from {{ cookiecutter.package_name }}.errors import DataValidationError

    with pytest.raises(DataValidationError, match=f"no row labelled {LABEL_SET[-1]}"):
        validate_labeled(read_table(path), labels=LABEL_SET)


def test_evaluation_and_drift_of_k_classes_match_scikit_learn():
    settings = load_settings().with_overrides(labels=",".join(LABEL_SET){% if cookiecutter.data_source != "warehouse" %}, data_source="files"{% endif %})
    training = reviews(30, seed=2)
    model = fit(build_pipeline(settings.model), training[["text"]], training["sentiment"])
    rows = reviews(15, seed=3)
    # A few rows the words cannot tell: the model makes mistakes to count.
    rows.loc[rows.index[:6], "text"] = "the app was here"
    report = evaluation_report(
        model, rows, low_confidence_threshold=0.45, high_confidence_threshold=0.7
    )

    classes = list(model.classes_)
    assert sorted(classes) == sorted(LABEL_SET)
    predicted = model.predict(rows[["text"]])
    probabilities = model.predict_proba(rows[["text"]])
    assert (
        report["confusion_matrix"]["counts"]
        == confusion_matrix(rows["sentiment"], predicted, labels=classes).tolist()
    )
    precision, recall, f1, support = precision_recall_fscore_support(
        rows["sentiment"], predicted, labels=classes, zero_division=0
    )
    for i, label in enumerate(classes):
        scores = report["per_class"][label]
        assert (scores["precision"], scores["recall"], scores["f1"], scores["support"]) == (
            pytest.approx(precision[i]),
            pytest.approx(recall[i]),
            pytest.approx(f1[i]),
            support[i],
        )
    assert report["metrics"]["macro_f1"] == pytest.approx(f1.mean())
    assert report["metrics"]["macro_recall"] == pytest.approx(recall.mean())
    assert report["metrics"]["roc_auc"] == pytest.approx(
        roc_auc_score(rows["sentiment"], probabilities, labels=classes, multi_class="ovr")
    )
    assert set(report["top_ngrams"]) == set(LABEL_SET)
    # Calibration bins start at 1/K: the top-class confidence of K classes is never below it.
    assert report["calibration"][0]["lower"] == pytest.approx(1 / len(LABEL_SET), abs=1e-4)

    profile = build_profile(model, rows)
    assert profile["confidence_bins"][0] == pytest.approx(1 / len(LABEL_SET))
    assert set(profile["predicted_class_shares"]) == set(LABEL_SET)
    stats = BatchStats(classes, low_threshold=0.45, high_threshold=0.7)
    best = probabilities.argmax(axis=1)
    stats.add(best, probabilities.max(axis=1), 10, 10)
    drift = batch_drift(profile, stats)
    assert drift["confidence_psi"] == pytest.approx(0.0, abs=1e-9)
    assert drift["class_share_shift"] == pytest.approx(0.0, abs=1e-9)
    # Every class's count and share is a metric, the ones predicted for no row too.
    metrics = stats.metrics()
    for position, label in enumerate(classes):
        assert metrics[f"predictions_{label}"] == (best == position).sum()
    only_first = BatchStats(classes, low_threshold=0.45, high_threshold=0.7)
    only_first.add(np.zeros(20, dtype=int), np.full(20, 0.9), 10, 10)
    shares = profile["predicted_class_shares"]
    assert batch_drift(profile, only_first)["class_share_shift"] == pytest.approx(
        max(abs((1.0 if label == classes[0] else 0.0) - shares[label]) for label in classes)
    )
{%- if cookiecutter.serving == "http" %}


def served_answers(base: str) -> list[dict]:
    """A text of each class to /predict: with every class's probability, without, and wrong."""
    texts = [
        f"the hotel room was {words_of(i)[0]} and {words_of(i)[1]}" for i in range(len(LABEL_SET))
    ]
    status, plain = call(f"{base}/predict", json.dumps({"texts": texts}).encode())
    assert status == 200 and "probabilities" not in plain["predictions"][0]
    status, body = call(
        f"{base}/predict", json.dumps({"texts": texts, "probabilities": "yes"}).encode()
    )
    assert status == 400 and "'probabilities' must be true or false" in body["error"]
    status, body = call(
        f"{base}/predict", json.dumps({"texts": texts, "probabilities": True}).encode()
    )
    assert status == 200, body
    return body["predictions"]
{%- endif %}
{%- if cookiecutter.serving == "http" %}


def test_a_k_class_champion_serves_every_class_probability_and_evaluates(
    labeled_project, tmp_path, capsys
):
{%- else %}


def test_a_k_class_champion_evaluates(labeled_project, tmp_path, capsys):
{%- endif %}
    settings, trained = labeled_project
    logged = connect(settings).get_run(trained["run_id"]).data.metrics
    assert {f"holdout_class_{label}_recall" for label in LABEL_SET} <= set(logged)
{%- if cookiecutter.serving == "http" %}
    port = free_port()
    server, thread = run_server(create_app(settings), port)
    try:
        predictions = served_answers(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)

    assert [p["label"] for p in predictions] == list(LABEL_SET)
    for prediction in predictions:
        assert set(prediction["probabilities"]) == set(LABEL_SET)
        assert sum(prediction["probabilities"].values()) == pytest.approx(1.0)
        assert prediction["confidence"] == max(prediction["probabilities"].values())
{%- endif %}

    rows = reviews(12, seed=5)
    path = tmp_path / "labeled.csv"
    rows.to_csv(path, index=False)
    assert cli.main(["--json", "evaluate", "--alias", "champion", "--data", str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    report = json.loads(Path(printed["json"]).read_text())
    assert len(report["confusion_matrix"]["counts"]) == len(LABEL_SET)
    assert set(report["per_class"]) == set(LABEL_SET)
    assert report["metrics"]["roc_auc"] is not None
    page = Path(printed["html"]).read_text()
    assert all(f"<th>{label}</th>" in page for label in LABEL_SET)  # the per-class table
    assert trained["model_version"] == printed["model_version"]


@pytest.mark.scenario
def test_tuning_cross_validates_k_classes(labeled_project, tmp_path, capsys):
    path = tmp_path / "to-tune.csv"
    reviews(40, seed=6).to_csv(path, index=False)

    assert cli.main(["--json", "tune", "--trials", "2", "--data", str(path)]) == 0

    tuned = json.loads(capsys.readouterr().out)
    assert tuned["best_cv_mean_accuracy"] > 1 / len(LABEL_SET)
{%- if cookiecutter.data_source == "warehouse" %}


def write_batch(settings, day: str, rows: pd.DataFrame) -> None:
    from {{ cookiecutter.package_name }}.data.sources import source_for
    from {{ cookiecutter.package_name }}.steps.sample_batch import deliver_batch

    deliver_batch(source_for(settings), storage.as_date(day), rows[["id", "text"]])


def write_labels(settings, day: str, rows: pd.DataFrame) -> None:
    append_rows(settings, settings.data.labels_table, rows[["id", "sentiment"]])
{%- else %}


def write_batch(settings, day: str, rows: pd.DataFrame) -> None:
    folder = Path(settings.data.incoming_dir) / f"ds={day}"
    folder.mkdir(parents=True, exist_ok=True)
    rows[["id", "text"]].to_csv(folder / "batch.csv", index=False)


def write_labels(settings, day: str, rows: pd.DataFrame) -> None:
    feedback = Path(settings.data.feedback_dir)
    feedback.mkdir(parents=True, exist_ok=True)
    rows[["id", "sentiment"]].to_csv(feedback / f"labels-{day}.csv", index=False)
{%- endif %}


@pytest.mark.scenario
@pytest.mark.labels
def test_three_days_of_k_class_batches_with_labels_a_day_late(airflow_db, labeled_project):
    settings, _ = labeled_project
    dag = parse_dags()[BATCH_INFERENCE_DAG_ID]
    days = ["2026-10-02", "2026-10-03", "2026-10-04"]
    batches = {}
    for number, day in enumerate(days):
        batch = reviews(6, seed=10 + number)
        # Two texts of each batch say nothing: some predictions can be wrong.
        batch.loc[batch.index[:2], "text"] = ["the app was here", "the jacket came"]
        batch.insert(0, "id", [f"{day}-{i}" for i in range(len(batch))])
        batches[day] = batch
        write_batch(settings, day, batch)
        run_dag(dag, day)
        # The day's true labels arrive a day late, before the next day's run.
        write_labels(settings, day, batch)

    client = connect(settings)
    for day in days:
        delivered = delivered_predictions(settings, day)
        assert set(delivered["prediction"]) <= set(LABEL_SET)
        assert sorted(delivered["id"]) == sorted(batches[day]["id"])
        run = runs.find_run(
            client, settings.inference_experiment, runs.run_name(runs.INFERENCE, day)
        )
        metrics = run.data.metrics
        for label in LABEL_SET:
            assert metrics[f"predictions_{label}"] == (delivered["prediction"] == label).sum()
        if day == days[-1]:
            # Its labels came after the last run: nothing has judged it yet.
            assert "accuracy" not in metrics
            continue
        truth = delivered.merge(batches[day][["id", "sentiment"]], on="id")
        # Every row is labeled: all labels (the queue's random part alone is the unbiased figure).
        assert metrics["accuracy_all_labels_biased"] == pytest.approx(
            accuracy_score(truth["sentiment"], truth["prediction"])
        )
        assert metrics["labeled_rows"] == len(batches[day])
