"""The DAG files parse, wire the expected tasks, and stay cheap to parse."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import CronTriggerTimetable

from {{ cookiecutter.package_name }}.orchestration import (
    BATCH_INFERENCE_DAG_ID,
    RETRAINING_REQUESTED,
    TRAINING_DAG_ID,
)
from {{ cookiecutter.package_name }}.settings import (
    BOUNDS,
    ESTIMATORS,
    FIELD_GROUPS,
    PACKAGE_NAME,
    load_settings,
    param_schema,
)
from tests.conftest import PROJECT_ROOT

DAGS_FOLDER = PROJECT_ROOT / "dags"
DAG_ID = BATCH_INFERENCE_DAG_ID


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {DAG_ID, TRAINING_DAG_ID}


def test_tasks_and_edges(dagbag):
    dag = dagbag.dags[DAG_ID]
    edges = {(task.task_id, down) for task in dag.tasks for down in task.downstream_task_ids}
    assert edges == {
{%- if cookiecutter.data_source == "demo" %}
        ("generate_data", "batch_predict"),
{%- else %}
        ("extract_batch", "batch_predict"),
        ("merge_shards", "publish_predictions"),
{%- endif %}
        ("batch_predict", "merge_shards"),
        ("merge_shards", "monitor_model"),
        ("merge_shards", "request_labels"),
        ("request_labels", "monitor_model"),
        ("monitor_model", "cleanup_old_artifacts"),
        ("monitor_model", "generate_summary"),
        ("monitor_model", "request_retraining"),
        ("monitor_model", "promote_challenger"),
    }
    assert RETRAINING_REQUESTED in dag.get_task("request_retraining").outlets


@pytest.mark.parametrize("source", [{% if cookiecutter.data_source == "warehouse" %}"warehouse"{% else %}"files"{% endif %}])
def test_a_real_source_waits_for_its_batch_and_delivers_predictions(monkeypatch, source):
    from airflow.sdk.bases.sensor import BaseSensorOperator

    monkeypatch.setenv(f"{PACKAGE_NAME.upper()}_DATA_SOURCE", source)
    monkeypatch.setenv(f"{PACKAGE_NAME.upper()}_BATCH_POKE_SECONDS", "120")
    monkeypatch.setenv(f"{PACKAGE_NAME.upper()}_BATCH_WAIT_SECONDS", "3600")
    dag = DagBag(dag_folder=str(DAGS_FOLDER)).dags[DAG_ID]

    edges = {(task.task_id, down) for task in dag.tasks for down in task.downstream_task_ids}
    assert ("extract_batch", "batch_predict") in edges
    assert ("merge_shards", "publish_predictions") in edges
{%- if cookiecutter.data_source == "demo" %}
    assert "generate_data" not in dag.task_ids
{%- endif %}
    sensor = dag.get_task("extract_batch")
    assert isinstance(sensor, BaseSensorOperator)
    # Rescheduled between looks: a waiting sensor holds no worker slot.
    assert sensor.mode == "reschedule" and sensor.poke_interval == 120
    assert sensor.timeout == 3600 + 120


def test_schedule_and_run_policy(dagbag):
    dag = dagbag.dags[DAG_ID]
    assert dag.schedule == "{{ cookiecutter.inference_schedule }}" == load_settings().platform.inference_schedule
    assert dag.catchup is False
    for task in dag.tasks:
        assert task.retries >= 1
        assert task.retry_delay.total_seconds() > 0


def test_thresholds_are_run_params(dagbag):
    params = dagbag.dags[DAG_ID].params
    settings = load_settings()
    assert set(params) <= set(FIELD_GROUPS), "every run param is a settings field"
{%- if cookiecutter.data_source == "demo" %}
    assert params["batch_size"] == settings.data.batch_size
{%- endif %}
    assert params["low_confidence_threshold"] == settings.monitoring.low_confidence_threshold
    assert params["high_confidence_threshold"] == settings.monitoring.high_confidence_threshold
    assert params["low_confidence_alert_pct"] == settings.monitoring.low_confidence_alert_pct
    assert params["retention_days"] == settings.data.retention_days
    for name in ("drift_psi_threshold", "oov_increase_threshold", "class_shift_threshold"):
        assert params[name] == settings.value(name)
    # The day's labelling budget and shadow promotion, per run too.
    assert params["label_requests_per_day"] == settings.data.label_requests_per_day
    assert params["shadow_promotion_days"] == settings.model.shadow_promotion_days == 0


def test_run_param_checks_are_the_settings_bounds(dagbag):
    for dag in dagbag.dags.values():
        for name in dag.params:
            assert dag.params.get_param(name).schema == param_schema(name), name
    schema = dagbag.dags[DAG_ID].params.get_param("low_confidence_threshold").schema
    assert (schema["exclusiveMinimum"], schema["exclusiveMaximum"]) == (0, 1)
    assert dagbag.dags[TRAINING_DAG_ID].params.get_param("estimator").schema["enum"] == list(
        ESTIMATORS
    )


def test_a_bound_changed_in_settings_reaches_the_dag_params_and_the_cli(monkeypatch, capsys):
    """One statement of each limit: a DAG param, the CLI and the settings refuse alike."""
    from {{ cookiecutter.package_name }} import cli
    from {{ cookiecutter.package_name }}.errors import SettingsError
    from {{ cookiecutter.package_name }}.orchestration import run_params

    most = load_settings().data.retention_days + 1
    monkeypatch.setitem(BOUNDS, "retention_days", (1, most))
    param = run_params(load_settings(), "retention_days")["retention_days"]
    assert param.schema["maximum"] == most
    parser = cli.build_parser()
    args = parser.parse_args(["cleanup", "--retention-days", str(most)])
    assert args.retention_days == most
    with pytest.raises(SystemExit):
        parser.parse_args(["cleanup", "--retention-days", str(most + 1)])
    assert f"use a whole number from 1 to {most}." in capsys.readouterr().err
    with pytest.raises(SettingsError, match=f"RETENTION_DAYS={most + 1} is not valid"):
        load_settings(retention_days=most + 1)


# What the dag-processor must not pay for on every parse: the ML libraries and
# the package's modules that load them.
HEAVY_MODULES = (
    "sklearn",
    "mlflow",
    "pandas",
    "pyarrow",
    *(
        f"{PACKAGE_NAME}.{name}"
        for name in (
            "steps",
            "model",
            "data",
            "monitoring",
            "tracking",
{%- if cookiecutter.serving == "http" %}
            "serving",
{%- endif %}
{%- if cookiecutter.platform == "local" %}
            "platform",
{%- endif %}
        )
    ),
)
# What a DAG file may import at all: wiring needs the task SDK, the steps
# (inside task bodies), the DAG ids and Asset, and the settings.
ALLOWED_IMPORTS = (
    "__future__",
    "airflow.sdk",
    "datetime",
    f"{PACKAGE_NAME}.orchestration",
    f"{PACKAGE_NAME}.settings",
    f"{PACKAGE_NAME}.steps.",
)


@pytest.mark.parametrize("dag_file", sorted(DAGS_FOLDER.glob("*.py")), ids=lambda p: p.name)
def test_dag_files_import_only_the_sdk_steps_orchestration_and_settings(dag_file):
    tree = ast.parse(dag_file.read_text())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    stray = sorted(
        name
        for name in imported
        if not any(name == allowed or name.startswith(allowed) for allowed in ALLOWED_IMPORTS)
    )
    assert not stray, f"{dag_file.name} imports {stray}: DAG files are wiring only"


@pytest.mark.parametrize(
    ("dag_id", "bad", "named"),
    [
        (DAG_ID, {"low_confidence_threshold": 0.9, "high_confidence_threshold": 0.7}, "LOW_CONF"),
        (TRAINING_DAG_ID, {"min_accuracy": 1.5}, "MIN_ACCURACY"),
    ],
)
def test_run_params_are_validated_together(dagbag, dag_id, bad, named):
    """A run conf the settings would refuse fails the task, as the environment's would."""
    from {{ cookiecutter.package_name }}.errors import SettingsError
    from {{ cookiecutter.package_name }}.orchestration import run_settings

    params = {**dagbag.dags[dag_id].params, **bad}
    with pytest.raises(SettingsError, match=named):
        run_settings(params)
    assert run_settings(dict(dagbag.dags[dag_id].params)) == load_settings()


