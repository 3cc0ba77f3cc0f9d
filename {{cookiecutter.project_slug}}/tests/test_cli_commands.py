"""The commands a person runs by hand, through the CLI's main(): what they print and leave.

A day of the {% if cookiecutter.data_source == "warehouse" %}warehouse{% else %}files{% endif %} source runs extract, predict, publish, monitor, report and
lineage once against the session's champion; every other case needs no model.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
{%- if cookiecutter.data_source == "warehouse" %}
import sqlalchemy as sa
{%- endif %}

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.readers import read_table
from {{ cookiecutter.package_name }}.data.schema import bundled_dataset_path
from {{ cookiecutter.package_name }}.data.sources import source_for
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, load_settings
{%- if cookiecutter.data_source == "warehouse" %}
from {{ cookiecutter.package_name }}.steps.sample_batch import deliver_batch
{%- endif %}
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect

DAY = "2026-04-01"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of the command ``argv``."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:  # argparse refuses before any command runs
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    # Less the log file it names (tests/test_cli_output.py).
    return re.sub(r" \(log: [^()]*\.log\)$", "", err.removeprefix("error: ").strip())


def use_real_source(monkeypatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}DATA_SOURCE", "{% if cookiecutter.data_source == "warehouse" %}warehouse{% else %}files{% endif %}")
{%- if cookiecutter.data_source == "demo" %}


def test_generate_data_writes_the_demo_batch_and_its_late_labels(isolated_data, capsys):
    code, out, _ = run(capsys, "--json", "generate-data", "--date", DAY, "--batch-size", "25")

    assert code == 0
    result = json.loads(out)
    batch = storage.partition_dir(isolated_data.data.data_dir, storage.BATCHES, DAY)
    assert result["path"] == str(batch / storage.BATCH_FILE)
    assert len(pd.read_parquet(result["path"])) == 25
    assert Path(result["labels_path"]).parent == Path(isolated_data.data.feedback_dir)


def test_generate_data_refuses_a_real_source(isolated_data, monkeypatch, capsys):
    use_real_source(monkeypatch)

    code, out, err = run(capsys, "generate-data", "--date", DAY)

    assert (code, out) == (1, "")
    assert one_line_error(err).startswith("generate-data writes invented reviews")
    assert not isolated_data.data.data_dir.exists()
{%- endif %}


def test_extract_says_where_the_day_s_batch_belongs(isolated_data, monkeypatch, capsys):
    use_real_source(monkeypatch)

    code, _, err = run(capsys, "extract", "--date", DAY)

    where = source_for(load_settings()).batch_location(DAY)
    assert code == 1
    assert one_line_error(err) == f"no batch for {DAY} at {where}: put the day's data there first."
{%- if cookiecutter.data_source == "demo" %}


def test_extract_has_nothing_to_do_for_the_demo(isolated_data, capsys):
    code, _, err = run(capsys, "extract", "--date", DAY)

    assert code == 1
    assert one_line_error(err).startswith("the demo invents its batches: run generate-data")
{%- endif %}


def test_publish_before_predict_says_to_predict(isolated_store, monkeypatch, capsys):
    use_real_source(monkeypatch)

    code, _, err = run(capsys, "publish", "--date", DAY)

    assert code == 1
    assert one_line_error(err) == f"no batch-inference run for {DAY}: run predict first."


def test_report_before_the_day_ran_says_what_to_run(isolated_data, capsys):
    code, _, err = run(capsys, "report", "--date", DAY)

    assert code == 1
    assert re.fullmatch(
        rf".* is missing: run batch_predict and monitor_model for {DAY}\.", one_line_error(err)
    )


def test_lineage_before_the_day_ran_says_what_to_run(isolated_data, capsys):
    code, _, err = run(capsys, "model", "lineage", DAY)

    predictions = storage.partition_dir(isolated_data.data.data_dir, storage.PREDICTIONS, DAY)
    assert code == 1
    assert one_line_error(err) == (
        f"no predictions for {DAY} in {predictions}: run the batch-inference DAG first."
    )


def test_lineage_needs_a_date(capsys):
    code, _, err = run(capsys, "model", "lineage", "yesterday")

    assert code == 2 and "'yesterday' is not a date: use YYYY-MM-DD" in err


def test_run_dag_refuses_a_bad_date_before_starting_airflow(capsys):
    code, out, err = run(capsys, "run-dag", "--date", "2026-13-01")

    assert (code, out) == (2, "")
    assert "--date: '2026-13-01' is not a date: use YYYY-MM-DD" in err


@pytest.mark.scenario  # Airflow's own CLI, twice: about 8 s of CPU
def test_run_dag_of_a_dag_that_is_not_there_is_one_line(airflow_db, capsys):
    code, _, err = run(capsys, "run-dag", "--dag", "nosuch", "--date", "2026-03-01")

    dags = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
    log = Path(os.environ[f"{ENV_PREFIX}LOG_DIR"]) / "run-dag.log"
    assert (code, err.splitlines()) == (
        2,
        [
            f"error: no DAG 'nosuch' in {dags}: this project's are {cli.BATCH_INFERENCE_DAG} "
            f"and {cli.TRAINING_DAG} (a DAG file that fails to parse says why with "
            "`uv run python dags/<file>.py`). "
            f"(log: {cli.terminal.shown_path(log)})"
        ],
    )


def test_a_day_by_hand_extract_predict_publish_monitor_report_lineage(
    champion_store, monkeypatch, capsys
):
    use_real_source(monkeypatch)
    # 30 rows: a pool of scoring processes would cost more than it saves.
    monkeypatch.setenv(f"{ENV_PREFIX}INFERENCE_WORKERS", "1")
    settings = load_settings()
    reviews = read_table(bundled_dataset_path()).head(30)
    batch = reviews.assign(id=[f"r-{n}" for n in range(30)])[["id", "text"]]
{%- if cookiecutter.data_source == "warehouse" %}
    deliver_batch(source_for(settings), storage.as_date(DAY), batch)
{%- else %}
    incoming = Path(settings.data.incoming_dir) / f"ds={DAY}"
    incoming.mkdir(parents=True)
    batch.to_csv(incoming / "reviews.csv", index=False)
{%- endif %}
    champion = registry.champion_version(connect(settings), settings).version

    code, out, _ = run(capsys, "--json", "extract", "--date", DAY)
    assert code == 0 and json.loads(out)["rows"] == 30

    assert run(capsys, "predict", "--date", DAY)[0] == 0

    code, out, _ = run(capsys, "--json", "publish", "--date", DAY)
    assert code == 0
    published = json.loads(out)
{%- if cookiecutter.data_source == "warehouse" %}
    assert published["location"] == source_for(settings).predictions_location()
    engine = sa.create_engine(settings.data.warehouse_url)
    delivered = pd.read_sql(sa.text(f"SELECT * FROM {settings.data.predictions_table}"), engine)
    engine.dispose()
{%- else %}
    delivered = pd.read_parquet(published["location"])
    assert Path(published["location"]).parent == Path(settings.data.outgoing_dir) / f"ds={DAY}"
{%- endif %}
    assert published["rows"] == len(delivered) == 30
    assert set(delivered["model_version"]) == {str(champion)}

    code, out, _ = run(capsys, "--json", "label-requests", "--date", DAY)
    requested = json.loads(out)
    # Fewer rows than the budget: every row is asked for, and the random part
    # (0.3 of 100) takes all 30, so the day's accuracy is the whole batch's.
    assert code == 0 and (requested["requested"], requested["random"]) == (30, 30)

    assert run(capsys, "monitor", "--date", DAY)[0] == 0

    code, out, _ = run(capsys, "report", "--date", DAY)
    assert code == 0
    report = Path(out.strip())
    assert report.is_file() and DAY in report.read_text()

    code, out, _ = run(capsys, "--json", "model", "lineage", DAY)
    assert code == 0
    lineage = json.loads(out)
    assert lineage["rows"] == 30 and lineage["inference_run_id"]
    [model] = lineage["models"]
    assert model["model_version"] == str(champion) and model["training_datasets"]

{%- if cookiecutter.data_source == "demo" %}

    monkeypatch.setenv(f"{ENV_PREFIX}DATA_SOURCE", "demo")
    code, _, err = run(capsys, "publish", "--date", DAY)
    assert code == 1
    assert one_line_error(err) == "the demo keeps its predictions in the data directory only."
{%- endif %}
{%- if cookiecutter.platform == "local" %}


def test_stack_logs_before_stack_up_says_to_start_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(f"{ENV_PREFIX}STACK_DIR", str(tmp_path / ".stack"))

    code, _, err = run(capsys, "stack", "logs")

    assert code == 1
    assert one_line_error(err) == "no stack logs yet: run `stack up` first."


def test_stack_logs_prints_the_last_lines_of_every_log(tmp_path, monkeypatch, capfd):
    logs = tmp_path / ".stack" / "logs"
    logs.mkdir(parents=True)
    (logs / "mlflow.log").write_text("".join(f"mlflow line {n}\n" for n in range(100)))
    (logs / "scheduler.log").write_text("scheduler started\n")
    monkeypatch.setenv(f"{ENV_PREFIX}STACK_DIR", str(tmp_path / ".stack"))

    assert cli.main(["stack", "logs"]) == 0

    out = capfd.readouterr().out
    assert "mlflow line 99" in out and "mlflow line 60" in out
    assert "mlflow line 59" not in out  # the last 40 lines, not the whole file
    assert "scheduler started" in out
{%- endif %}
