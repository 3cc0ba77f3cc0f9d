{%- if cookiecutter.executor == "celery" -%}
"""The production profile on real services: PostgreSQL, Redis, Celery workers, an MLflow server.

Selected with ``-m production`` (``nox -s production``). It creates throwaway
databases, runs every component as a native process under the production
profile (what deploy/compose.yaml runs in containers) with two Celery workers,
and drops the databases afterwards. It skips, saying so in one line, only when
PostgreSQL or Redis cannot be reached.
"""
{%- else -%}
"""The production profile on real services: PostgreSQL and an MLflow server, tasks in the scheduler.

Selected with ``-m production`` (``nox -s production``). It creates throwaway
databases, runs every component as a native process under the production
profile (what deploy/compose.yaml runs in containers), the LocalExecutor
running the tasks, and drops the databases afterwards. It skips, saying so in
one line, only when PostgreSQL cannot be reached.
"""
{%- endif %}

from __future__ import annotations

import json
import os
{%- if cookiecutter.executor == "celery" %}
import random
{%- endif %}
import secrets
{%- if cookiecutter.data_source == "files" %}
import shutil
{%- endif %}
import signal
import socket
import subprocess
import sys
import time
import urllib.request
{%- if cookiecutter.data_source == "warehouse" %}
from datetime import datetime
{%- endif %}
from pathlib import Path
from urllib.parse import urlsplit

import pytest
{% if cookiecutter.data_source == "files" %}
from {{ cookiecutter.package_name }}.data.schema import bundled_dataset_path
{%- endif %}
from {{ cookiecutter.package_name }}.orchestration import BATCH_INFERENCE_DAG_ID
from {{ cookiecutter.package_name }}.platform import stack
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, PACKAGE_NAME
{%- if cookiecutter.data_source != "demo" %}
from tests.synthetic import synthesize_reviews
{%- endif %}

pytestmark = pytest.mark.production

PROJECT_ROOT = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get(
    "PRODUCTION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
{%- if cookiecutter.executor == "celery" %}
REDIS = os.environ.get("PRODUCTION_TEST_REDIS", "redis://127.0.0.1:6379")
WORKERS = ("celery-worker-1", "celery-worker-2")
{%- endif %}


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=3).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def services():
{%- if cookiecutter.executor == "celery" %}
    """Throwaway Airflow and MLflow databases and a Redis database, removed afterwards."""
    if not (reachable(POSTGRES) and reachable(REDIS)):
        pytest.skip(f"production profile: PostgreSQL ({POSTGRES}) or Redis ({REDIS}) unreachable")
    import psycopg
    import redis
{%- else %}
    """Throwaway Airflow and MLflow databases, removed afterwards."""
    if not reachable(POSTGRES):
        pytest.skip(f"production profile: PostgreSQL ({POSTGRES}) unreachable")
    import psycopg
{%- endif %}

    suffix = secrets.token_hex(4)
    names = {
        "airflow": f"{PACKAGE_NAME}_airflow_{suffix}",
        "mlflow": f"{PACKAGE_NAME}_mlflow_{suffix}",
{%- if cookiecutter.data_source == "warehouse" %}
        "warehouse": f"{PACKAGE_NAME}_warehouse_{suffix}",
{%- endif %}
    }
    base = POSTGRES.rsplit("/", 1)[0]
{%- if cookiecutter.executor == "celery" %}
    redis_url = f"{REDIS}/{random.randint(1, 15)}"
{%- endif %}
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        for name in names.values():
            connection.execute(f'CREATE DATABASE "{name}"')
    try:
{%- if cookiecutter.executor == "celery" %}
        yield {**{key: f"{base}/{name}" for key, name in names.items()}, "redis": redis_url}
{%- else %}
        yield {key: f"{base}/{name}" for key, name in names.items()}
{%- endif %}
    finally:
{%- if cookiecutter.executor == "celery" %}
        redis.Redis.from_url(redis_url).flushdb()
{%- endif %}
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            for name in names.values():
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
{%- if cookiecutter.data_source == "warehouse" %}


def warehouse_url(services: dict) -> str:
    """The warehouse database as SQLAlchemy reaches it, through psycopg 3."""
    return services["warehouse"].replace("postgresql://", "postgresql+psycopg://", 1)
{%- endif %}


