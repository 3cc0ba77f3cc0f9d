"""Bake real renderings and check what a user would check."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import CONTEXT

EXPECTED_FILES = [
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "noxfile.py",
    ".pre-commit-config.yaml",
    ".gitignore",
    "dags/batch_inference.py",
    "dags/training.py",
    "scripts/start_mlflow.sh",
    "scripts/start_airflow.sh",
    "src/sentiment_pipeline/settings.py",
    "src/sentiment_pipeline/cli.py",
    "src/sentiment_pipeline/data/sample_data/reviews.csv",
    "tests/conftest.py",
    "tests/dags/test_dag_integrity.py",
    "tests/dags/test_batch_inference_run.py",
    "src/sentiment_pipeline/model/estimators.py",
    "src/sentiment_pipeline/data/synthetic.py",
    "src/sentiment_pipeline/platform/stack.py",
]
UNRENDERED = re.compile(r"\{\{|\{%|\{#|cookiecutter\.(?!json\b)")


def text_files(project):
    for path in sorted(project.rglob("*")):
        if path.is_file() and path.suffix not in {".parquet", ".db"}:
            yield path, path.read_text(encoding="utf-8")


def ruff(*args, cwd):
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=cwd, capture_output=True, text=True)


def test_default_bake_has_the_expected_layout(bake):
    project = bake()
    assert project.name == "sentiment-pipeline"
    for relative in EXPECTED_FILES:
        assert (project / relative).is_file(), relative
    assert (project / ".github/workflows/ci.yml").is_file()
    assert not (project / "tests/__pycache__").exists()


def test_nothing_is_left_unrendered(bake):
    project = bake()
    for path, text in text_files(project):
        leftovers = UNRENDERED.findall(text)
        assert not leftovers, f"{path.relative_to(project)} still holds {leftovers}"
    for path in project.rglob("*"):
        assert "{" not in path.name, path


def test_answers_reach_the_project(bake):
    project = bake(
        project_name="Review Radar",
        inference_schedule="30 6 * * 1-5",
        batch_size="250",
        registered_model_name="review_radar_model",
    )
    assert project.name == "review-radar"
    settings = (project / "src/review_radar/settings.py").read_text()
    assert 'inference_schedule: str = "30 6 * * 1-5"' in settings
    assert "batch_size: int = 250" in settings
    assert 'registered_model_name: str = "review_radar_model"' in settings
    pyproject = (project / "pyproject.toml").read_text()
    assert 'review-radar = "review_radar.cli:main"' in pyproject


@pytest.mark.parametrize("model", CONTEXT["model"])
def test_every_model_renders_and_lints(bake, model):
    project = bake(model=model)
    settings = (project / "src/sentiment_pipeline/settings.py").read_text()
    assert f'estimator: str = "{model}"' in settings
    check = ruff("check", ".", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = ruff("format", "--check", ".", cwd=project)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_shell_scripts_parse(bake):
    project = bake()
    for script in sorted((project / "scripts").glob("*.sh")):
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script.name}: {result.stderr}"


@pytest.mark.parametrize("ci", CONTEXT["ci"])
def test_ci_choice(bake, ci):
    project = bake(ci=ci)
    workflow = project / ".github/workflows/ci.yml"
    assert workflow.is_file() == (ci == "github")
    assert (project / ".github").exists() == (ci == "github")


@pytest.mark.parametrize("data_source", CONTEXT["data_source"])
def test_data_source_choice(bake, data_source):
    project = bake(data_source=data_source)
    settings = (project / "src/sentiment_pipeline/settings.py").read_text()
    assert f'data_source: str = "{data_source}"' in settings
    seeded = project / "training_data" / "reviews.csv"
    assert seeded.is_file() == (data_source == "files")
    check = ruff("check", ".", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    # The warehouse source, its command, settings, tests and docs ship with it alone.
    warehouse = [
        "src/sentiment_pipeline/data/warehouse.py",
        "tests/data/test_warehouse.py",
        "tests/dags/test_batch_inference_warehouse.py",
    ]
    for relative in warehouse:
        assert (project / relative).is_file() == (data_source == "warehouse"), relative
    if data_source != "warehouse":
        mentions = [
            f"{path.relative_to(project)}: {line.strip()}"
            for path, text in text_files(project)
            if path.suffix in {".py", ".md", ".toml", ".yml", ".yaml"}
            for line in text.splitlines()
            if re.search(r"warehouse|review_batches|batch_query", line, re.I)
            # Lineage records any URL location as an SQL dataset source.
            and "lineage" not in str(path)
        ]
        assert mentions == [], "\n".join(mentions)


# Every file of an executor=celery rendering that names Celery; with local, none does.
CELERY_FILES = {
    "pyproject.toml",
    "uv.lock",
    "README.md",
    "docs/operations.md",
    "docs/production.md",
    "deploy/compose.yaml",
    "deploy/.env.example",
    "deploy/Dockerfile",
    ".github/workflows/ci.yml",
    "src/sentiment_pipeline/settings.py",
    "src/sentiment_pipeline/platform/stack.py",
    "src/sentiment_pipeline/model/scoring.py",
    "tests/conftest.py",
    "tests/test_settings.py",
    "tests/model/test_scoring.py",
    "tests/platform/test_stack.py",
    "tests/platform/test_production_profile.py",
}


def naming_celery(project):
    return {
        path.relative_to(project).as_posix() for path, text in text_files(project) if "celery" in text.lower()
    }


@pytest.mark.parametrize("executor", CONTEXT["executor"])
def test_executor_choice(bake, executor):
    project = bake(executor=executor)
    settings = (project / "src/sentiment_pipeline/settings.py").read_text()
    worker = "airflow-worker:" in (project / "deploy" / "compose.yaml").read_text()
    assert worker == (executor == "celery")
    assert (project / "uv.lock").is_file()
    if executor == "celery":
        assert 'executor: str = "celery"' in settings
        assert "celery_workers: int = 1" in settings
        assert '"celery>=5.5,<5.7"' in (project / "pyproject.toml").read_text()
        assert naming_celery(project) == CELERY_FILES
        return
    # No setting, code, dependency (locked or not), test, doc or comment of Celery.
    assert "executor: str" not in settings
    assert naming_celery(project) == set()
    production = (project / "tests/platform/test_production_profile.py").read_text()
    assert "def test_dag_runs_in_shards_and_mlflow_lives_in_postgres" in production
    check = ruff("check", ".", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = ruff("format", "--check", ".", cwd=project)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_dependencies_are_locked(bake, monkeypatch):
    # Online, as a user's first `cookiecutter` locks (nox -s tests lets the other bakes lock offline).
    monkeypatch.delenv("UV_OFFLINE", raising=False)
    project = bake()
    lock = (project / "uv.lock").read_text()
    for package in ("apache-airflow", "mlflow", "scikit-learn"):
        assert f'name = "{package}"' in lock


@pytest.mark.parametrize("license_name", CONTEXT["license"])
def test_license_choice(bake, license_name):
    project = bake(license=license_name)
    text = (project / "LICENSE").read_text()
    first_words = {
        "MIT": "MIT License",
        "Apache-2.0": "Apache License, Version 2.0",
        "BSD-3-Clause": "BSD 3-Clause License",
        "Proprietary": "All rights reserved",
    }
    assert first_words[license_name] in text
    assert "Your Name" in text
    expected = "LicenseRef-Proprietary" if license_name == "Proprietary" else license_name
    assert f'license = "{expected}"' in (project / "pyproject.toml").read_text()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_passes_on_a_fresh_project(bake, monkeypatch):
    project = bake()
    # Its lint-imports hook installs the project with `uv run`: wheels, not just the metadata a lock reads.
    monkeypatch.delenv("UV_OFFLINE", raising=False)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_next_steps_are_the_readme_quick_start(bake, capfd):
    """What the hook prints after generation is what the README's quick start runs."""
    project = bake()
    printed = capfd.readouterr().out
    section = (project / "README.md").read_text().split("## Quick start", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    quick_start = [
        line.split("  #", 1)[0].strip()
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    steps = [line.split("  #", 1)[0].strip() for line in printed.splitlines()]
    assert quick_start, "the README has no quick start commands"
    assert [command for command in quick_start if command not in steps] == []