def test_parsing_imports_nothing_heavy():
    """Run each DAG file in one fresh interpreter, as the dag-processor would, one after another.

    What a file imports stays loaded, so a heavy module shows under the first
    file that pulls it in; one interpreter for all saves a start of Airflow each.
    """
    code = (
        "import json, runpy, sys\n"
        "found, seen = {}, set()\n"
        "for path in sys.argv[1:]:\n"
        "    runpy.run_path(path)\n"
        f"    heavy = set(m for m in {HEAVY_MODULES!r} if m in sys.modules) - seen\n"
        "    found[path.rsplit('/', 1)[-1]], seen = sorted(heavy), seen | heavy\n"
        "print(json.dumps(found))\n"
    )
    files = sorted(str(path) for path in DAGS_FOLDER.glob("*.py"))
    done = subprocess.run(
        [sys.executable, "-c", code, *files], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    parsed = json.loads(done.stdout.splitlines()[-1])
    assert parsed == {path.rsplit("/", 1)[-1]: [] for path in files}


def test_training_dag_chain_and_schedule(dagbag):
    dag = dagbag.dags[TRAINING_DAG_ID]
    edges = {(task.task_id, down) for task in dag.tasks for down in task.downstream_task_ids}
    assert edges == {
        ("extract_training_data", "validate_training_data"),
        ("validate_training_data", "train_challenger"),
        ("train_challenger", "evaluate_challenger"),
        ("evaluate_challenger", "promote_or_reject"),
    }
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    timetable = dag.timetable
    expected = CronTriggerTimetable("{{ cookiecutter.retrain_schedule }}", timezone="UTC")
    assert RETRAINING_REQUESTED.name in str(timetable.asset_condition)
    assert timetable.timetable.expression == expected.expression
    assert set(dag.params) >= {"estimator", "max_features", "min_accuracy", "min_improvement"}