def production_environment(home: Path, services: dict) -> dict[str, str]:
    """What deploy/.env.example asks for, pointed at this machine's services."""
    from cryptography.fernet import Fernet

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "MLFLOW_", ENV_PREFIX))
    }
    env.update(
        {
            f"{ENV_PREFIX}HOME": str(home),
            f"{ENV_PREFIX}PROFILE": "production",
{%- if cookiecutter.data_source == "warehouse" %}
            # Invented days as rows of a PostgreSQL warehouse, seeded by `warehouse init`.
            f"{ENV_PREFIX}WAREHOUSE_URL": warehouse_url(services),
{%- elif cookiecutter.data_source == "files" %}
            # The platform is under test, not the source: invented days as files.
            f"{ENV_PREFIX}DATA_SOURCE": "files",
{%- endif %}
{%- if cookiecutter.data_source != "demo" %}
            # The schedule's own run of today finds no batch: it fails at once
            # instead of holding the DAG's one active run for batch_wait_seconds.
            f"{ENV_PREFIX}BATCH_POKE_SECONDS": "1",
            f"{ENV_PREFIX}BATCH_WAIT_SECONDS": "1",
{%- endif %}
{%- if cookiecutter.executor == "celery" %}
            f"{ENV_PREFIX}EXECUTOR": "celery",
            f"{ENV_PREFIX}CELERY_WORKERS": str(len(WORKERS)),
{%- endif %}
            f"{ENV_PREFIX}MLFLOW_BACKEND_STORE_URI": services["mlflow"],
            # Three tries 20 s apart: `stack up` restarting MLflow on a loaded 2-core
            # machine took longer than two 10 s delays, and the run failed.
            f"{ENV_PREFIX}RETRY_DELAY_SECONDS": "20",
{%- if cookiecutter.executor == "celery" %}
            # A 20,000-row batch in 4 chunks: scoring forks its worker pool inside
            # a Celery task, and the worker-kill test orphans those processes.
{%- else %}
            # A 20,000-row batch in 4 chunks: scoring forks its worker pool inside
            # each task.
{%- endif %}
            f"{ENV_PREFIX}INFERENCE_CHUNK_ROWS": "5000",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": services["airflow"],
{%- if cookiecutter.executor == "celery" %}
            "AIRFLOW__CELERY__BROKER_URL": services["redis"],
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{services['airflow']}",
{%- endif %}
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{stack.MLFLOW_PORT}",
            # Give up on an absent MLflow server after one retry, not seven with backoff.
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
{%- if cookiecutter.executor == "celery" %}
            # Notice a killed worker's task in seconds, not the default 5 minutes.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
{%- endif %}
        }
    )
    return env


def cli(env: dict[str, str], *args: str, timeout: float = 900) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", PACKAGE_NAME, "--json", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


