"""Trigger and follow DAG runs through Airflow's REST API v2 (the local stack's api-server)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.platform.stack import (
    AIRFLOW_PORT,
    AIRFLOW_USER,
    password_file,
    stack_environment,
)
from {{ cookiecutter.package_name }}.redaction import redact
from {{ cookiecutter.package_name }}.settings import Settings

BASE_URL = f"http://127.0.0.1:{AIRFLOW_PORT}"
FINISHED = {"success", "failed"}


def _call(method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{BASE_URL}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        # A validation error echoes the request body, the password included.
        secrets = [token, *((body or {}).get(key) for key in ("password",))]
        detail = redact(error.read().decode(errors="replace")[:500], secrets)
        raise PipelineError(f"{method} {path} answered {error.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise PipelineError(
            f"Airflow is not reachable at {BASE_URL} ({error}): run `stack up`."
        ) from None


def access_token(settings: Settings) -> str:
    """A token from the simple auth manager, with the password it generated."""
    passwords = password_file(stack_environment(settings))
    if not passwords.is_file():
        raise PipelineError(f"{passwords} does not exist yet: run `stack up` first.")
    try:
        password = json.loads(passwords.read_text())[AIRFLOW_USER]
    except (ValueError, KeyError, TypeError):
        raise PipelineError(
            f"{passwords} has no password for {AIRFLOW_USER}: `stack down`, remove it, `stack up`."
        ) from None
    body = {"username": AIRFLOW_USER, "password": password}
    return _call("POST", "/auth/token", body=body)["access_token"]


def trigger(
    settings: Settings,
    dag_id: str,
    conf: dict,
    *,
    wait: bool,
    timeout: float,
    logical_date: str | None = None,
) -> dict:
    """Unpause ``dag_id``, start a run with ``conf``; with ``wait``, follow it to the end.

    ``logical_date`` (YYYY-MM-DD, midnight UTC) picks the partition the run
    writes; by default it is now.
    """
    token = access_token(settings)
    _call("PATCH", f"/api/v2/dags/{dag_id}", token, {"is_paused": False})
    when = f"{logical_date}T00:00:00+00:00" if logical_date else datetime.now(UTC).isoformat()
    run = _call(
        "POST", f"/api/v2/dags/{dag_id}/dagRuns", token, {"logical_date": when, "conf": conf}
    )
    result = {"dag_id": dag_id, "dag_run_id": run["dag_run_id"], "state": run["state"]}
    if not wait:
        return result
    deadline = time.monotonic() + timeout
    path = f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}"
    while result["state"] not in FINISHED:
        if time.monotonic() > deadline:
            raise PipelineError(
                f"run {run['dag_run_id']} of {dag_id} is still {result['state']} after "
                f"{timeout:g} s: follow it at {BASE_URL}/dags/{dag_id}/runs/{run['dag_run_id']}, "
                "or wait longer with --timeout."
            )
        # A GET of one run is cheap for the api-server; a 2 s poll cost a second a run on average.
        time.sleep(0.5)
        result["state"] = _call("GET", path, token)["state"]
    instances = _call("GET", f"{path}/taskInstances", token)["task_instances"]
    result["tasks"] = task_states(instances)
    return result


def task_states(instances: list[dict]) -> dict[str, str]:
    """Each task's state; a mapped task (one instance per shard) shows its instances' states.

    ``{"batch_predict": "success"}`` when every shard succeeded, else e.g.
    ``"failed: 1, success: 3"``.
    """
    states: dict[str, list[str]] = {}
    for instance in instances:
        states.setdefault(instance["task_id"], []).append(str(instance["state"]))
    return {
        task: found[0]
        if len(set(found)) == 1
        else ", ".join(f"{state}: {found.count(state)}" for state in sorted(set(found)))
        for task, found in states.items()
    }
