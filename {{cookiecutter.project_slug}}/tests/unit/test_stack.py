"""The stack's guards and bookkeeping, without starting any server."""

from __future__ import annotations

import contextlib
import os
import socket

import pytest

from {{ cookiecutter.package_name }} import stack
from {{ cookiecutter.package_name }}.errors import PipelineError
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
    assert list((settings.stack_dir / "pids").glob("*.pid")) == []


def test_run_names_the_components_it_knows(settings):
    with pytest.raises(PipelineError, match=r"unknown component.*'webserver'"):
        stack.run_foreground(settings, ["webserver"])


def test_the_jwt_secret_is_made_once_and_kept_private(settings):
    first = stack.stack_environment(settings)["AIRFLOW__API_AUTH__JWT_SECRET"]
    second = stack.stack_environment(settings)["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert first == second and len(first) >= 32
    assert (settings.stack_dir / "jwt_secret").stat().st_mode & 0o077 == 0


def test_footprint_sums_the_processes_of_each_group(settings):
    pids = settings.stack_dir / "pids"
    pids.mkdir(parents=True)
    # This test's own process group stands in for a component.
    (pids / "mlflow.pid").write_text(str(os.getpgid(0)))
    measured = stack.footprint(settings)
    mlflow = measured["components"]["mlflow"]
    assert mlflow["processes"] >= 1
    assert 10 < mlflow["rss_mb"] == measured["total_rss_mb"]
    assert 0 < mlflow["pss_mb"] <= mlflow["rss_mb"]
