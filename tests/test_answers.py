"""Bad answers stop generation with one line naming the variable, and leave nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from tests.conftest import CONTEXT, TEMPLATE

BAD_ANSWERS = [
    ("project_slug", "2fast"),
    ("project_slug", "airflow"),
    ("project_slug", "My Project"),
    ("package_name", "class"),
    ("package_name", "mlflow"),
    ("package_name", "my-package"),
    ("package_name", "json"),
    ("author_email", "not-an-email"),
    ("description", 'says "hi"'),
    ("max_features", "lots"),
    ("max_features", "0"),
    ("ngram_max", "4"),
    ("inference_schedule", "daily"),
    ("inference_schedule", "@sometimes"),
    ("inference_schedule", "61 * * * *"),
    ("inference_schedule", "0 6 * *"),
    ("retrain_schedule", "weekly"),
    ("retrain_schedule", "0 25 * * *"),
    ("min_improvement", "-0.1"),
    ("min_improvement", "a bit"),
    ("monitoring_window_days", "1"),
    ("drift_psi_threshold", "0"),
    ("oov_increase_threshold", "1.5"),
    ("class_shift_threshold", "-0.2"),
    ("batch_size", "-5"),
    ("batch_size", "1.5"),
    ("retention_days", "0"),
    ("low_confidence_threshold", "1.2"),
    ("low_confidence_threshold", "0"),
    ("high_confidence_threshold", "0.5"),
    ("low_confidence_alert_pct", "101"),
    ("low_confidence_alert_pct", "ten"),
    ("min_accuracy", "1.5"),
    ("registered_model_name", "bad name!"),
    ("labels", "positive"),
    ("labels", "good,Good"),
    ("labels", "bad,so so,good"),
    ("labels", "negative,,positive"),
    ("labels", ",".join(f"star{n}" for n in range(21))),
]
# Cookiecutter itself refuses an unknown choice passed on the command line;
# the hook still checks choices that arrive through a hand-edited replay file.
BAD_CHOICES = [
    ("license", "GPL-3.0"),
    ("model", "random_forest"),
    ("ci", "jenkins"),
    ("executor", "kubernetes"),
    ("serving", "grpc"),
    ("platform", "kubernetes"),
    ("data_source", "s3"),
]
GOOD_SCHEDULES = ["@hourly", "@weekly", "0 6 * * *", "*/15 9-17 * * mon-fri", "0 0 1 jan,jul *"]


def user_config(tmp_path):
    """A cookiecutter user config that keeps replay files inside the test's directory."""
    config = tmp_path / "cookiecutter.yaml"
    config.write_text(f"replay_dir: {tmp_path / 'replay'}\ncookiecutters_dir: {tmp_path / 'templates'}\n")
    return str(config)


def generate(tmp_path, **answers):
    return cookiecutter(
        str(TEMPLATE),
        no_input=True,
        extra_context=answers,
        output_dir=str(tmp_path / "out"),
        config_file=user_config(tmp_path),
    )


@pytest.mark.parametrize(("name", "value"), BAD_ANSWERS, ids=[f"{n}={v}" for n, v in BAD_ANSWERS])
def test_bad_answer_is_rejected_cleanly(tmp_path, capfd, name, value):
    (tmp_path / "out").mkdir()
    with pytest.raises(FailedHookException):
        generate(tmp_path, **{name: value})

    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1
    assert f"{name}={value!r}" in errors[0]
    assert "expected" in errors[0]
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("schedule", GOOD_SCHEDULES)
def test_good_schedules_are_accepted(tmp_path, schedule):
    project = generate(tmp_path, inference_schedule=schedule)
    settings = Path(project) / "src" / "sentiment_pipeline" / "settings.py"
    assert f'inference_schedule: str = "{schedule}"' in settings.read_text()


def test_the_demo_with_other_labels_is_refused_in_one_line_naming_what_to_choose(tmp_path, capfd):
    (tmp_path / "out").mkdir()
    with pytest.raises(FailedHookException):
        generate(tmp_path, labels="negative,neutral,positive", data_source="demo")

    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1
    assert "data_source='demo'" in errors[0]
    assert "files or warehouse" in errors[0]
    assert list((tmp_path / "out").iterdir()) == []


def test_labels_become_the_default_of_the_labels_setting(tmp_path):
    project = generate(tmp_path, labels=" Bad, ok ,GOOD", data_source="files")
    settings = (Path(project) / "src" / "sentiment_pipeline" / "settings.py").read_text()
    assert 'DEFAULT_LABELS = (\n    "bad",\n    "ok",\n    "good",\n)' in settings
    # The sample reviews are negative,positive: not seeded as this project's training data.
    assert not (Path(project) / "training_data").exists()


def test_every_variable_has_a_prompt():
    variables = [key for key in CONTEXT if not key.startswith("_")]
    assert sorted(variables) == sorted(CONTEXT["__prompts__"])


@pytest.mark.parametrize(("name", "value"), BAD_CHOICES)
def test_unknown_choice_is_refused_before_rendering(tmp_path, name, value):
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match=f"{value} provided for choice variable {name}"):
        generate(tmp_path, **{name: value})
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(("name", "value"), BAD_CHOICES)
def test_unknown_choice_in_a_replay_file_is_rejected_by_the_hook(tmp_path, capfd, name, value):
    generate(tmp_path)
    [replay_file] = (tmp_path / "replay").glob("*.json")
    replay = json.loads(replay_file.read_text())
    replay["cookiecutter"][name] = value
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(replay))
    output = tmp_path / "again"
    output.mkdir()

    with pytest.raises(FailedHookException):
        cookiecutter(
            str(TEMPLATE), replay=str(edited), output_dir=str(output), config_file=user_config(tmp_path)
        )

    assert f"{name}={value!r}" in capfd.readouterr().err
    assert list(output.iterdir()) == []
