"""The local stack: MLflow's tracking server and Airflow's components as managed processes.

Each component runs in its own session (process group) with a pid file and a
log under ``.stack/``, so ``down`` can stop it and everything it forked.
Standard library only, apart from the two servers it starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.settings import (
    Settings,
    airflow_environment,
    mlflow_server_environment,
)

MLFLOW_PORT = 5000
AIRFLOW_PORT = 8080
AIRFLOW_USER = "admin"
HEALTH_TIMEOUT_SECONDS = 180


@dataclass(frozen=True)
class Component:
    name: str
    command: list[str]
    port: int | None = None


def stack_dir(settings: Settings) -> Path:
    return settings.stack_dir


def password_file(env: dict[str, str]) -> Path:
    return Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"


def stack_environment(settings: Settings) -> dict[str, str]:
    """Airflow and MLflow variables for every component, with a per-project JWT secret."""
    directory = stack_dir(settings)
    directory.mkdir(exist_ok=True)
    secret_file = directory / "jwt_secret"
    if not secret_file.is_file():
        # Generated once, kept out of git (.stack/ is ignored), shared by all components.
        secret_file.write_text(secrets.token_urlsafe(32))
        secret_file.chmod(0o600)
    env = {**os.environ, **airflow_environment(settings), **mlflow_server_environment(settings)}
    env.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", secret_file.read_text().strip())
    env.setdefault(
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://127.0.0.1:{AIRFLOW_PORT}/execution/"
    )
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", f"{AIRFLOW_USER}:admin")
    # Two LocalExecutor workers: each is a full Python with Airflow loaded.
    env["AIRFLOW__CORE__PARALLELISM"] = os.environ.get("AIRFLOW__CORE__PARALLELISM", "2")
    env.setdefault("AIRFLOW__API__WORKERS", "1")
    env.setdefault("AIRFLOW__LOGGING__BASE_LOG_FOLDER", str(directory / "logs" / "tasks"))
    # MLflow's background job runner is not needed for tracking and costs memory.
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    # Clients in the stack talk to the tracking server, not to the database file.
    env["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{MLFLOW_PORT}"
    return env


def components(env: dict[str, str]) -> list[Component]:
    python = sys.executable
    airflow = [python, "-m", "airflow"]
    return [
        Component(
            "mlflow",
            [
                python, "-m", "mlflow", "server",
                "--backend-store-uri", env["MLFLOW_BACKEND_STORE_URI"],
                "--artifacts-destination", env["MLFLOW_ARTIFACTS_DESTINATION"],
                "--host", "127.0.0.1", "--port", str(MLFLOW_PORT), "--workers", "1",
            ],
            MLFLOW_PORT,
        ),
        Component(
            "api-server",
            [*airflow, "api-server", "--host", "127.0.0.1", "--port", str(AIRFLOW_PORT)],
            AIRFLOW_PORT,
        ),
        # One machine: the api-server reads task logs from disk, so the
        # per-component log servers would only cost memory.
        Component("scheduler", [*airflow, "scheduler", "--skip-serve-logs"]),
        Component("dag-processor", [*airflow, "dag-processor"]),
        Component("triggerer", [*airflow, "triggerer", "--skip-serve-logs"]),
    ]  # fmt: skip


def _pid_file(settings: Settings, name: str) -> Path:
    return stack_dir(settings) / "pids" / f"{name}.pid"


def _log_file(settings: Settings, name: str) -> Path:
    return stack_dir(settings) / "logs" / f"{name}.log"


def running_pid(settings: Settings, name: str) -> int | None:
    path = _pid_file(settings, name)
    if not path.is_file():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return None
    return pid


def _port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _get_json(url: str, timeout: float = 5) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
    except (urllib.error.URLError, OSError):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return {"text": body.decode(errors="replace")}


def health(settings: Settings) -> dict[str, str]:
    """Each component's state as its health endpoint (or its process) reports it."""
    states = {}
    mlflow_ok = _get_json(f"http://127.0.0.1:{MLFLOW_PORT}/health")
    states["mlflow"] = "healthy" if mlflow_ok is not None else "down"
    airflow = _get_json(f"http://127.0.0.1:{AIRFLOW_PORT}/api/v2/monitor/health") or {}
    states["api-server"] = "healthy" if airflow else "down"
    for name in ("scheduler", "dag-processor", "triggerer"):
        reported = airflow.get(name.replace("-", "_"), {}).get("status")
        states[name] = reported or ("running" if running_pid(settings, name) else "down")
    return states


def up(settings: Settings) -> dict:
    """Start every component not yet running, wait until all are healthy."""
    env = stack_environment(settings)
    for sub in ("pids", "logs"):
        (stack_dir(settings) / sub).mkdir(parents=True, exist_ok=True)
    todo = [c for c in components(env) if running_pid(settings, c.name) is None]
    for component in todo:
        if component.port and _port_in_use(component.port):
            raise PipelineError(
                f"port {component.port} on 127.0.0.1 is already in use, so {component.name} cannot "
                f"start: stop what holds it (`lsof -i :{component.port}`) or run `stack down`."
            )
    if todo:
        Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    for component in todo:
        with _log_file(settings, component.name).open("ab") as log:
            process = subprocess.Popen(
                component.command,
                env=env,
                cwd=settings.project_root,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        _pid_file(settings, component.name).write_text(str(process.pid))
    started = time.monotonic()
    while True:
        states = health(settings)
        if all(state == "healthy" for state in states.values()):
            break
        if time.monotonic() - started > HEALTH_TIMEOUT_SECONDS:
            raise PipelineError(
                f"the stack is not healthy after {HEALTH_TIMEOUT_SECONDS} s ({states}): "
                f"see the logs in {stack_dir(settings) / 'logs'}."
            )
        time.sleep(1)
    return {
        "started": [c.name for c in todo],
        "already_running": [c.name for c in components(env) if c not in todo],
        "seconds_to_healthy": round(time.monotonic() - started, 1),
        "mlflow_ui": f"http://127.0.0.1:{MLFLOW_PORT}",
        "airflow_ui": f"http://127.0.0.1:{AIRFLOW_PORT}",
        "airflow_user": AIRFLOW_USER,
        "airflow_password_file": str(password_file(env)),
    }


def down(settings: Settings) -> list[str]:
    """Stop every component `up` started, and everything each one forked."""
    stopped = []
    names = [path.stem for path in (stack_dir(settings) / "pids").glob("*.pid")]
    for name in names:
        pid = running_pid(settings, name)
        if pid is not None:
            _signal_group(pid, signal.SIGTERM)
            stopped.append(name)
    deadline = time.monotonic() + 30
    for name in stopped:
        pid = int(_pid_file(settings, name).read_text())
        while group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if group_alive(pid):
            _signal_group(pid, signal.SIGKILL)
        # Killed processes take a moment to exit and be reaped.
        settle = time.monotonic() + 10
        while group_alive(pid) and time.monotonic() < settle:
            time.sleep(0.1)
    for name in names:
        _pid_file(settings, name).unlink(missing_ok=True)
    return stopped


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def group_alive(pgid: int) -> bool:
    # Reap the leader if this process started it (`up` and `down` in one
    # process, as in tests); a zombie would still count as alive.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def log_paths(settings: Settings) -> list[Path]:
    return sorted((stack_dir(settings) / "logs").glob("*.log"))
