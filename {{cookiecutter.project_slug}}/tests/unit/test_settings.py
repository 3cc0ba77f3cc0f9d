from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.errors import SettingsError
from {{ cookiecutter.package_name }}.settings import (
    ENV_PREFIX,
    airflow_environment,
    is_valid_schedule,
    load_settings,
)


def test_defaults_are_the_template_answers():
    settings = load_settings()
    assert settings.model == "{{ cookiecutter.model }}"
    assert settings.inference_schedule == "{{ cookiecutter.inference_schedule }}"
    assert settings.batch_size == {{ cookiecutter.batch_size | int }}
    assert settings.min_accuracy == {{ cookiecutter.min_accuracy | float }}
    assert settings.registered_model_name == "{{ cookiecutter.registered_model_name }}"


def test_environment_overrides_a_default(monkeypatch):
    monkeypatch.setenv(f"{ENV_PREFIX}BATCH_SIZE", "1234")
    monkeypatch.setenv(f"{ENV_PREFIX}LOW_CONFIDENCE_THRESHOLD", "0.55")
    settings = load_settings()
    assert settings.batch_size == 1234
    assert settings.low_confidence_threshold == 0.55


def test_mlflow_tracking_uri_is_honoured(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert load_settings().tracking_uri == "http://127.0.0.1:5000"


def test_embedded_tracking_store_when_unset(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    settings = load_settings()
    assert settings.tracking_uri == f"sqlite:///{settings.project_root / 'mlflow.db'}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BATCH_SIZE", "many"),
        ("BATCH_SIZE", "0"),
        ("LOW_CONFIDENCE_THRESHOLD", "0.95"),
        ("INFERENCE_SCHEDULE", "@sometimes"),
        ("MODEL", "random_forest"),
    ],
)
def test_bad_override_names_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(f"{ENV_PREFIX}{name}", value)
    with pytest.raises(SettingsError, match=ENV_PREFIX):
        load_settings()


def test_airflow_variables_already_set_win(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__PARALLELISM", "2")
    env = airflow_environment()
    assert env["AIRFLOW_HOME"] == str(tmp_path)
    assert env["AIRFLOW__CORE__PARALLELISM"] == "2"


def test_airflow_defaults_are_project_local(monkeypatch):
    for name in ("AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    env = airflow_environment(settings)
    assert env["AIRFLOW_HOME"] == str(settings.project_root / ".airflow")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(settings.project_root / "dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"


@pytest.mark.parametrize("schedule", ["@daily", "@hourly", "0 6 * * *", "*/15 * * * 1-5"])
def test_valid_schedules(schedule):
    assert is_valid_schedule(schedule)


@pytest.mark.parametrize("schedule", ["daily", "@sometimes", "0 6 * *", "0 6 * * * *"])
def test_invalid_schedules(schedule):
    assert not is_valid_schedule(schedule)
