"""scripts/estimator_tests.py: the tests a non-default `model` answer runs (nox -s generated).

The other models' sessions run only what it prints, so it must find every
way a test can reach the estimator, and a new test of each kind with it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import TEMPLATE

SCRIPT = TEMPLATE / "scripts" / "estimator_tests.py"
PACKAGE = "sentiment_pipeline"


def selected(project: Path) -> set[str]:
    """The node ids the script prints for ``project`` (a fresh process: each bake has its own package)."""
    done = subprocess.run([sys.executable, str(SCRIPT), str(project)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def modules(node_ids: set[str]) -> set[str]:
    return {node_id.split("::")[0] for node_id in node_ids}


def test_the_trainings_and_dag_runs_are_selected_and_pure_code_is_not(bake):
    project = bake(model="sgd")
    found = modules(selected(project))
    for module in (
        "tests/steps/test_training.py",  # trains with the configured estimator
        "tests/steps/test_tuning.py",  # searches the estimator's hyperparameters
        "tests/dags/test_training_run.py",  # dag.test() of the training DAG
        "tests/dags/test_batch_inference_run.py",  # dag.test() scoring with the champion
        "tests/serving/test_app.py",  # answers with the session's champion
        "tests/test_settings.py",  # asserts the rendered default
    ):
        assert module in found, module
    for module in ("tests/monitoring/test_rules.py", "tests/data/test_schema.py", "tests/test_redaction.py"):
        assert module not in found, module


NEW_SOURCE = """
def label_of(settings):
    return settings.model.estimator.upper()
"""

NEW_TESTS = f"""
import subprocess
import sys

import pytest

from {PACKAGE}.monitoring.rules import evaluate
from {PACKAGE}.reads_estimator import label_of
from tests.conftest import parse_dags, run_dag

pytestmark = pytest.mark.usefixtures("tmp_path")
CODE = "from {PACKAGE}.steps.training import run_training"


@pytest.fixture
def scored(champion_store):
    return champion_store


def helper():
    return label_of


def test_through_a_local_fixture(scored):
    assert scored


def test_through_code_in_a_string():
    subprocess.run([sys.executable, "-c", CODE], check=True)


def test_through_a_name():
    assert "complement_nb"


def test_through_a_new_source_and_a_helper():
    assert helper()


def test_through_a_dag_run(dags, isolated_store):
    run_dag(dags["x"], "2026-01-01")


def test_parsing_alone(isolated_store):
    assert parse_dags()


def test_pure(isolated_store):
    assert evaluate
"""


def test_a_new_test_of_each_kind_is_found(bake):
    project = bake(model="sgd")
    (project / "src" / PACKAGE / "reads_estimator.py").write_text(NEW_SOURCE, encoding="utf-8")
    (project / "tests" / "test_new_kinds.py").write_text(NEW_TESTS, encoding="utf-8")
    found = {node_id.split("::")[1] for node_id in selected(project) if "test_new_kinds" in node_id}
    assert found == {
        "test_through_a_local_fixture",
        "test_through_code_in_a_string",
        "test_through_a_name",
        "test_through_a_new_source_and_a_helper",
        "test_through_a_dag_run",
    }


LABEL_TESTS = f"""
from {PACKAGE}.settings import DEFAULT_LABELS, ModelSettings, load_settings

THREE = DEFAULT_LABELS if len(DEFAULT_LABELS) > 2 else ("a", "b", "c")


def label_set():
    return ",".join(THREE)


def test_through_a_helper_of_the_default():
    assert label_set()


def test_through_the_defaults():
    assert ModelSettings().labels


def test_the_suite_s_pinned_labels():
    assert load_settings().model.labels
"""


def test_the_tests_that_read_the_labels_answer_are_selected(bake):
    project = bake(model="linear_svc", labels="negative,neutral,positive", data_source="files")
    (project / "tests" / "test_label_kinds.py").write_text(LABEL_TESTS, encoding="utf-8")
    found = selected(project)
    for node_id in (
        "tests/test_labels.py::test_three_days_of_k_class_batches_with_labels_a_day_late",
        "tests/test_labels.py::test_a_k_class_champion_serves_every_class_probability_and_evaluates",
        "tests/test_labels.py::test_evaluation_and_drift_of_k_classes_match_scikit_learn",
        "tests/test_settings.py::test_the_rendered_defaults_are_valid_and_each_round_trips_through_its_variable",
    ):
        assert node_id in found, node_id
    kinds = {node_id.split("::")[1] for node_id in found if "test_label_kinds" in node_id}
    # The suite pins the labels setting to the demo's two: reading it sees no answer.
    assert kinds == {"test_through_a_helper_of_the_default", "test_through_the_defaults"}
