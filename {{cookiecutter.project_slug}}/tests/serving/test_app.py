"""The prediction endpoint over real HTTP, bad payloads included."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
import uvicorn

from {{ cookiecutter.package_name }}.serving.app import create_app
from {{ cookiecutter.package_name }}.steps.training import run_training
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def serve():
    servers = []

    def start(settings) -> str:
        port = free_port()
        config = uvicorn.Config(
            create_app(settings, refresh_seconds=0),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, daemon=True).start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.should_exit = True


def call(url: str, body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST" if body else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health_says_when_there_is_no_model(isolated_store, serve):
    base = serve(isolated_store)
    status, body = call(f"{base}/health")
    assert status == 503
    assert "train" in body["error"]


def test_predict_follows_the_champion_and_rejects_bad_payloads(champion_store, champion, serve):
    base = serve(champion_store)

    status, body = call(f"{base}/health")
    assert (status, body["model_version"]) == (200, champion["model_version"])
    texts = ["Absolutely loved it, works perfectly.", "Broke after two days, total waste of money."]
    status, body = call(f"{base}/predict", json.dumps({"texts": texts}).encode())
    assert status == 200
    assert [p["label"] for p in body["predictions"]] == ["positive", "negative"]
    assert all(0.5 <= p["confidence"] <= 1 for p in body["predictions"])

    for payload, reason in [
        (b"not json", "not JSON"),
        (b"[]", "no 'texts'"),
        (json.dumps({"texts": "one string"}).encode(), "non-empty list"),
        (json.dumps({"texts": ["fine", 42]}).encode(), "texts[1] is int"),
    ]:
        status, body = call(f"{base}/predict", payload)
        assert status == 400, payload
        assert reason in body["error"]
        assert '"texts"' in body["error"]

    # A promotion reaches the running server without a restart.
    quick = champion_store.with_overrides(max_features=200, ngram_max=1)
    second = run_training(quick, "2026-09-02")
    client = connect(champion_store)
    registry.promote(client, champion_store, second["model_version"], reason="test", actor="test")
    status, body = call(f"{base}/predict", json.dumps({"texts": texts}).encode())
    assert body["model_version"] == second["model_version"]
