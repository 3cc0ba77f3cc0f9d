from __future__ import annotations

import json
import os

import pytest

from {{ cookiecutter.package_name }}.errors import SettingsError
from {{ cookiecutter.package_name }}.settings import (
    ENV_PREFIX,
    FIELD_GROUPS,
    DataSettings,
    ModelSettings,
    MonitoringSettings,
    PlatformSettings,
    Settings,
    airflow_environment,
    is_valid_schedule,
    load_settings,
)


def as_variable(value: object) -> str:
    """How a person writes ``value`` in an environment variable."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_the_rendered_defaults_are_valid_and_each_round_trips_through_its_variable(
    monkeypatch, tmp_path
):
    for name in [name for name in os.environ if name.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    # A checkout's own tuned.toml would stand between the defaults and the environment.
    monkeypatch.setenv(f"{ENV_PREFIX}TUNED_SETTINGS_FILE", str(tmp_path / "absent.toml"))
    # The generation's answers, before any place is resolved, pass their own validation.
    Settings(ModelSettings(), DataSettings(), MonitoringSettings(), PlatformSettings()).validate()
    defaults = load_settings()

    for name in FIELD_GROUPS.keys() - {"project_root"}:
        monkeypatch.setenv(f"{ENV_PREFIX}{name.upper()}", as_variable(defaults.value(name)))

    assert load_settings() == defaults


def test_environment_overrides_a_default(monkeypatch):
    monkeypatch.setenv(f"{ENV_PREFIX}MIN_LABELED_ROWS", "1234")
    monkeypatch.setenv(f"{ENV_PREFIX}LOW_CONFIDENCE_THRESHOLD", "0.55")
    settings = load_settings()
    assert settings.data.min_labeled_rows == 1234
    assert settings.monitoring.low_confidence_threshold == 0.55


def test_mlflow_tracking_uri_is_honoured(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert load_settings().platform.tracking_uri == "http://127.0.0.1:5000"


def test_embedded_tracking_store_when_unset(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    platform = load_settings().platform
    assert platform.tracking_uri == f"sqlite:///{platform.project_root / 'mlflow.db'}"


# A value for every setting's variable that must be refused, and more for the
# settings whose checks have several parts.
BAD_VALUES = [
    ("ESTIMATOR", "random_forest"),
    ("MAX_FEATURES", "2000000000"),
    ("MAX_FEATURES", "many"),
    ("NGRAM_MAX", "4"),
    ("ESTIMATOR_PARAMS", "C"),
    ("ESTIMATOR_PARAMS", "C=inf"),
    ("MLFLOW_EVALUATOR", "maybe"),
    ("RANDOM_SEED", "-1"),
    ("REGISTERED_MODEL_NAME", "team/sentiment"),
    ("REGISTERED_MODEL_NAME", " "),
    ("MIN_ACCURACY", "1.5"),
    ("MIN_IMPROVEMENT", "-0.1"),
    ("MIN_TRAINING_ROWS", "0"),
    ("SHADOW_PROMOTION_DAYS", "-1"),
    ("SHADOW_PROMOTION_DAYS", "366"),
    ("REFERENCE_TOLERANCE", "-0.1"),
    ("LABEL_AGREEMENT_TOLERANCE", "2"),
    ("SKLEARN_VERSION_POLICY", "ignore"),
    ("LABELS", "good"),
    ("LABELS", "bad,bad"),
    ("LABELS", "not ok,fine"),
    ("DATA_DIR", ""),
{%- if cookiecutter.data_source == "demo" %}
    ("DATA_SOURCE", "bundled"),
{%- endif %}
    ("DATA_SOURCE", "s3"),
{%- if cookiecutter.data_source != "warehouse" %}
    ("TRAINING_FILES", " "),
    ("INCOMING_DIR", " "),
    ("FEEDBACK_DIR", ""),
    ("OUTGOING_DIR", " "),
{%- endif %}
{%- if cookiecutter.data_source == "warehouse" %}
    ("WAREHOUSE_URL", "warehouse.db"),
    ("TRAINING_TABLE", "reviews; DROP TABLE users"),
    ("BATCH_TABLE", "reviews; DROP TABLE users"),
    ("BATCH_TIMESTAMP_COLUMN", "created at"),
    ("BATCH_QUERY", "SELECT id, text FROM t"),
    ("LABELS_TABLE", "1labels"),
    ("PREDICTIONS_TABLE", "a.b.c"),
    ("LABEL_REQUESTS_TABLE", "requests; DROP TABLE users"),
{%- endif %}
    ("BATCH_POKE_SECONDS", "0"),
    ("BATCH_WAIT_SECONDS", "1e9"),
{%- if cookiecutter.data_source != "warehouse" %}
    ("BATCH_SETTLE_SECONDS", "-1"),
{%- endif %}
    ("MIN_LABELED_ROWS", "0"),
    ("LABEL_REQUESTS_PER_DAY", "-1"),
    ("LABEL_RANDOM_SHARE", "1.5"),
    ("RETENTION_DAYS", "0"),
    ("MIN_LABELED_ROWS", "many"),
{%- if cookiecutter.data_source == "demo" %}
    ("BATCH_SIZE", "0"),
    ("LABEL_DELAY_DAYS", "366"),
{%- endif %}
    ("TRAIN_ON_FEEDBACK", "flase"),
    ("TRAIN_ON_FEEDBACK", "on"),
{%- if cookiecutter.data_source == "demo" %}
    ("DRIFT_START", "2026-02-30"),
{%- endif %}
    ("INFERENCE_CHUNK_ROWS", "0"),
    ("INFERENCE_WORKERS", "1000"),
    ("SHARD_ROWS", "0"),
    ("TEXT_COLUMN", " "),
    ("LABEL_COLUMN", "text"),
    ("ID_COLUMN", "prediction"),
    ("LABEL_MAP", "1=negative"),
    ("LABEL_MAP", '["negative"]'),
    ("LABEL_MAP", '{"1": "not a label"}'),
    ("LABEL_MAP", '{"1": 1}'),
    ("LABEL_MAP", '{"NEG": "negative", " neg": "positive"}'),
    ("LOW_CONFIDENCE_THRESHOLD", "0.95"),
    ("HIGH_CONFIDENCE_THRESHOLD", "1"),
    ("LOW_CONFIDENCE_ALERT_PCT", "101"),
    ("MONITORING_WINDOW_DAYS", "1"),
    ("TREND_TOLERANCE", "nan"),
    ("DRIFT_PSI_THRESHOLD", "nan"),
    ("DRIFT_PSI_THRESHOLD", "inf"),
    ("DRIFT_PSI_THRESHOLD", "0"),
    ("OOV_INCREASE_THRESHOLD", "-1"),
    ("CLASS_SHIFT_THRESHOLD", "0"),
    ("ALERT_WEBHOOK_URL", "hooks.slack.com/services/T0"),
    ("WEBHOOK_TIMEOUT_SECONDS", "-1"),
    ("WEBHOOK_TIMEOUT_SECONDS", "3600"),
    ("TRACKING_URI", " "),
    ("ARTIFACT_ROOT", ""),
{%- if cookiecutter.platform == "local" %}
    ("STACK_DIR", ""),
{%- endif %}
    ("TUNED_SETTINGS_FILE", ""),
    ("INFERENCE_SCHEDULE", "@sometimes"),
    ("RETRAIN_SCHEDULE", "0 6 * *"),
    ("RETRY_DELAY_SECONDS", "0"),
{%- if cookiecutter.platform == "local" %}
    ("PROFILE", "staging"),
{%- if cookiecutter.executor == "celery" %}
    ("EXECUTOR", "kubernetes"),
    ("CELERY_WORKERS", "500"),
{%- endif %}
{%- endif %}
{%- if cookiecutter.serving == "http" %}
    ("SERVE_HEADER_TIMEOUT_SECONDS", "0"),
    ("SERVE_BODY_TIMEOUT_SECONDS", "nan"),
    ("SERVE_KEEP_ALIVE_SECONDS", "0.5"),
    ("SERVE_MAX_CONNECTIONS", "0"),
    ("SERVE_INFLIGHT_BODY_MIB", "8"),
    ("SERVE_INFLIGHT_WAIT_SECONDS", "-1"),
{%- endif %}
]
# Settings that take any text: there is no wrong value to refuse.
FREE_FORM = {
    "project_root",  # not read from the environment (<PREFIX>HOME sets it)
    "model_cache_dir",  # any directory; empty turns the cache off
    "alert_connection_id",  # an Airflow connection id; a missing one means no delivery
}


def test_every_setting_has_a_bad_value_in_the_table():
    tested = {name.lower() for name, _ in BAD_VALUES}
    assert tested | FREE_FORM == set(FIELD_GROUPS)


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_bad_override_names_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(f"{ENV_PREFIX}{name}", value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"{ENV_PREFIX}{name}") and "\n" not in message
    assert " is not valid: expected " in message or " is empty: " in message


def test_every_bad_value_is_reported_at_once(monkeypatch):
    monkeypatch.setenv(f"{ENV_PREFIX}MIN_LABELED_ROWS", "0")
    monkeypatch.setenv(f"{ENV_PREFIX}MIN_ACCURACY", "2")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert f"{ENV_PREFIX}MIN_LABELED_ROWS=0" in message
    assert f"{ENV_PREFIX}MIN_ACCURACY=2.0" in message
    assert "\n" not in message


def test_settings_are_grouped_by_concern():
    settings = load_settings()
    assert {"estimator", "max_features", "min_accuracy"} <= set(vars(settings.model))
    assert {"data_source", "min_labeled_rows", "data_dir"} <= set(vars(settings.data))
    assert {"drift_psi_threshold", "alert_webhook_url"} <= set(vars(settings.monitoring))
    assert {"tracking_uri", "{% if cookiecutter.platform == "local" %}profile{% else %}artifact_root{% endif %}", "inference_schedule"} <= set(vars(settings.platform))


def test_overrides_are_validated_together():
    settings = load_settings()
    changed = settings.with_overrides(min_labeled_rows=7, drift_psi_threshold=0.5)
    assert (changed.data.min_labeled_rows, changed.monitoring.drift_psi_threshold) == (7, 0.5)
    assert settings.data.min_labeled_rows != 7  # the original is unchanged
    with pytest.raises(SettingsError, match="LOW_CONFIDENCE_THRESHOLD"):
        settings.with_overrides(low_confidence_threshold=0.9, high_confidence_threshold=0.7)
    with pytest.raises(SettingsError, match="unknown setting"):
        settings.with_overrides(batch_sise=7)


def test_the_estimator_choices_are_the_model_folder_s():
    from {{ cookiecutter.package_name }}.model.estimators import ESTIMATORS
    from {{ cookiecutter.package_name }}.settings import ESTIMATORS as NAMES

    assert tuple(ESTIMATORS) == NAMES


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
    assert env["AIRFLOW_HOME"] == str(settings.platform.project_root / ".airflow")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(settings.platform.project_root / "dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"


@pytest.mark.parametrize("schedule", ["@daily", "@hourly", "0 6 * * *", "*/15 * * * 1-5"])
def test_valid_schedules(schedule):
    assert is_valid_schedule(schedule)


@pytest.mark.parametrize("schedule", ["daily", "@sometimes", "0 6 * *", "0 6 * * * *"])
def test_invalid_schedules(schedule):
    assert not is_valid_schedule(schedule)


def test_the_tuned_settings_file_sits_between_the_defaults_and_the_environment(
    monkeypatch, tmp_path
):
    tuned = tmp_path / "tuned.toml"
    tuned.write_text('[settings]\nmax_features = 3000\nestimator_params = "C=2.5"\n')
    monkeypatch.setenv(f"{ENV_PREFIX}TUNED_SETTINGS_FILE", str(tuned))
    monkeypatch.delenv(f"{ENV_PREFIX}MAX_FEATURES")  # the suite's own, in conftest.py
    assert load_settings().model.max_features == 3000
    assert load_settings().model.estimator_params == "C=2.5"

    monkeypatch.setenv(f"{ENV_PREFIX}MAX_FEATURES", "7000")
    assert load_settings().model.max_features == 7000


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[settings]\nmax_feature = 5\n", r"tuned\.toml sets unknown setting\(s\) max_feature"),
        ("[settings\n", r"tuned\.toml is not valid TOML"),
        ('[settings]\nestimator_params = "C"\n', r"ESTIMATOR_PARAMS='C' is not valid"),
    ],
)
def test_a_bad_tuned_settings_file_is_named(monkeypatch, tmp_path, content, message):
    tuned = tmp_path / "tuned.toml"
    tuned.write_text(content)
    monkeypatch.setenv(f"{ENV_PREFIX}TUNED_SETTINGS_FILE", str(tuned))
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_columns_and_label_map_from_the_tuned_file_or_the_environment(monkeypatch, tmp_path):
    from {{ cookiecutter.package_name }}.data.columns import Columns

    low, high = load_settings().model.labels[0], load_settings().model.labels[-1]
    tuned = tmp_path / "tuned.toml"
    tuned.write_text(
        '[settings]\ntext_column = "review_body"\nlabel_column = "star_rating"\n\n'
        f'[settings.label_map]\n1 = "{low}"\n" NEG " = "{low.upper()}"\n5 = "{high}"\n'
    )
    monkeypatch.setenv(f"{ENV_PREFIX}TUNED_SETTINGS_FILE", str(tuned))
    data = load_settings().data
    assert (data.text_column, data.label_column, data.id_column) == (
        "review_body",
        "star_rating",
        "id",
    )
    # Compared as labels are: case and spaces ignored, and a float's 5.0 is 5.
    assert Columns.of(load_settings()).label_map == {"1": low, "neg": low, "5": high}

    monkeypatch.setenv(f"{ENV_PREFIX}LABEL_MAP", json.dumps({"0": low, "1": high}))
    assert load_settings().data.label_map == {"0": low, "1": high}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"label_map": {"3": "so-so"}}, r"LABEL_MAP='\{\"3\": \"so-so\"\}' is not valid: "),
        ({"label_map": {"": "x"}}, r"LABEL_MAP=.* is not valid"),
        ({"id_column": "text"}, r"ID_COLUMN='text' is not valid: expected a column name other "),
{%- if cookiecutter.data_source == "warehouse" %}
        (
            {"data_source": "warehouse", "label_column": "star rating"},
            r"LABEL_COLUMN='star rating' is not valid: expected a plain SQL column name",
        ),
{%- endif %}
    ],
)
def test_a_bad_column_or_label_map_is_one_settings_line(overrides, message):
    with pytest.raises(SettingsError, match=f"^{ENV_PREFIX}{message}") as raised:
        load_settings().with_overrides(**overrides)
    assert "\n" not in str(raised.value)


def test_a_label_map_in_a_tuned_file_that_is_not_a_table_is_one_line(monkeypatch, tmp_path):
    tuned = tmp_path / "tuned.toml"
    tuned.write_text('[settings]\nlabel_map = "1=negative"\n\n[settings.min_labeled_rows]\nx = 1\n')
    monkeypatch.setenv(f"{ENV_PREFIX}TUNED_SETTINGS_FILE", str(tuned))
    with pytest.raises(SettingsError, match=r"LABEL_MAP='1=negative' is not valid: expected a"):
        load_settings()
    tuned.write_text("[settings.min_labeled_rows]\nx = 1\n")
    with pytest.raises(SettingsError, match=r"MIN_LABELED_ROWS=.* expected one value, not a table"):
        load_settings()
