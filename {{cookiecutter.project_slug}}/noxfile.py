"""Sessions for this project: `uvx nox` runs lint, tests and scenarios; the others by name."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests", "scenarios"]
nox.options.error_on_external_run = True


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """Ruff lint and format check, and the import-linter contracts in pyproject.toml."""
    session.run("uv", "run", "ruff", "check", ".", external=True)
    session.run("uv", "run", "ruff", "format", "--check", ".", external=True)
    session.run("uv", "run", "lint-imports", external=True)


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The inner loop: every module, DAG integrity and one dag.test() of each DAG."""
    session.run("uv", "run", "pytest", *session.posargs, external=True)


@nox.session(venv_backend="none")
def scenarios(session: nox.Session) -> None:
    """Multi-day loops: fourteen days of drift and late labels, champion against challenger."""
    session.run("uv", "run", "pytest", "-m", "scenario", *session.posargs, external=True)

{%- if cookiecutter.platform == "local" %}


@nox.session(venv_backend="none")
def stack(session: nox.Session) -> None:
    """The README quick start on the real stack, both UIs in headless Chromium, `stack down`."""
    session.run("uv", "run", "pytest", "-m", "stack", *session.posargs, external=True)
{%- endif %}
{%- if cookiecutter.platform == "local" or cookiecutter.data_source == "warehouse" %}


@nox.session(venv_backend="none")
def production(session: nox.Session) -> None:
{%- if cookiecutter.platform == "local" and cookiecutter.executor == "celery" %}
    """The production profile on PostgreSQL and Redis (PRODUCTION_TEST_POSTGRES/_REDIS)."""
{%- elif cookiecutter.platform == "local" %}
    """The production profile on PostgreSQL (PRODUCTION_TEST_POSTGRES)."""
{%- else %}
    """The warehouse data source on PostgreSQL (PRODUCTION_TEST_POSTGRES)."""
{%- endif %}
    session.run("uv", "sync", "--extra", "production", "--compile-bytecode", external=True)
    session.run(
        "uv", "run", "--extra", "production", "pytest", "-m", "production", "-rs",
        *session.posargs, external=True,
    )  # fmt: skip
{%- endif %}
