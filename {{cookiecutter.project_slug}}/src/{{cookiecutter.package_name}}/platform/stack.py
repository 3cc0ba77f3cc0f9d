"""The local stack: MLflow's tracking server and Airflow's components as managed processes.

Each component runs in its own session (process group) with a pid file and a
log under ``.stack/``, so ``down`` can stop it and everything it forked. The
pid file also records the process's start time, so a pid the kernel has since
given to another process is never signalled. Every file the stack writes is
owner-only from its first byte (secrets, logs, pid files), and every component
starts with a private umask, so the files Airflow and MLflow write are too.
Processes are read through psutil, so the same code runs on Linux and macOS.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
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
from urllib.parse import urlsplit

import psutil

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.redaction import redact
from {{ cookiecutter.package_name }}.settings import (
    ENV_PREFIX,
    Settings,
    airflow_environment,
    mlflow_server_environment,
)

MLFLOW_PORT = 5000
AIRFLOW_PORT = 8080
AIRFLOW_USER = "admin"
HEALTH_TIMEOUT_SECONDS = 180
# macOS's AirPlay Receiver listens on port 5000, MLflow's, unless turned off.
AIRPLAY_NOTE = (
    " On macOS that is usually AirPlay Receiver: turn it off in System Settings,"
    " General, AirDrop & Handoff."
)
# Files the components create are the owner's only: logs and databases may hold secrets.
PRIVATE_UMASK = 0o077
# How far a process's start time may drift between two readings (the wall clock
# moved): a reused pid belongs to a process started after the recorded one
# exited, which no pid space wraps around within a second.
SAME_START_SECONDS = 1.0
# PSS splits the pages processes share between them: Linux only. macOS's USS
# needs task_for_pid(), which is refused for any other process of the user and
# can hang (psutil issue 2885), so there the stack reports RSS alone.
MEMORY_MEASURES = ("rss", "pss") if psutil.LINUX else ("rss",)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Component:
    name: str
    command: list[str]
    port: int | None = None


def stack_dir(settings: Settings) -> Path:
    return settings.platform.stack_dir


def password_file(env: dict[str, str]) -> Path:
    configured = env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
    return Path(
        configured or Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"
    )


def write_private(path: Path, text: str, *, replace: bool = True) -> None:
    """Write ``text`` to ``path`` atomically, owner-only (0600) from the first byte.

    With ``replace=False`` an existing file wins (FileExistsError), so two
    concurrent writers cannot leave two different secrets behind.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # O_EXCL and O_NOFOLLOW: never write through a file or link someone else planted.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _open_private_log(path: Path) -> int:
    """A log file descriptor for appending, owner-only, also when an older stack made it 0644."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


# The production profile takes these from the environment (deploy/.env.example)
# and never falls back to a default: a generated secret or a SQLite file there
# would be a silent misconfiguration.
PRODUCTION_VARIABLES = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "Airflow's metadata database, on PostgreSQL",
    "AIRFLOW__API_AUTH__JWT_SECRET": "the secret every Airflow component signs tokens with",
    "AIRFLOW__CORE__FERNET_KEY": "the key Airflow encrypts connections and variables with",
    "MLFLOW_TRACKING_URI": "the MLflow server's http(s) URL, which every client uses",
    f"{ENV_PREFIX}MLFLOW_BACKEND_STORE_URI": "MLflow's own PostgreSQL database, not Airflow's",
}
{%- if cookiecutter.executor == "celery" %}
CELERY_VARIABLES = {
    "AIRFLOW__CELERY__BROKER_URL": "the Redis broker, e.g. redis://redis:6379/0",
    "AIRFLOW__CELERY__RESULT_BACKEND": "e.g. db+postgresql://... (Airflow's database)",
}
{%- endif %}


def production_problems(settings: Settings, environ: dict[str, str]) -> list[str]:
    """What keeps ``environ`` from being a usable production profile, one line each."""
{%- if cookiecutter.executor == "celery" %}
    required = {
        **PRODUCTION_VARIABLES,
        **(CELERY_VARIABLES if settings.platform.executor == "celery" else {}),
    }
    problems = [
        f"{name} is not set: {why}" for name, why in required.items() if not environ.get(name)
    ]
{%- else %}
    problems = [
        f"{name} is not set: {why}"
        for name, why in PRODUCTION_VARIABLES.items()
        if not environ.get(name)
    ]
{%- endif %}
    airflow_db = environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    mlflow_db = environ.get(f"{ENV_PREFIX}MLFLOW_BACKEND_STORE_URI", "")
    if airflow_db.startswith("sqlite"):
        problems.append("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN is SQLite: use PostgreSQL")
    if mlflow_db.startswith("sqlite"):
        problems.append(f"{ENV_PREFIX}MLFLOW_BACKEND_STORE_URI is SQLite: use PostgreSQL")
    if airflow_db and _database(airflow_db) == _database(mlflow_db):
        # Both keep an Alembic version table: one schema for both breaks migrations.
        problems.append("Airflow and MLflow use the same database: give each its own")
    tracking = environ.get("MLFLOW_TRACKING_URI", "")
    if tracking and not tracking.startswith(("http://", "https://")):
        problems.append("MLFLOW_TRACKING_URI must be the server's http(s) URL, not a store")
    return problems


def _database(url: str) -> tuple:
    """Host, port and database name of a SQLAlchemy URL (credentials and driver aside)."""
    parts = urlsplit(url)
    return parts.hostname, parts.port, parts.path


def stack_environment(settings: Settings) -> dict[str, str]:
    """Airflow and MLflow variables for every component of the configured profile."""
    directory = _private_dir(stack_dir(settings))
    env = {**os.environ, **airflow_environment(settings), **mlflow_server_environment(settings)}
    if settings.platform.profile == "production":
        problems = production_problems(settings, dict(os.environ))
        if problems:
            raise PipelineError(
                f"the production profile is not configured ({ENV_PREFIX}PROFILE=production): "
                + "; ".join(problems)
                + ". deploy/.env.example lists every variable."
            )
    else:
        secret_file = directory / "jwt_secret"
        # Generated once, kept out of git (.stack/ is ignored), shared by all components.
        with contextlib.suppress(FileExistsError):
            write_private(secret_file, secrets.token_urlsafe(32), replace=False)
        secret_file.chmod(0o600)  # made 0644 by an older version of the stack
        env.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", secret_file.read_text().strip())
        # One LocalExecutor worker: each is a full Python with Airflow loaded
        # (~130 MB), and the DAGs are chains. Export AIRFLOW__CORE__PARALLELISM for more.
        env["AIRFLOW__CORE__PARALLELISM"] = os.environ.get("AIRFLOW__CORE__PARALLELISM", "1")
        # Clients in the stack talk to the tracking server, not to the database file.
        env["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{MLFLOW_PORT}"
    env.setdefault(
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://127.0.0.1:{AIRFLOW_PORT}/execution/"
    )
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", f"{AIRFLOW_USER}:admin")
    env.setdefault(
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
        str(Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"),
    )
    env.setdefault("AIRFLOW__API__WORKERS", "1")
    # The host the api-server binds (also passed as --host): left at Airflow's
    # 0.0.0.0, the simple auth manager warns that this looks like production.
    env.setdefault("AIRFLOW__API__HOST", "127.0.0.1")
    env.setdefault("AIRFLOW__LOGGING__BASE_LOG_FOLDER", str(directory / "logs" / "tasks"))
    # Task logs can hold whatever a task prints; Airflow's defaults are 0664 and 0775.
    env.setdefault("AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS", "0o600")
    env.setdefault("AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS", "0o700")
    # MLflow's background job runner is not needed for tracking and costs memory.
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    # No MLflow loader may unpickle: the project loads its skops models itself,
    # with the trusted types its own code lists (tracking/registry.py).
    env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "false"
    return env


def components(settings: Settings, env: dict[str, str]) -> list[Component]:
    python = sys.executable
    airflow = [python, "-m", "airflow"]
    # The backend store URI (a database password in production) and the artifact
    # destination reach `mlflow server` through MLFLOW_BACKEND_STORE_URI and
    # MLFLOW_ARTIFACTS_DESTINATION in its environment: a command line is
    # visible to every user of the machine (`ps`), an environment is not.
    chosen = [
        Component(
            "mlflow",
            [
                python, "-m", "{{ cookiecutter.package_name }}.platform.mlflow_server",
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
{%- if cookiecutter.executor == "celery" %}
    if settings.platform.profile == "production" and settings.platform.executor == "celery":
        chosen += [
            Component(
                f"celery-worker-{i}",
                [*airflow, "celery", "worker", "--concurrency", "1", "--skip-serve-logs",
                 "--celery-hostname", _celery_node(str(i))],
            )
            for i in range(1, settings.platform.celery_workers + 1)
        ]  # fmt: skip
{%- endif %}
    return chosen


def _pid_file(settings: Settings, name: str) -> Path:
    return stack_dir(settings) / "pids" / f"{name}.pid"


def _log_file(settings: Settings, name: str) -> Path:
    return stack_dir(settings) / "logs" / f"{name}.log"


@dataclass(frozen=True)
class PidRecord:
    """What a pid file says: the process `up` started, and how to recognise it later."""

    pid: int
    # psutil's create time, in seconds since the epoch: a reused pid has a later one,
    # and so has any process after a reboot.
    create_time: float
    command: list[str]
    # The command line once the component was healthy: MLflow's launcher execs
    # uvicorn and Airflow's api-server renames itself, so the one started differs.
    cmdline: list[str] | None = None

    def as_json(self) -> str:
        return json.dumps(self.__dict__)


@dataclass(frozen=True)
class PidCheck:
    """A pid file's verdict: the component's live pid, or why there is none."""

    pid: int | None = None
    # One line for the user, when the file named something other than a live component.
    note: str | None = None
    # The file could not be read as a record of this stack: it stays, nothing is signalled.
    kept: bool = False


def process_identity(pid: int) -> tuple[float, list[str] | None] | None:
    """Create time and command line of ``pid``, or None once it is gone.

    The command line is None where there is none to read: a process that has
    exited but is not yet reaped (a zombie), or one the system will not show.
    The time is -1 for a process whose start psutil may not read (another user's).
    """
    try:
        process = psutil.Process(pid)
        create_time = process.create_time()
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:
        return -1.0, []
    try:
        with process.oneshot():
            if process.status() == psutil.STATUS_ZOMBIE:
                return create_time, None
            cmdline = process.cmdline()
    except (psutil.ZombieProcess, psutil.AccessDenied):
        return create_time, None
    except psutil.NoSuchProcess:
        return None
    # setproctitle pads a renamed process's command line with empty strings.
    while cmdline and not cmdline[-1]:
        cmdline.pop()
    return create_time, cmdline


def _record(pid: int, command: list[str], *, settled: bool = False) -> PidRecord:
    identity = process_identity(pid)
    if identity is None:
        raise PipelineError(f"process {pid} exited as soon as it started.")
    create_time, cmdline = identity
    return PidRecord(pid, create_time, command, cmdline if settled else None)


def _read_record(path: Path) -> PidRecord:
    """The record in ``path``; ValueError when it is not one this stack wrote."""
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    record = PidRecord(**data)
    if not (
        isinstance(record.pid, int)
        and record.pid > 0
        and isinstance(record.create_time, float)
        and isinstance(record.command, list)
        and (record.cmdline is None or isinstance(record.cmdline, list))
    ):
        raise ValueError("fields of the wrong type")
    return record


def check_pid_file(settings: Settings, name: str) -> PidCheck:
    """Whether ``name``'s pid file names a live process that this stack started.

    A file for a process that has exited, or whose pid now belongs to another
    process, is removed. One that is damaged or written by someone else stays,
    for the user to look at.
    """
    path = _pid_file(settings, name)
    try:
        record = _read_record(path)
    except FileNotFoundError:
        return PidCheck()
    except (OSError, ValueError, TypeError) as error:
        return PidCheck(
            note=f"{name}: {path} is not a pid file this stack wrote ({type(error).__name__}): "
            "nothing signalled, file left in place; check what it names, then remove it.",
            kept=True,
        )
    identity = process_identity(record.pid)
    if identity is None:
        path.unlink(missing_ok=True)
        return PidCheck()
    create_time, cmdline = identity
    same_process = abs(create_time - record.create_time) < SAME_START_SECONDS and (
        record.cmdline is None or cmdline is None or cmdline == record.cmdline
    )
    if not same_process:
        path.unlink(missing_ok=True)
        shown = " ".join(cmdline or [])[:60] or "?"
        return PidCheck(
            note=f"{name}: pid {record.pid} is now another process ({shown}), "
            "not the one the stack started: left running, stale pid file removed."
        )
    return PidCheck(pid=record.pid)


def running_pid(settings: Settings, name: str) -> int | None:
    return check_pid_file(settings, name).pid


def _pid_names(settings: Settings) -> list[str]:
    return sorted(path.stem for path in (stack_dir(settings) / "pids").glob("*.pid"))


def pid_file_notes(settings: Settings) -> list[str]:
    """One line for each pid file that named no live component of this stack."""
    checks = [check_pid_file(settings, name) for name in _pid_names(settings)]
    return [check.note for check in checks if check.note]


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
{%- if cookiecutter.executor == "celery" %}
    # Celery workers have no health endpoint: healthy is answering a ping
    # through the broker, which a hung or disconnected worker does not.
    workers = [name for name in _pid_names(settings) if name.startswith("celery-worker-")]
    nodes = {
        name: _celery_node(name.rsplit("-", 1)[1], socket.gethostname())
        for name in workers
        if running_pid(settings, name)
    }
    answering = _celery_workers_answering(list(nodes.values()))
    for name in workers:
        if name not in nodes:
            states[name] = "down"
        else:
            states[name] = "healthy" if nodes[name] in answering else "running"
{%- endif %}
    return states

{%- if cookiecutter.executor == "celery" %}


def _celery_node(worker: str, host: str = "%h") -> str:
    """Worker ``worker``'s Celery node name; ``%h`` is Celery's placeholder for the host name."""
    return f"worker{worker}@{host}"


def _celery_workers_answering(nodes: list[str]) -> set[str]:
    """Which of ``nodes`` answer a ping through the broker within a second."""
    broker = os.environ.get("AIRFLOW__CELERY__BROKER_URL")
    if not nodes or not broker:
        return set()
    from celery import Celery

    app = Celery(broker=broker)
    try:
        replies = app.control.ping(destination=nodes, timeout=1.0)
    except Exception as error:  # the broker is down: no worker can take tasks
        log.warning("Celery ping through %s failed: %s", redact(broker), redact(error, [broker]))
        return set()
    finally:
        app.close()
    return {node for reply in replies for node in reply}
{%- endif %}


def _startable(settings: Settings, env: dict[str, str], names: list[str] | None) -> list[Component]:
    """The chosen components that are not running yet; a taken port is an error."""
    chosen = [c for c in components(settings, env) if names is None or c.name in names]
    checks = {c.name: check_pid_file(settings, c.name) for c in chosen}
    kept = [check.note for check in checks.values() if check.kept]
    if kept:
        raise PipelineError(f"{kept[0]} `stack up` starts nothing until it is gone.")
    todo = [c for c in chosen if checks[c.name].pid is None]
    for component in todo:
        if component.port and _port_in_use(component.port):
            airplay = component.port == MLFLOW_PORT and sys.platform == "darwin"
            raise PipelineError(
                f"port {component.port} on 127.0.0.1 is already in use, so {component.name} cannot "
                f"start: stop what holds it (`lsof -i :{component.port}`) or run `stack down`."
                + (AIRPLAY_NOTE if airplay else "")
            )
    for sub in ("pids", "logs"):
        _private_dir(stack_dir(settings) / sub)
    return todo


def _prepare_airflow(settings: Settings, env: dict[str, str], todo: list[Component]) -> None:
    """Airflow's home, password file and migrated database, before any Airflow component starts."""
    if any(c.name != "mlflow" for c in todo):
        Path(env["AIRFLOW_HOME"]).mkdir(mode=0o700, parents=True, exist_ok=True)
        _airflow_passwords(env)
        _migrate_airflow(settings, env)


def _migrate_airflow(settings: Settings, env: dict[str, str]) -> None:
    """`airflow db migrate`, unless an Airflow component of this stack runs (its start migrated).

    Restarting one crashed worker or MLflow then costs no second migration
    (seconds of Airflow imports), which a task's retry delay may be waiting on.
    """
    airflow_names = [c.name for c in components(settings, env) if c.name != "mlflow"]
    if any(running_pid(settings, name) for name in airflow_names):
        return
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        umask=PRIVATE_UMASK,
    )
    if migrate.returncode != 0:
        database = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        lines = [line.strip() for line in (migrate.stderr or migrate.stdout).splitlines()]
        # The exception's line, not SQLAlchemy's "(Background on this error at: ...)".
        raised = [line for line in lines if re.match(r"[\w.]+(Error|Exception)\b", line)]
        cause = (raised or [line for line in lines if line])[-1:]
        raise PipelineError(
            redact(
                f"`airflow db migrate` failed on {database}: {' '.join(cause)}. "
                "Check that the database exists and is reachable.",
                _secret_values(env),
            )
        )


