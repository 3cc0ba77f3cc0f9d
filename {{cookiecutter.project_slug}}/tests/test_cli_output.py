"""What a person sees of a command: a few lines of its own, libraries' chatter in its log file.

Run through main() with the file descriptors captured (capfd), as a terminal
would show them: MLflow's handler, Python warnings and anything written to
fd 1 or 2 during the command must land in the log, not on the screen.
"""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import cli, terminal
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX

LIBRARY_MARKS = ("INFO", "mlflow", "UserWarning", "Warning:")


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    folder = tmp_path / "logs"
    monkeypatch.setenv(f"{ENV_PREFIX}LOG_DIR", str(folder))
    return folder


def assert_no_library_line(text: str) -> None:
    assert not [mark for mark in LIBRARY_MARKS if mark in text], text


def test_train_says_the_verdict_the_scores_and_the_page(
    champion_store, champion, log_dir, monkeypatch, capfd
):
    # A small vocabulary: quick, and the gate refuses it against the session's champion.
    monkeypatch.setenv(f"{ENV_PREFIX}MAX_FEATURES", "50")
    # A library's warning during the command, whichever source the project reads.
    from {{ cookiecutter.package_name }}.steps import training

    extract = training.extract

    def extract_with_a_warning(*args, **kwargs):
        warnings.warn("a library's deprecation notice", UserWarning, stacklevel=2)
        return extract(*args, **kwargs)

    monkeypatch.setattr(training, "extract", extract_with_a_warning)
    assert cli.main(["train", "--date", "2026-02-02"]) == cli.EXIT_REJECTED
    out, err = capfd.readouterr()

    assert_no_library_line(out + err)
    first, trained, _, header, challenger, holder, _, page = out.splitlines()
    assert first.startswith("Version ") and " was not promoted: " in first
    assert trained.startswith("Trained on ") and "hold-out" in trained
    assert header.split() == ["accuracy", "hold-out", "reference"]
    assert challenger.split()[:2] == ["version", first.split()[1]]
    assert holder.split()[:2] == ["champion", f"(v{champion['model_version']})"]
    assert page.startswith("Evaluation page: ") and page.endswith("comparison.html")
    # The one-line error names the log, which holds what MLflow and warnings said.
    log = log_dir / "train.log"
    assert err.startswith("error: version ") and err.count("\n") == 1
    assert err.rstrip().endswith(f"(log: {terminal.shown_path(log)})")
    logged = log.read_text()
    assert "=== " in logged and " train --date 2026-02-02" in logged
    assert "py.warnings" in logged and "a library's deprecation notice" in logged
    assert "mlflow" in logged


def test_predict_input_says_rows_rejects_and_output_or_all_of_it_as_json(
    champion_store, champion, tmp_path, log_dir, capfd
):
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"text": ["I would buy it again", "", "Fell apart within a week"]}).to_csv(
        path, index=False
    )

    assert cli.main(["predict", "--input", str(path)]) == 0
    out, err = capfd.readouterr()
    assert_no_library_line(out + err)
    assert out.splitlines() == [
        f"Scored 2 rows with model version {champion['model_version']}.",
        f"Rejected 1 row: {terminal.shown_path(tmp_path / 'reviews.predictions.rejects.csv')}",
        f"Predictions: {terminal.shown_path(tmp_path / 'reviews.predictions.csv')}",
    ]

    # --json after the command as well as before it: the whole result, as before.
    assert cli.main(["predict", "--input", str(path), "--json"]) == 0
    result = json.loads(capfd.readouterr().out)
    assert result == {
        "input": str(path),
        "output": str(tmp_path / "reviews.predictions.csv"),
        "rows": 2,
        "rejected_rows": 1,
        "rejects": str(tmp_path / "reviews.predictions.rejects.csv"),
        "model_version": champion["model_version"],
    }
    assert (log_dir / "predict.log").is_file()


def test_json_goes_before_or_after_the_command_and_a_person_gets_key_values(
    isolated_store, log_dir, capfd
):
    argv = ["cleanup", "--date", "2026-02-05", "--retention-days", "10"]
    assert cli.main(["--json", *argv]) == 0
    before = json.loads(capfd.readouterr().out)
    assert cli.main([*argv, "--json"]) == 0
    assert json.loads(capfd.readouterr().out) == before

    assert cli.main(argv) == 0
    out = capfd.readouterr().out
    assert not out.startswith("{") and "deleted: none" in out


def test_a_failure_names_the_log_that_holds_its_story(isolated_data, log_dir, capfd):
    assert cli.main(["extract", "--date", "2026-02-05"]) == cli.EXIT_FAILED
    err = capfd.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert f"(log: {terminal.shown_path(log_dir / 'extract.log')})" in err
    assert "the command failed" in (log_dir / "extract.log").read_text()


def test_the_dag_run_summary_reads_airflow_s_lines():
    watch = terminal.DagWatch()
    lines = [
        "[info] Task instance state updated [x] new_state=success rows_affected=1",
        "[info] [DAG TEST] end task task_id=extract_batch map_index=-1 [airflow]",
        "[info] Task instance state updated [x] new_state=skipped rows_affected=1",
        "[info] [DAG TEST] end task task_id=request_retraining map_index=-1 [airflow]",
        "DagRun Finished: dag_id=d, run_id=manual__2026-03-01T00:00:00+00:00, "
        "run_start_date=2026-03-01, state=success, run_type=manual,",
    ]
    assert sum(watch.read(line) for line in lines) == 2
    assert (watch.run_id, watch.state) == ("manual__2026-03-01T00:00:00+00:00", "success")
    tasks = {**watch.tasks, "batch_predict": ["success", "success", "failed"]}
    assert terminal.dag_lines("d", "2026-03-01", "failed", tasks, []) == [
        "d 2026-03-01: failed",
        "  extract_batch       success",
        "  request_retraining  skipped",
        "  batch_predict       success 2, failed 1 (of 3 mapped)",
    ]
