"""The prediction endpoint over real HTTP, bad payloads included."""

from __future__ import annotations

import json
import logging
import socket
import time

import pandas as pd

from {{ cookiecutter.package_name }}.data.schema import TEXT, split_rejects
from {{ cookiecutter.package_name }}.serving.middleware import UnexpectedErrors
from {{ cookiecutter.package_name }}.serving.payload import MAX_BODY_BYTES, MAX_TEXTS
from {{ cookiecutter.package_name }}.steps.training import run_training
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect
from tests.serving.conftest import call, free_port, run_server, texts_body, timed_call

TEXTS = ["Absolutely loved it, works perfectly.", "Broke after two days, total waste of money."]


def test_health_says_when_there_is_no_model(isolated_store, serve):
    base = serve(isolated_store)
    status, body = call(f"{base}/health")
    assert (status, body["status"]) == (503, "no model")
    assert "train" in body["reason"]
    status, body = call(f"{base}/predict", texts_body(TEXTS))
    assert status == 503
    assert "train" in body["error"]


def test_predict_follows_the_champion_and_rejects_bad_payloads(champion_store, champion, serve):
    base = serve(champion_store, refresh_seconds=0.2)

    status, body = call(f"{base}/health")
    assert (status, body["status"], body["model_version"]) == (200, "ok", champion["model_version"])
    assert body["model_age_seconds"] >= 0
    status, body = call(f"{base}/predict", texts_body(TEXTS))
    assert status == 200
    assert [p["label"] for p in body["predictions"]] == ["positive", "negative"]
    assert all(0.5 <= p["confidence"] <= 1 for p in body["predictions"])

    for payload, reason in [
        (b"not json", "not JSON"),
        (b"[]", "no 'texts'"),
        (json.dumps({"texts": "one string"}).encode(), "non-empty list"),
        (json.dumps({"texts": ["fine", 42]}).encode(), "texts[1] is int"),
        (texts_body(["x"] * (MAX_TEXTS + 1)), f"more than {MAX_TEXTS}"),
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
    deadline = time.monotonic() + 20
    while call(f"{base}/health")[1]["model_version"] != second["model_version"]:
        assert time.monotonic() < deadline, "the promotion never reached the server"
        time.sleep(0.1)
    status, body = call(f"{base}/predict", texts_body(TEXTS))
    assert body["model_version"] == second["model_version"]


def test_texts_batch_inference_rejects_are_refused_with_its_reason(champion_store, serve):
    base = serve(champion_store)
    # The reason batch inference gives a blank row: the server must give the same.
    blank_reason = split_rejects(pd.DataFrame({TEXT: [" "]}))[1]["reason"].iloc[0]
    for payload, reason in [
        (texts_body(["fine", ""]), f"texts[1] is rejected as '{blank_reason}'"),
        (texts_body([" \n\t\u3000", "fine"]), f"texts[0] is rejected as '{blank_reason}'"),
        (b'{"texts": ["fine", "\\ud800"]}', "texts[1] is not valid Unicode"),
        (b'{"texts": ["caf\xe9"]}', "not UTF-8"),
        (b'{"texts": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "nests arrays or objects"),
        (b"[" * 10_000, "nests arrays or objects"),
    ]:
        status, body, seconds = timed_call(f"{base}/predict", payload)
        assert status == 400, (payload[:40], body)
        assert reason in body["error"]
        assert "\n" not in body["error"]
        assert seconds < 5


def _raw_request(port: int, head: bytes, body_chunks, read_timeout: float = 10) -> bytes:
    """Send ``head`` then each chunk until the server answers; what it answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as connection:
        connection.sendall(head)
        try:
            for chunk in body_chunks:
                connection.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the body was all sent
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer


def test_bodies_over_the_limit_get_413_before_they_are_read(champion_store, serve):
    base = serve(champion_store)
    port = int(base.rsplit(":", 1)[1])

    # Announced, by a client that waits for a go-ahead (curl does): refused on
    # the header, the body never sent.
    head = (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 104857600\r\nExpect: 100-continue\r\n\r\n"
    )
    started = time.monotonic()
    answer = _raw_request(port, head, [])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 2
    assert b"larger than 16 MiB" in answer

    # Announced by a client that sends it all before reading: it still reads the answer.
    status, body = call(f"{base}/predict", b"[" + b" " * MAX_BODY_BYTES + b"]")
    assert status == 413
    assert body["error"].startswith("the body is larger than 16 MiB")

    # Streamed without a length: refused once the count passes the limit.
    head = (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b'{"texts": ["' + b"a" * (1024 * 1024)
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
    answer = _raw_request(port, head, [chunk] * (MAX_BODY_BYTES // len(piece) + 4))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]

    # The limit fits the largest request allowed: 10,000 texts of 1 KiB.
    review = "Works as described, arrived on time. " * 28
    status, body = call(f"{base}/predict", texts_body([review[:1024]] * MAX_TEXTS), timeout=60)
    assert status == 200, body
    assert len(body["predictions"]) == MAX_TEXTS


def test_an_unexpected_error_is_one_json_500_logged_once(caplog):
    async def broken(scope, receive, send):
        if scope["type"] == "http":
            raise KeyError("the bug\nsecond line")

    port = free_port()
    server, thread = run_server(UnexpectedErrors(broken), port)
    try:
        with caplog.at_level(logging.INFO):
            status, body = call(f"http://127.0.0.1:{port}/predict", b"{}")
    finally:
        server.should_exit = True
        thread.join(10)
    assert status == 500
    assert body == {"error": "unexpected KeyError; the server's log has the cause"}
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1, [record.getMessage() for record in errors]
    assert "POST /predict failed: unexpected KeyError" in errors[0].getMessage()
    assert "\n" not in errors[0].getMessage()
    assert "Exception in ASGI application" not in caplog.text
