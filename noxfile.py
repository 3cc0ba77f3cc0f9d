"""Template sessions. `uvx nox` runs lint, tests and generated; `uvx nox -s demo` shows it working."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests", "generated"]
nox.options.error_on_external_run = True

ROOT = Path(__file__).resolve().parent
CONTEXT = json.loads((ROOT / "cookiecutter.json").read_text())
MODELS = CONTEXT["model"]
DEFAULT_SLUG = "sentiment-pipeline"
PYTHON = "3.11"
LINTED = ["hooks", "tests", "noxfile.py"]
# Commands in the generated project must use its own .venv, not nox's.
PROJECT_ENV = {"VIRTUAL_ENV": None, "UV_PROJECT_ENVIRONMENT": None}


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff over the template's own code (the generated code is linted by the tests)."""
    session.install("ruff")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Template tests: bake every choice, lint the output, reject bad answers."""
    session.install("cookiecutter", "pytest", "pytest-cookies", "ruff", "pre-commit")
    session.run("pytest", "tests", *session.posargs)


def render(session: nox.Session, output_dir: Path, *answers: str) -> Path:
    """Render the template with cookiecutter's own CLI and return the project path."""
    session.install("cookiecutter")
    shutil.rmtree(output_dir / DEFAULT_SLUG, ignore_errors=True)
    session.run("cookiecutter", "--no-input", "--output-dir", str(output_dir), str(ROOT), *answers)
    return output_dir / DEFAULT_SLUG


@nox.session(python=PYTHON)
@nox.parametrize("model", MODELS)
def generated(session: nox.Session, model: str) -> None:
    """Render with each model, install with uv, run the generated project's whole test suite."""
    project = render(session, Path(session.create_tmp()) / model, f"model={model}")
    with session.chdir(project):
        session.run("uv", "sync", "--python", PYTHON, external=True, env=PROJECT_ENV)
        session.run("uv", "run", "pytest", *session.posargs, external=True, env=PROJECT_ENV)


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """Render the default project into ./demo, train, run the DAG once, say where things are."""
    project = render(session, ROOT / "demo")
    slug = DEFAULT_SLUG
    with session.chdir(project):
        session.run("uv", "sync", "--python", PYTHON, external=True, env=PROJECT_ENV)
        session.run("uv", "run", slug, "train", external=True, env=PROJECT_ENV)
        session.run("uv", "run", slug, "run-dag", "--date", "2026-01-15", external=True, env=PROJECT_ENV)
    session.log(
        "\n".join(
            [
                f"Demo project: {project}",
                f"  predictions:  {project / 'data' / 'predictions' / 'ds=2026-01-15'}",
                f"  summary:      {project / 'data' / 'reports' / 'ds=2026-01-15' / 'summary.md'}",
                f"  MLflow store: {project / 'mlflow.db'} (artifacts in {project / 'mlartifacts'})",
                f"  start the UIs: bash {project / 'scripts' / 'start_mlflow.sh'}",
                f"                 bash {project / 'scripts' / 'start_airflow.sh'}",
            ]
        )
    )
