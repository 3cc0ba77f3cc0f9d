"""Every version's evaluation report, and `evaluate` for any version on any labeled file."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow.artifacts
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.readers import read_table
from {{ cookiecutter.package_name }}.data.schema import bundled_dataset_path
from {{ cookiecutter.package_name }}.tracking import reference, registry
from {{ cookiecutter.package_name }}.tracking.client import connect

LABELS = ["negative", "positive"]


def test_the_training_run_holds_the_report_on_the_real_hold_out(session_settings, champion):
    partition = storage.partition_dir(
        session_settings.data.data_dir, storage.TRAINING, "2026-01-01"
    )
    holdout = pd.read_parquet(partition / storage.TRAINING_HOLDOUT_FILE)
    model = registry.load_version(session_settings, champion["model_version"])
    predicted = model.predict(holdout[["text"]])
    client = connect(session_settings)
    metrics = client.get_run(champion["run_id"]).data.metrics

    assert metrics["holdout_accuracy"] == pytest.approx(
        accuracy_score(holdout["sentiment"], predicted)
    )
    assert metrics["holdout_macro_f1"] == pytest.approx(
        f1_score(holdout["sentiment"], predicted, average="macro")
    )
    assert 0 <= metrics["holdout_expected_calibration_error"] < 0.5
    report = mlflow.artifacts.load_dict(
        f"runs:/{champion['run_id']}/evaluation/holdout_report.json"
    )
    assert report["metrics"]["macro_f1"] == pytest.approx(
        f1_score(holdout["sentiment"], predicted, average="macro")
    )
    assert len(report["confidently_wrong"]) == 20
    assert set(report["top_ngrams"]) == set(LABELS)


def test_evaluate_writes_a_page_and_json_of_a_version_on_a_file(
    champion_store, champion, tmp_path, capsys
):
    rows = read_table(bundled_dataset_path()).sample(200, random_state=3)
    path = tmp_path / "labeled.csv"
    rows.to_csv(path, index=False)

    assert cli.main(["--json", "evaluate", "--alias", "champion", "--data", str(path)]) == 0

    printed = json.loads(capsys.readouterr().out)
    report = json.loads(Path(printed["json"]).read_text())
    model = registry.load_version(champion_store, champion["model_version"])
    predicted = model.predict(rows[["text"]])
    assert report["metrics"]["accuracy"] == pytest.approx(
        accuracy_score(rows["sentiment"], predicted)
    )
    assert (
        report["confusion_matrix"]["counts"]
        == confusion_matrix(rows["sentiment"], predicted, labels=LABELS).tolist()
    )
    page = Path(printed["html"]).read_text()
    assert f"{report['metrics']['accuracy']:.4f}" in page and "<svg" in page
    assert "<script" not in page and 'src="http' not in page  # opens anywhere, offline


def test_evaluate_defaults_to_the_reference_set(champion_store, champion, capsys):
    assert cli.main(["--json", "evaluate", "--version", champion["model_version"]]) == 0

    printed = json.loads(capsys.readouterr().out)
    current = reference.current(connect(champion_store), champion_store)
    assert printed["data"] == "the reference set"
    assert printed["metrics"]["rows"] == len(current.rows)
