"""The stack's guards and bookkeeping, without starting any server."""

from __future__ import annotations

import contextlib
import json
import os
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


@pytest.mark.parametrize("system", ["linux", "darwin"])
def test_a_taken_port_stops_up_before_anything_starts(settings, monkeypatch, system):
    monkeypatch.setattr(sys, "platform", system)
    with contextlib.ExitStack() as held:
        listener = socket.socket()
        held.enter_context(listener)
        with contextlib.suppress(OSError):  # already taken by something else: same outcome
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", stack.MLFLOW_PORT))
            listener.listen()
        taken = f"port {stack.MLFLOW_PORT} .* already in use"
        with pytest.raises(PipelineError, match=taken) as refused:
            stack.up(settings)
    # On macOS, AirPlay Receiver is what usually holds MLflow's port.
    assert ("AirPlay Receiver" in str(refused.value)) == (system == "darwin")
    assert list((settings.platform.stack_dir / "pids").glob("*.pid")) == []


def test_run_names_the_components_it_knows(settings):
    with pytest.raises(PipelineError, match=r"unknown component.*'webserver'"):
        stack.run_foreground(settings, ["webserver"])


def test_the_jwt_secret_is_made_once_and_kept_private(settings):
    first = stack.stack_environment(settings)["AIRFLOW__API_AUTH__JWT_SECRET"]
    second = stack.stack_environment(settings)["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert first == second and len(first) >= 32
    assert (settings.platform.stack_dir / "jwt_secret").stat().st_mode & 0o077 == 0


@pytest.fixture
def unrelated_process():
    """A process the stack did not start, in its own session like a component."""
    sleeper = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield sleeper
    sleeper.kill()
    sleeper.wait()


def write_pid_file(settings, name: str, text: str):
    pids = settings.platform.stack_dir / "pids"
    pids.mkdir(parents=True, exist_ok=True)
    (pids / f"{name}.pid").write_text(text)
    return pids / f"{name}.pid"


def test_down_leaves_a_process_that_reused_a_components_pid_running(
    settings, unrelated_process, capsys
):
    # The scheduler crashed; the kernel gave its pid to another process, started later.
    create_time, _ = stack.process_identity(unrelated_process.pid)
    crashed = stack.PidRecord(
        pid=unrelated_process.pid,
        create_time=create_time - 100,
        command=[sys.executable, "-m", "airflow", "scheduler"],
    )
    write_pid_file(settings, "scheduler", crashed.as_json())

    assert cli.main(["--json", "stack", "down"]) == 0

    assert unrelated_process.poll() is None
    out, err = capsys.readouterr()
    assert json.loads(out) == {"stopped": []}
    [line] = err.splitlines()
    assert f"pid {unrelated_process.pid} is now another process" in line and "left running" in line
    assert not (settings.platform.stack_dir / "pids" / "scheduler.pid").exists()


@pytest.mark.parametrize(
    "content",
    ["", "garbage\x00\xff", "[1, 2]", '{"pid": "1"}', "PID"],
    ids=["empty", "garbage", "a list", "wrong fields", "an older stack's bare pid"],
)
def test_a_corrupt_or_foreign_pid_file_is_reported_and_left_alone(
    settings, unrelated_process, capsys, content
):
    content = content.replace("PID", str(unrelated_process.pid))
    path = write_pid_file(settings, "mlflow", content)

    assert cli.main(["--json", "stack", "down"]) == 1

    out, err = capsys.readouterr()
    assert json.loads(out) == {"stopped": []}
    [line] = err.splitlines()
    assert str(path) in line and "nothing signalled" in line
    assert path.read_text() == content
    assert unrelated_process.poll() is None
    # `up` starts nothing over it either, and `status` reports it in one line.
    with pytest.raises(PipelineError, match="not a pid file this stack wrote"):
        stack.up(settings)
    assert path.read_text() == content
    cli.main(["stack", "status"])
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_a_failed_migration_names_the_database_without_its_password(settings, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(settings.platform.stack_dir / "airflow"))
    # A misspelt driver: Airflow fails as it imports, in half the time a refused connection takes.
    database = "postgresql+psycopj://u:s3cret@127.0.0.1:1/x"
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", database)
    with pytest.raises(PipelineError) as raised:
        stack.run_foreground(settings, ["scheduler"])
    message = str(raised.value)
    assert "airflow db migrate` failed on postgresql+psycopj://u:***@127.0.0.1:1/x" in message
    assert "NoSuchModuleError" in message and "s3cret" not in message
    assert len(message.splitlines()) == 1
    # The password file is Airflow's to read, not to write: made before Airflow ran.
    passwords = (
        settings.platform.stack_dir / "airflow" / "simple_auth_manager_passwords.json.generated"
    )
    assert passwords.stat().st_mode & 0o777 == 0o600
    assert set(json.loads(passwords.read_text())) == {stack.AIRFLOW_USER}


def test_no_second_migration_while_the_stacks_airflow_runs(
    settings, monkeypatch, unrelated_process
):
    # A running scheduler migrated the database when it started: restarting a
    # crashed triggerer (or MLflow) does not migrate again, even a database it cannot reach.
    create_time, _ = stack.process_identity(unrelated_process.pid)
    scheduler = stack.PidRecord(unrelated_process.pid, create_time, ["scheduler"])
    write_pid_file(settings, "scheduler", scheduler.as_json())
    monkeypatch.setenv("AIRFLOW_HOME", str(settings.platform.stack_dir / "airflow"))
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql://u:s@127.0.0.1:1/x")
    env = stack.stack_environment(settings)
    todo = stack._startable(settings, env, ["scheduler", "triggerer"])
    assert [component.name for component in todo] == ["triggerer"]
    stack._prepare_airflow(settings, env, todo)  # would raise had it run `airflow db migrate`
    assert stack.password_file(env).exists()


def test_private_files_are_owner_only_from_the_first_byte(tmp_path):
    previous = os.umask(0)  # the loosest umask a user could have
    try:
        stack.write_private(tmp_path / "secret", "s3cret")
        with pytest.raises(FileExistsError):
            stack.write_private(tmp_path / "secret", "other", replace=False)
    finally:
        os.umask(previous)
    assert (tmp_path / "secret").read_text() == "s3cret"
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


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
        create_time, _ = stack.process_identity(sleeper.pid)
        record = stack.PidRecord(sleeper.pid, create_time, sleeper.args)
        (pids / "mlflow.pid").write_text(record.as_json())
        measured = stack.footprint(settings)
    finally:
        sleeper.kill()
        sleeper.wait()
    mlflow = measured["components"]["mlflow"]
    assert mlflow["processes"] == 1
    assert 1 < mlflow["rss_mb"] == measured["total_rss_mb"]
    if "pss" in stack.MEMORY_MEASURES:  # Linux
        assert 0 < mlflow["pss_mb"] <= mlflow["rss_mb"]
        assert measured["total_pss_mb"] == mlflow["pss_mb"]


def test_production_profile_names_every_missing_variable(settings, monkeypatch):
{%- if cookiecutter.executor == "celery" %}
    for name in [*stack.PRODUCTION_VARIABLES, *stack.CELERY_VARIABLES]:
        monkeypatch.delenv(name, raising=False)
    production = settings.with_overrides(profile="production", executor="celery")
{%- else %}
    for name in stack.PRODUCTION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    production = settings.with_overrides(profile="production")
{%- endif %}
    with pytest.raises(PipelineError) as raised:
        stack.stack_environment(production)
    message = str(raised.value)
{%- if cookiecutter.executor == "celery" %}
    for name in [*stack.PRODUCTION_VARIABLES, *stack.CELERY_VARIABLES]:
{%- else %}
    for name in stack.PRODUCTION_VARIABLES:
{%- endif %}
        assert name in message
    assert "deploy/.env.example" in message
    assert not (settings.platform.stack_dir / "jwt_secret").exists()


def test_production_profile_refuses_sqlite_and_a_shared_database(settings):
    production = settings.with_overrides(profile="production"{% if cookiecutter.executor == "celery" %}, executor="local"{% endif %})
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