def query(url: str, sql: str, *params) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def production(services, tmp_path_factory):
    home = tmp_path_factory.mktemp("production-home")
    (home / "dags").symlink_to(PROJECT_ROOT / "dags")
{%- if cookiecutter.data_source == "files" %}
    (home / "training_data").mkdir()
    shutil.copyfile(bundled_dataset_path(), home / "training_data" / "reviews.csv")
{%- endif %}
    env = production_environment(home, services)
    pid_dir = home / ".stack" / "pids"
    groups: set[int] = set()
    try:
        up = subprocess.Popen(
            [sys.executable, "-m", PACKAGE_NAME, "--json", "stack", "up"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Training needs only MLflow, which `up` starts first: train while Airflow comes up.
        wait_for_mlflow(up, timeout=300)
{%- if cookiecutter.data_source == "warehouse" %}
        cli(env, "warehouse", "init", "--with-sample-data")
{%- endif %}
        cli(env, "train")
        out, err = up.communicate(timeout=900)
        assert up.returncode == 0, f"stack up failed:\n{out}\n{err}"
        started = json.loads(out)
        yield {"env": env, "home": home, "started": started, "pid_dir": pid_dir, **services}
    finally:
        # Every process group that ever ran, including one restarted by a test.
        groups = {json.loads(path.read_text())["pid"] for path in pid_dir.glob("*.pid")}
        subprocess.run(
            [sys.executable, "-m", PACKAGE_NAME, "stack", "down"], cwd=PROJECT_ROOT, env=env
        )
    assert [pgid for pgid in groups if stack.group_alive(pgid)] == []


def wait_for_mlflow(up: subprocess.Popen, timeout: float) -> None:
    """Poll MLflow's health endpoint until it answers, failing at once should ``up`` fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if up.poll() is not None:
            out, err = up.communicate()
            assert up.returncode == 0, f"stack up failed:\n{out}\n{err}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{stack.MLFLOW_PORT}/health", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"MLflow did not answer within {timeout} s of `stack up`")


def component_group(production: dict, name: str) -> int:
    return json.loads((production["pid_dir"] / f"{name}.pid").read_text())["pid"]


def wait_for_task(
    url: str, run_id: str, state: str, task_id: str = "batch_predict", timeout: float = 300
) -> tuple:
    """Poll until a task (a shard, for mapped batch_predict) of the run is in ``state``.

    Returns (map_index, try_number{% if cookiecutter.executor == "celery" %}, celery id{% endif %}) of the first such task instance.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query(
            url,
            "SELECT map_index, state, try_number{% if cookiecutter.executor == "celery" %}, external_executor_id{% endif %} FROM task_instance "
            "WHERE run_id = %s AND task_id = %s ORDER BY map_index",
            run_id,
            task_id,
        )
{%- if cookiecutter.executor == "celery" %}
        for map_index, found, try_number, celery_id in rows:
            if found == state and celery_id:
                return map_index, try_number, celery_id
{%- else %}
        for map_index, found, try_number in rows:
            if found == state:
                return map_index, try_number
{%- endif %}
        time.sleep(0.2)
    raise AssertionError(f"{task_id} of {run_id} never reached {state!r} in {timeout} s")
{%- if cookiecutter.executor == "celery" %}


def shards_of(url: str, run_id: str) -> dict[int, tuple[str, int, str]]:
    """map_index -> (state, try_number, celery id) of the run's batch_predict shards."""
    rows = query(
        url,
        "SELECT map_index, state, try_number, external_executor_id FROM task_instance "
        "WHERE run_id = %s AND task_id = 'batch_predict'",
        run_id,
    )
    return {map_index: (state, tries, celery_id) for map_index, state, tries, celery_id in rows}
{%- else %}


def shards_of(url: str, run_id: str) -> dict[int, tuple[str, int]]:
    """map_index -> (state, try_number) of the run's batch_predict shards."""
    rows = query(
        url,
        "SELECT map_index, state, try_number FROM task_instance "
        "WHERE run_id = %s AND task_id = 'batch_predict'",
        run_id,
    )
    return {map_index: (state, tries) for map_index, state, tries in rows}
{%- endif %}
{%- if cookiecutter.executor == "celery" %}


def workers_that_received(home: Path, celery_task_id: str) -> list[str]:
    """The Celery workers whose log shows that they received ``celery_task_id``."""
    logs = home / ".stack" / "logs"
    return [
        worker
        for worker in WORKERS
        if any(
            celery_task_id in line and "received" in line
            for line in (logs / f"{worker}.log").read_text().splitlines()
        )
    ]
{%- endif %}


def predictions(home: Path, day: str):
    from {{ cookiecutter.package_name }}.data import storage

    return storage.read_parts(home / "data" / "predictions" / f"ds={day}")


def predictions_rows(home: Path, day: str) -> int:
    return len(predictions(home, day))


def wait_for_run(url: str, run_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [(state,)] = query(url, "SELECT state FROM dag_run WHERE run_id = %s", run_id)
        if state in ("success", "failed"):
            return state
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")
{%- if cookiecutter.executor == "celery" %}


def test_stack_starts_every_component_with_two_workers(production):
    assert set(production["started"]["started"]) == {
        "mlflow", "api-server", "scheduler", "dag-processor", "triggerer", *WORKERS,
    }  # fmt: skip


def test_dag_runs_on_celery_workers_and_mlflow_lives_in_postgres(production, capsys):
{%- else %}


def test_stack_starts_every_component(production):
    assert set(production["started"]["started"]) == {
        "mlflow", "api-server", "scheduler", "dag-processor", "triggerer",
    }  # fmt: skip


def test_dag_runs_in_shards_and_mlflow_lives_in_postgres(production, capsys):
{%- endif %}
    # 20,000 rows in 4 shards of 5,000: four mapped batch_predict tasks.
    run = cli(
        production["env"], "trigger", BATCH_INFERENCE_DAG_ID, "--date", "2026-03-01", "--wait",
        "--conf", json.dumps(day_of(production, "2026-03-01", 20_000, 5_000)),
    )  # fmt: skip
    assert run["state"] == "success", run
{%- if cookiecutter.executor == "celery" %}
    instances = query(
        production["airflow"],
        "SELECT task_id, state, external_executor_id FROM task_instance WHERE run_id = %s",
        run["dag_run_id"],
    )
    ran = {
        task: workers_that_received(production["home"], celery_id)
        for task, state, celery_id in instances
        if state == "success"
    }
    assert ran and all(len(workers) == 1 for workers in ran.values()), ran
    shards = shards_of(production["airflow"], run["dag_run_id"])
    assert sorted(shards) == [0, 1, 2, 3]
    placed = {
        index: workers_that_received(production["home"], celery_id)[0]
        for index, (state, _, celery_id) in shards.items()
    }
    assert set(placed.values()) == set(WORKERS), placed
{%- else %}
    shards = shards_of(production["airflow"], run["dag_run_id"])
    assert sorted(shards) == [0, 1, 2, 3]
    assert {state for state, _ in shards.values()} == {"success"}, shards
{%- endif %}
    sharded = predictions(production["home"], "2026-03-01")
    assert len(sharded) == 20_000 and sharded["id"].is_unique

    # The same snapshot again in one shard (a DAG run cannot repeat a logical
    # date, so the CLI's predict): row for row, bit for bit the same predictions.
    one_shard = {**production["env"], f"{ENV_PREFIX}SHARD_ROWS": "20000"}
    again = cli(one_shard, "predict", "--date", "2026-03-01")
    assert (again["shards"], again["rows"]) == (1, 20_000), again
    whole = predictions(production["home"], "2026-03-01")
    assert list(whole["id"]) == list(sharded["id"])
    assert whole["prediction"].equals(sharded["prediction"])
    assert whole["confidence"].to_numpy().tobytes() == sharded["confidence"].to_numpy().tobytes()
    with capsys.disabled():
{%- if cookiecutter.executor == "celery" %}
        print(
            "\n4 shards on Celery: "
            + ", ".join(f"shard {index + 1} on {placed[index]}" for index in sorted(placed))
            + f"; {len(sharded):,} rows, equal bit for bit to the one-shard rerun"
        )
{%- else %}
        print(f"\n4 shards: {len(sharded):,} rows, equal bit for bit to the one-shard rerun")
{%- endif %}

    versions = query(production["mlflow"], "SELECT name, version FROM model_versions")
    assert versions, "no model version in MLflow's PostgreSQL database"
    [(runs,)] = query(production["mlflow"], "SELECT count(*) FROM runs")
    assert runs >= 2  # the training run and this batch's inference run
    # Clients only talk HTTP: every experiment stores artifacts through the server's proxy.
    locations = query(production["mlflow"], "SELECT artifact_location FROM experiments")
    assert all(location.startswith("mlflow-artifacts:") for (location,) in locations), locations


def day_of(production: dict, day: str, rows: int, shard_rows: int) -> dict:
    """The run conf of a day of ``rows`` invented reviews in shards of ``shard_rows``.
{%- if cookiecutter.data_source == "demo" %}

    The demo invents them in the run itself.
    """
    return {"batch_size": rows, "shard_rows": shard_rows}
{%- elif cookiecutter.data_source == "warehouse" %}

    Their rows go into the warehouse's batch table, stamped at noon of ``day``.
    """
    import sqlalchemy as sa

    stamp = datetime.fromisoformat(day).replace(hour=12)
    batch = synthesize_reviews(day, rows)[["id", "text"]].assign(created_at=stamp)
    engine = sa.create_engine(warehouse_url(production))
    with engine.begin() as connection:
        batch.to_sql("review_batches", connection, if_exists="append", index=False)
    engine.dispose()
    return {"shard_rows": shard_rows}
{%- else %}

    Their batch goes where the files source reads it, complete (``_SUCCESS``).
    """
    folder = production["home"] / "data" / "incoming" / f"ds={day}"
    folder.mkdir(parents=True)
    synthesize_reviews(day, rows)[["id", "text"]].to_csv(folder / "reviews.csv", index=False)
    (folder / "_SUCCESS").touch()
    return {"shard_rows": shard_rows}
{%- endif %}


def trigger(production: dict, day: str, batch_size: int, shard_rows: int = 5_000) -> dict:
    """Start a batch-inference run for ``day`` over the REST API, without waiting."""
    conf = json.dumps(day_of(production, day, batch_size, shard_rows))
    return cli(production["env"], "trigger", BATCH_INFERENCE_DAG_ID, "--date", day, "--conf", conf)
{%- if cookiecutter.executor == "celery" %}


def test_killed_worker_shard_is_retried_alone_on_the_other_worker(production, capsys):
    home, airflow_db = production["home"], production["airflow"]
    batch_size = 20_000
    run = trigger(production, "2026-03-02", batch_size)
    # Once a worker runs a shard, kill that worker and its task outright.
    deadline = time.monotonic() + 60
    victims: list[str] = []
    while not victims and time.monotonic() < deadline:
        shard, _, celery_id = wait_for_task(airflow_db, run["dag_run_id"], "running")
        victims = workers_that_received(home, celery_id)
    [victim] = victims
    killed_at = time.monotonic()
    os.killpg(component_group(production, victim), signal.SIGKILL)

    # Once the survivor has taken the shard's retry, the victim may come back:
    # the run's last shards, and the next test, get two workers again.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state, try_number, celery_id = shards_of(airflow_db, run["dag_run_id"])[shard]
        if try_number >= 2 and celery_id and workers_that_received(home, celery_id):
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"shard {shard + 1} was not retried within 300 s of the kill")
    assert cli(production["env"], "stack", "up")["started"] == [victim]

    assert wait_for_run(airflow_db, run["dag_run_id"], timeout=600) == "success"
    finished_in = time.monotonic() - killed_at
    shards = shards_of(airflow_db, run["dag_run_id"])
    state, try_number, celery_id = shards[shard]
    assert state == "success" and try_number >= 2
    survivor = [w for w in WORKERS if w != victim]
    assert workers_that_received(home, celery_id) == survivor
    # The other shards ran once: only the killed one was retried.
    assert {i: tries for i, (_, tries, _) in shards.items() if i != shard} == dict.fromkeys(
        set(shards) - {shard}, 1
    )
    # Nothing lost, nothing written twice.
    scored = predictions(home, "2026-03-02")
    assert len(scored) == batch_size and scored["id"].is_unique
    with capsys.disabled():
        print(
            f"\nworker kill: {victim} killed while it ran shard {shard + 1} of {len(shards)}; "
            f"try {try_number} of that shard alone ran on {survivor[0]}; the run succeeded "
            f"{finished_in:.0f} s after the kill with {len(scored):,} rows"
        )
{%- endif %}


def test_mlflow_down_during_batch_predict_fails_clearly_then_retries(production, capsys):
    home, airflow_db = production["home"], production["airflow"]
    batch_size = 20_000
    run = trigger(production, "2026-03-03", batch_size)
    wait_for_task(airflow_db, run["dag_run_id"], "running")
    mlflow_group = component_group(production, "mlflow")
    os.killpg(mlflow_group, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while stack.group_alive(mlflow_group) and time.monotonic() < deadline:
        time.sleep(0.2)

    # Shards with the pinned model in the host's cache need no MLflow; the merge,
    # which logs the day's run, does.
    wait_for_task(airflow_db, run["dag_run_id"], "up_for_retry", "merge_shards", timeout=300)
    # Starts what is down, MLflow alone, without migrating Airflow's database again.
    assert cli(production["env"], "stack", "up")["started"] == ["mlflow"]
    assert wait_for_run(airflow_db, run["dag_run_id"], timeout=600) == "success"
{%- if cookiecutter.executor == "celery" %}
    _, try_number, _ = wait_for_task(airflow_db, run["dag_run_id"], "success", "merge_shards")
    assert try_number >= 2
    # Every shard succeeded at its first try, MLflow down or not.
    assert {tries for _, tries, _ in shards_of(airflow_db, run["dag_run_id"]).values()} == {1}
{%- else %}
    _, try_number = wait_for_task(airflow_db, run["dag_run_id"], "success", "merge_shards")
    assert try_number >= 2
    # Every shard succeeded at its first try, MLflow down or not.
    assert {tries for _, tries in shards_of(airflow_db, run["dag_run_id"]).values()} == {1}
{%- endif %}
    [first_try_log] = (home / ".stack" / "logs" / "tasks").glob(
        f"dag_id={BATCH_INFERENCE_DAG_ID}/run_id={run['dag_run_id']}/task_id=merge_shards/attempt=1.log"
    )
    assert (
        "MLflow tracking server at http://127.0.0.1:5000 did not answer"
        in first_try_log.read_text()
    )
    assert predictions_rows(home, "2026-03-03") == batch_size
    with capsys.disabled():
        print(
            "\nMLflow down: every shard scored at its first try from the model cache; "
            f"merge_shards try 1 failed with the clear message, try {try_number} succeeded"
        )

{%- if cookiecutter.executor == "celery" %}


def test_a_worker_that_does_not_answer_is_not_called_healthy(production):
    # A stopped worker's process is alive, but it answers no ping through the broker.
    group = component_group(production, "celery-worker-1")
    os.killpg(group, signal.SIGSTOP)
    try:
        status = subprocess.run(
            [sys.executable, "-m", PACKAGE_NAME, "--json", "stack", "status"],
            cwd=PROJECT_ROOT,
            env=production["env"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        os.killpg(group, signal.SIGCONT)
    health = json.loads(status.stdout)["health"]
    assert health["celery-worker-1"] == "running"
    assert health["celery-worker-2"] == "healthy"
    assert status.returncode == 3
{%- endif %}
