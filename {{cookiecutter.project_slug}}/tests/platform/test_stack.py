"""The stack's guards and bookkeeping, without starting any server."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys

import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.platform import stack
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, load_settings


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv(f"{ENV_PREFIX}STACK_DIR", str(tmp_path / "stack"))
    return load_settings()


def test_a_taken_port_stops_up_before_anything_starts(settings):
    with contextlib.ExitStack() as held:
        listener = socket.socket()
        held.enter_context(listener)
        with contextlib.suppress(OSError):  # already taken by something else: same outcome
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", stack.MLFLOW_PORT))
            listener.listen()
        with pytest.raises(PipelineError, match=f"port {stack.MLFLOW_PORT} .* already in use"):
            stack.up(settings)
    assert list((settings.platform.stack_dir / "pids").glob("*.pid")) == []


def test_run_names_the_components_it_knows(settings):
    with pytest.raises(PipelineError, match=r"unknown component.*'webserver'"):
        stack.run_foreground(settings, ["webserver"])


def test_the_jwt_secret_is_made_once_and_kept_private(settings):
    first = stack.stack_environment(settings)["AIRFLOW__API_AUTH__JWT_SECRET"]
    second = stack.stack_environment(settings)["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert first == second and len(first) >= 32
    assert (settings.platform.stack_dir / "jwt_secret").stat().st_mode & 0o077 == 0


def test_footprint_sums_the_processes_of_each_group(settings):
    pids = settings.platform.stack_dir / "pids"
    pids.mkdir(parents=True)
    # A sleeping Python in its own session stands in for a component.
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"],
        start_new_session=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # Measured before the interpreter has started, it would be a bare fork of 0.2 MB.
        assert sleeper.stdout.readline().strip() == "ready"
        (pids / "mlflow.pid").write_text(str(sleeper.pid))
        measured = stack.footprint(settings)
    finally:
        sleeper.kill()
        sleeper.wait()
    mlflow = measured["components"]["mlflow"]
    assert mlflow["processes"] == 1
    assert 1 < mlflow["rss_mb"] == measured["total_rss_mb"]
    assert 0 < mlflow["pss_mb"] <= mlflow["rss_mb"]


def test_production_profile_names_every_missing_variable(settings, monkeypatch):
    for name in [*stack.PRODUCTION_VARIABLES, *stack.CELERY_VARIABLES]:
        monkeypatch.delenv(name, raising=False)
    production = settings.with_overrides(profile="production", executor="celery")
    with pytest.raises(PipelineError) as raised:
        stack.stack_environment(production)
    message = str(raised.value)
    for name in [*stack.PRODUCTION_VARIABLES, *stack.CELERY_VARIABLES]:
        assert name in message
    assert "deploy/.env.example" in message
    assert not (settings.platform.stack_dir / "jwt_secret").exists()


def test_production_profile_refuses_sqlite_and_a_shared_database(settings):
    production = settings.with_overrides(profile="production", executor="local")
    environ = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://db/pipeline",
        f"{ENV_PREFIX}MLFLOW_BACKEND_STORE_URI": "postgresql://db/pipeline",
        "AIRFLOW__API_AUTH__JWT_SECRET": "x" * 32,
        "AIRFLOW__CORE__FERNET_KEY": "key",
        "MLFLOW_TRACKING_URI": "sqlite:///mlflow.db",
    }
    problems = stack.production_problems(production, environ)
    assert any("same database" in p for p in problems)
    assert any("http(s) URL" in p for p in problems)
    environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = "sqlite:////tmp/airflow.db"
    assert any("is SQLite" in p for p in stack.production_problems(production, environ))


def test_options_belong_to_the_subcommand_they_apply_to(capsys):
    with pytest.raises(SystemExit):
        cli.main(["stack", "up", "--follow"])
    assert "unrecognized arguments: --follow" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["stack", "status", "mlflow"])
    assert "unrecognized arguments: mlflow" in capsys.readouterr().err
