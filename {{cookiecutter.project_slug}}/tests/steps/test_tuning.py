"""`tune` logs trials under one parent run, writes what the next `train` fits, promotes nothing."""

from __future__ import annotations

import json

import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.data.readers import read_table
from {{ cookiecutter.package_name }}.data.schema import bundled_dataset_path
from {{ cookiecutter.package_name }}.model.pipeline import CLASSIFIER_STEP
from {{ cookiecutter.package_name }}.settings import (
    ENV_PREFIX,
    ESTIMATORS,
    load_settings,
    parse_estimator_params,
)
from {{ cookiecutter.package_name }}.steps.training import run_training
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect


@pytest.fixture
def small_training_file(tmp_path):
    path = tmp_path / "reviews.csv"
    read_table(bundled_dataset_path()).sample(400, random_state=5).to_csv(path, index=False)
    return path


def registry_state(settings) -> tuple:
    client = connect(settings)
    name = settings.model.registered_model_name
    versions = {v.version for v in client.search_model_versions(f"name = '{name}'")}
    return versions, client.get_registered_model(name).aliases


def test_tune_logs_child_runs_writes_what_train_fits_and_promotes_nothing(
    champion_store, small_training_file, capsys, monkeypatch
):
    # The environment outranks the tuned file: drop the suite's own vocabulary size.
    monkeypatch.delenv(f"{ENV_PREFIX}MAX_FEATURES")
    before = registry_state(champion_store)
    # Another estimator than the configured one: what train fits must change.
    other = next(name for name in ESTIMATORS if name != champion_store.model.estimator)

    argv = ["--json", "tune", "--model", other, "--trials", "2", "--data", str(small_training_file)]
    assert cli.main(argv) == 0

    result = json.loads(capsys.readouterr().out)
    client = connect(champion_store)
    parent = client.get_run(result["run_id"])
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    assert len(children) == 2 == parent.data.metrics["trials_run"]
    assert parent.data.tags["stop_reason"] == "all trials ran"
    best = max(child.data.metrics["cv_mean_accuracy"] for child in children)
    assert parent.data.metrics["best_cv_mean_accuracy"] == pytest.approx(best)
    assert registry_state(champion_store) == before

    tuned = load_settings()
    assert tuned.model.estimator == other
    trained = run_training(tuned, "2026-05-01", training_path=small_training_file)
    params = client.get_run(trained["run_id"]).data.params
    assert params["estimator"] == other
    assert params["max_features"] == str(result["best"]["max_features"])
    model = registry.load_version(tuned, trained["model_version"])
    # The calibrated LinearSVC holds its C as estimator__C.
    fitted = model.named_steps[CLASSIFIER_STEP].get_params()
    for name, value in parse_estimator_params(result["best"]["estimator_params"]).items():
        [key] = [key for key in fitted if key == name or key.endswith(f"__{name}")]
        assert fitted[key] == pytest.approx(value)


def test_the_budget_stops_tuning_between_trials(isolated_store, small_training_file, capsys):
    argv = [
        "--json",
        "tune",
        "--trials",
        "5",
        "--budget-seconds",
        "0.001",
        "--data",
        str(small_training_file),
    ]
    assert cli.main(argv) == 0

    result = json.loads(capsys.readouterr().out)
    parent = connect(isolated_store).get_run(result["run_id"])
    assert parent.data.metrics["trials_run"] == 1
    assert parent.data.tags["stop_reason"].startswith("budget of 0.001 s spent after 1 trial")
    assert "[settings]" in isolated_store.platform.tuned_settings_file.read_text()


def test_tune_keeps_what_else_the_tuned_file_says(tmp_path):
    from {{ cookiecutter.package_name }}.settings import read_tuned_settings
    from {{ cookiecutter.package_name }}.steps.tuning import write_tuned_settings

    path = tmp_path / "tuned.toml"
    path.write_text(
        '[settings]\nmax_features = 3000\ntext_column = "review_body"\n\n'
        '[settings.label_map]\n"1" = "negative"\n'
    )
    write_tuned_settings(path, {"max_features": 8000, "ngram_max": 1}, "tuned again")

    assert read_tuned_settings(path) == {
        "max_features": 8000,
        "text_column": "review_body",
        "label_map": {"1": "negative"},
        "ngram_max": 1,
    }
    assert path.read_text().startswith("# tuned again\n[settings]\n")