def _secret_values(env: dict[str, str]) -> list[str]:
    """The values of ``env`` that are secrets, to mask wherever they might be echoed."""
    names = ("PASSWORD", "SECRET", "FERNET_KEY", "TOKEN")
    return [value for key, value in env.items() if any(n in key.upper() for n in names)]


def _airflow_passwords(env: dict[str, str]) -> Path:
    """Airflow's simple auth manager password file, created here, owner-only, before Airflow runs.

    Airflow would generate a password for each missing user, print it to the
    api-server's output (and so to its log), and write the file with the
    process's umask. Finding every user already present, it only reads the file.
    """
    path = password_file(env)
    users = [
        entry.split(":", 1)[0].strip()
        for entry in env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")
        if entry.strip()
    ]
    try:
        passwords = json.loads(path.read_text() or "{}")
        if not isinstance(passwords, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        passwords = {}
    except (OSError, ValueError) as error:
        raise PipelineError(
            f"{path} is not Airflow's password file ({type(error).__name__}): "
            "remove it, and `stack up` writes a new one."
        ) from None
    missing = [user for user in users if user not in passwords]
    if missing:
        passwords.update({user: secrets.token_urlsafe(12) for user in missing})
        write_private(path, json.dumps(passwords) + "\n")
    path.chmod(0o600)  # made 0644 by Airflow under an older version of the stack
    return path


def _start(settings: Settings, component: Component, env: dict[str, str], output) -> int:
    # Its own session, so stopping the group also stops what the component forks.
    process = subprocess.Popen(
        component.command,
        env=env,
        cwd=settings.platform.project_root,
        stdout=output,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        umask=PRIVATE_UMASK,
    )
    record = _record(process.pid, component.command)
    write_private(_pid_file(settings, component.name), record.as_json())
    return process.pid


def _settle(settings: Settings, names: list[str]) -> None:
    """Record each healthy component's command line as it now reads, to check it on `down`."""
    for name in names:
        path = _pid_file(settings, name)
        with contextlib.suppress(OSError, ValueError, TypeError, PipelineError):
            record = _read_record(path)
            if running_pid(settings, name) == record.pid:
                settled = _record(record.pid, record.command, settled=True)
                write_private(path, settled.as_json())


def _start_logged(settings: Settings, component: Component, env: dict[str, str]) -> int:
    log_fd = _open_private_log(_log_file(settings, component.name))
    try:
        return _start(settings, component, env, log_fd)
    finally:
        os.close(log_fd)


def up(settings: Settings) -> dict:
    """Start every component not yet running, wait until all are healthy."""
    env = stack_environment(settings)
    todo = _startable(settings, env, None)
    # MLflow needs nothing from Airflow: its start (its own schema migrations
    # included) overlaps Airflow's migration instead of waiting for it.
    mlflow = [_start_logged(settings, c, env) for c in todo if c.name == "mlflow"]
    try:
        _prepare_airflow(settings, env, todo)
    except PipelineError:
        _stop_groups(mlflow)
        _pid_file(settings, "mlflow").unlink(missing_ok=True)
        raise
    for component in todo:
        if component.name != "mlflow":
            _start_logged(settings, component, env)
    started = time.monotonic()
    while True:
        states = health(settings)
        if all(state == "healthy" for state in states.values()):
            _settle(settings, [c.name for c in todo])
            break
        exited = [c.name for c in todo if not _component_alive(settings, c.name)]
        if exited:
            raise PipelineError(
                f"{', '.join(exited)} exited while starting: see {_log_file(settings, exited[0])}"
                " (`stack down` stops the rest)."
            )
        if time.monotonic() - started > HEALTH_TIMEOUT_SECONDS:
            raise PipelineError(
                f"the stack is not healthy after {HEALTH_TIMEOUT_SECONDS} s ({states}): "
                f"see the logs in {stack_dir(settings) / 'logs'}."
            )
        # Fast polls, the same deadline: each costs two refused connections and a broker ping.
        time.sleep(0.25)
    return {
        "started": [c.name for c in todo],
        "already_running": [c.name for c in components(settings, env) if c not in todo],
        "seconds_to_healthy": round(time.monotonic() - started, 1),
        "mlflow_ui": f"http://127.0.0.1:{MLFLOW_PORT}",
        "airflow_ui": f"http://127.0.0.1:{AIRFLOW_PORT}",
        "airflow_user": AIRFLOW_USER,
        "airflow_password_file": str(password_file(env)),
    }


def run_foreground(settings: Settings, names: list[str] | None = None) -> int:
    """Run the named components with their output on this terminal until Ctrl-C.

    The same commands and settings as `up`, for people who prefer a terminal per
    server (scripts/start_*.sh). When one component exits, the others are stopped.
    """
    env = stack_environment(settings)
    known = [c.name for c in components(settings, env)]
    names = names or known
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise PipelineError(f"unknown component(s) {unknown}: choose from {known}.")
    todo = _startable(settings, env, names)
    if len(todo) < len(names):
        raise PipelineError("part of the stack is already running: see `stack status`.")
    _prepare_airflow(settings, env, todo)
    pids = [_start(settings, component, env, None) for component in todo]
    if "mlflow" in names:
        print(f"MLflow UI: http://127.0.0.1:{MLFLOW_PORT}", flush=True)
    if "api-server" in names:
        print(
            f"Airflow UI: http://127.0.0.1:{AIRFLOW_PORT}  user: {AIRFLOW_USER}, password in "
            f"{password_file(env)} once the api-server is up",
            flush=True,
        )
    # Ctrl-C and `kill` stop the components too, even when started from a
    # non-interactive shell that ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        while all(group_alive(pid) for pid in pids):
            time.sleep(0.5)
        print("a component exited; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C (uv run forwards one too) must not cut the shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop_groups(pids)
        for component in todo:
            _pid_file(settings, component.name).unlink(missing_ok=True)


def down(settings: Settings) -> dict:
    """Stop every component `up` started, and everything each one forked.

    Only processes whose start time matches their pid file are signalled;
    ``left_alone`` says in one line each what was not, and why.
    """
    checks = {name: check_pid_file(settings, name) for name in _pid_names(settings)}
    stopped = [name for name, check in checks.items() if check.pid is not None]
    _stop_groups([checks[name].pid for name in stopped])
    for name in stopped:
        _pid_file(settings, name).unlink(missing_ok=True)
    return {
        "stopped": stopped,
        "left_alone": [check.note for check in checks.values() if check.note],
        "kept_pid_files": [name for name, check in checks.items() if check.kept],
    }


def _stop_groups(pgids: list[int]) -> None:
    """SIGTERM each component's processes, SIGKILL what is left after 30 s, wait for the exit."""
    for pgid in pgids:
        _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for pgid in pgids:
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)
        # Killed processes take a moment to exit and be reaped.
        settle = time.monotonic() + 10
        while group_alive(pgid) and time.monotonic() < settle:
            time.sleep(0.1)


def component_processes(pgid: int) -> list[psutil.Process]:
    """The processes of the component whose leader is ``pgid``.

    Its process group (the session `up` started it in), and whatever the leader
    forked that has left the group since.
    """
    found: dict[int, psutil.Process] = {}
    for pid in psutil.pids():
        with contextlib.suppress(OSError, psutil.Error):  # exited meanwhile, or not ours
            if os.getpgid(pid) == pgid:
                found[pid] = psutil.Process(pid)
    if pgid in found:  # the leader still leads: its descendants are the component's
        with contextlib.suppress(psutil.Error):
            for child in found[pgid].children(recursive=True):
                found.setdefault(child.pid, child)
    return list(found.values())


def _signal_group(pgid: int, sig: int) -> None:
    """``sig`` to the process group, and to the leader's descendants outside it."""
    outside = [p for p in component_processes(pgid) if _group_of(p.pid) != pgid]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
    for process in outside:
        # psutil checks the pid still names the same process before it signals.
        with contextlib.suppress(psutil.Error):
            process.send_signal(sig)


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _component_alive(settings: Settings, name: str) -> bool:
    pid = running_pid(settings, name)
    return pid is not None and group_alive(pid)


def group_alive(pgid: int) -> bool:
    """Whether any process of the component led by ``pgid`` still runs (a zombie has exited)."""
    # Reap the leader if this process started it (`up` and `down` in one
    # process, as in tests), as its parent would.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)
    for process in component_processes(pgid):
        with contextlib.suppress(psutil.Error):
            if process.status() != psutil.STATUS_ZOMBIE:
                return True
    return False


def log_paths(settings: Settings) -> list[Path]:
    return sorted((stack_dir(settings) / "logs").glob("*.log"))


def footprint(settings: Settings) -> dict:
    """Resident memory of every process of the stack, per component, in MB.

    RSS counts memory shared between a parent and its forked workers once per
    process, so the total is an upper bound; PSS (Linux) splits shared pages fairly.
    """
    groups = {running_pid(settings, name): name for name in _pid_names(settings)}
    groups.pop(None, None)
    keys = [f"{measure}_mb" for measure in MEMORY_MEASURES]
    per_component: dict[str, dict[str, float]] = {}
    for pgid, name in groups.items():
        for process in component_processes(pgid):
            try:
                measured = memory_bytes(process)
            except psutil.Error:
                continue  # the process exited while being read
            entry = per_component.setdefault(name, {"processes": 0, **dict.fromkeys(keys, 0.0)})
            entry["processes"] += 1
            for key, value in zip(keys, measured, strict=True):
                entry[key] += value / 2**20
    for entry in per_component.values():
        for key in keys:
            entry[key] = round(entry[key], 1)
    return {
        "components": per_component,
        "processes": sum(e["processes"] for e in per_component.values()),
        **{f"total_{key}": round(sum(e[key] for e in per_component.values()), 1) for key in keys},
    }


def memory_bytes(process: psutil.Process) -> tuple[int, ...]:
    """One process's memory in bytes, a value for each of MEMORY_MEASURES (RSS, then PSS on Linux).

    The PSS of another user's process, which Linux does not show, counts as its RSS.
    """
    if "pss" not in MEMORY_MEASURES:
        return (process.memory_info().rss,)
    try:
        full = process.memory_full_info()
    except psutil.AccessDenied:
        rss = process.memory_info().rss
        return rss, rss
    return full.rss, full.pss
