"""Airflow's REST API refusing, absent or unconfigured: one line each, never the password."""

from __future__ import annotations

import json
import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.platform import airflow_api
from {{ cookiecutter.package_name }}.platform.stack import (
    AIRFLOW_USER,
    password_file,
    stack_environment,
)
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, load_settings

PASSWORD = "pa55-word-of-the-stack"


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv(f"{ENV_PREFIX}STACK_DIR", str(tmp_path / "stack"))
    return load_settings()


def write_passwords(settings, content: str):
    path = password_file(stack_environment(settings))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def test_a_password_file_without_the_user_says_how_to_renew_it(settings):
    path = write_passwords(settings, json.dumps({"someone-else": PASSWORD}))
    with pytest.raises(PipelineError) as raised:
        airflow_api.trigger(settings, "any_dag", {}, wait=False, timeout=1)
    assert str(raised.value) == (
        f"{path} has no password for {AIRFLOW_USER}: `stack down`, remove it, `stack up`."
    )


def test_no_api_server_says_to_start_the_stack(settings, monkeypatch):
    write_passwords(settings, json.dumps({AIRFLOW_USER: PASSWORD}))
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(airflow_api, "BASE_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(PipelineError) as raised:
        airflow_api.trigger(settings, "any_dag", {}, wait=False, timeout=1)
    message = str(raised.value)
    assert message.startswith(f"Airflow is not reachable at http://127.0.0.1:{port} (")
    assert message.endswith("): run `stack up`.")


class EchoRefusal(BaseHTTPRequestHandler):
    """Airflow's answer to a bad login: 401, with the request body echoed back."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(401)
        self.end_headers()
        self.wfile.write(b'{"detail": "invalid credentials", "input": ' + body + b"}")

    def log_message(self, *args):
        pass


@contextmanager
def stand_in_airflow(handler, monkeypatch):
    """A real HTTP server answering as ``handler`` says, where the CLI looks for Airflow's API."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setattr(airflow_api, "BASE_URL", base)
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def test_a_refusal_names_the_call_and_its_status_without_the_password(settings, monkeypatch):
    write_passwords(settings, json.dumps({AIRFLOW_USER: PASSWORD}))
    with stand_in_airflow(EchoRefusal, monkeypatch), pytest.raises(PipelineError) as raised:
        airflow_api.trigger(settings, "any_dag", {}, wait=False, timeout=1)
    message = str(raised.value)
    assert message.startswith("POST /auth/token answered 401: ")
    assert "invalid credentials" in message and PASSWORD not in message


@pytest.mark.parametrize("content", ["[1, 2]", "{not json"])
def test_a_password_file_that_is_not_airflow_s_says_to_remove_it(settings, content):
    from {{ cookiecutter.package_name }}.platform import stack

    path = write_passwords(settings, content)
    with pytest.raises(PipelineError) as raised:
        stack._airflow_passwords(stack_environment(settings))
    kind = "ValueError" if content.startswith("[") else "JSONDecodeError"
    assert str(raised.value) == (
        f"{path} is not Airflow's password file ({kind}): "
        "remove it, and `stack up` writes a new one."
    )
    assert path.read_text() == content  # left for the person to look at


class RunThatNeverEnds(BaseHTTPRequestHandler):
    """Airflow's API for a run that stays `running`: a token, the run, and its state."""

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        run = {"dag_run_id": "manual__2026-03-01", "state": "queued"}
        self._answer({"access_token": "t0ken"} if self.path == "/auth/token" else run)

    def do_PATCH(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self._answer({})

    def do_GET(self):
        self._answer({"state": "running"})

    def _answer(self, body: dict) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


def test_a_wait_past_its_timeout_says_where_to_follow_the_run(settings, monkeypatch):
    write_passwords(settings, json.dumps({AIRFLOW_USER: PASSWORD}))
    with (
        stand_in_airflow(RunThatNeverEnds, monkeypatch) as base,
        pytest.raises(PipelineError) as raised,
    ):
        airflow_api.trigger(settings, "any_dag", {}, wait=True, timeout=0.6)
    assert str(raised.value) == (
        "run manual__2026-03-01 of any_dag is still running after 0.6 s: follow it at "
        f"{base}/dags/any_dag/runs/manual__2026-03-01, or wait longer with --timeout."
    )
