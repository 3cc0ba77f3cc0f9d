"""Real servers for the serving tests: uvicorn on a free port, and an MLflow tracking server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import uvicorn

from {{ cookiecutter.package_name }}.serving.app import create_app
from {{ cookiecutter.package_name }}.serving.protocol import uvicorn_options


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, seconds: float, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert process is None or process.poll() is None, "the server exited"
        assert time.monotonic() < deadline, f"nothing listens on port {port}"
        time.sleep(0.1)


def run_server(app, port: int, serving=None) -> tuple[uvicorn.Server, threading.Thread]:
    """uvicorn in a thread, with the limits of ``serving`` (ServingSettings) as `serve` sets."""
    options = {} if serving is None else uvicorn_options(serving)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    return server, thread


@pytest.fixture
def serve():
    """Start ``create_app(settings)`` on a free port; stopped (lifespan included) after the test."""
    servers = []

    def start(settings, **options) -> str:
        port = free_port()
        servers.append(run_server(create_app(settings, **options), port, settings.serving))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)


def call(url: str, body: bytes | None = None, timeout: float = 30) -> tuple[int, dict]:
    """(status, JSON body) of a GET, or of a POST of ``body`` as it is."""
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def timed_call(url: str, body: bytes | None = None, timeout: float = 30):
    """``call`` and the seconds it took."""
    started = time.monotonic()
    status, answer = call(url, body, timeout)
    return status, answer, time.monotonic() - started


def texts_body(texts: list[str]) -> bytes:
    return json.dumps({"texts": texts}).encode()


class TrackingServer:
    """``mlflow server`` on a free port over a copy of a store's SQLite database."""

    def __init__(self, database: Path, directory: Path) -> None:
        self.database = directory / "server-mlflow.db"
        shutil.copyfile(database, self.database)
        self.directory = directory
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = (self.directory / "mlflow-server.log").open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--backend-store-uri",
                f"sqlite:///{self.database}",
                "--artifacts-destination",
                str(self.directory / "server-artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own group: `mlflow server` runs uvicorn as a child, stopped with it.
            start_new_session=True,
            env={**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{self.database}"},
        )
        try:
            wait_until_listening(self.port, 90, self.process)
        except BaseException:
            # A server that never answered is still running: its group would outlive the test.
            self.stop()
            raise

    def signal(self, number: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, number)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        self.process.wait(30)


@pytest.fixture
def tracking_server(tmp_path, champion_store):
    """A tracking server holding the session's champion; stopped after the test."""
    database = Path(champion_store.platform.tracking_uri.removeprefix("sqlite:///"))
    server = TrackingServer(database, tmp_path)
    server.start()
    yield server
    server.stop()
