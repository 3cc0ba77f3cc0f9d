"""The server keeps answering from the champion it holds while MLflow is down.

These start a real ``mlflow server`` (10 s on an idle laptop, up to a minute
on a loaded one), so they are scenarios; test_store_failure.py covers the
same rule in the inner loop with a store that breaks.
"""

from __future__ import annotations

import signal
import time

import pytest

from {{ cookiecutter.package_name }}.settings import load_settings
from tests.serving.conftest import texts_body, timed_call

pytestmark = pytest.mark.scenario

TEXTS = ["Absolutely loved it, works perfectly.", "Broke after two days, total waste of money."]
# Every request must answer at once, whatever MLflow does.
FAST = 2.0


def wait_for_status(base: str, wanted: str, seconds: float) -> dict:
    """Poll /health until it says ``wanted``; each answer must come fast."""
    deadline = time.monotonic() + seconds
    while True:
        _, body, took = timed_call(f"{base}/health", timeout=FAST * 2)
        assert took < FAST, f"/health took {took:.1f} s"
        if body["status"] == wanted:
            return body
        assert time.monotonic() < deadline, f"/health never said {wanted}: {body}"
        time.sleep(0.2)


def assert_predicts_fast(base: str, version: str) -> None:
    status, body, took = timed_call(f"{base}/predict", texts_body(TEXTS), timeout=FAST * 2)
    assert (status, body["model_version"]) == (200, version), body
    assert [p["label"] for p in body["predictions"]] == ["positive", "negative"]
    assert took < FAST, f"/predict took {took:.1f} s"


def test_mlflow_stopped_then_back(tracking_server, champion, monkeypatch, serve):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server.uri)
    base = serve(load_settings(), refresh_seconds=0.5)
    version = champion["model_version"]
    assert wait_for_status(base, "ok", 5)["model_version"] == version

    tracking_server.stop()
    degraded = wait_for_status(base, "degraded", 10)
    assert f"{tracking_server.uri} did not answer" in degraded["reason"]
    assert degraded["model_version"] == version
    assert degraded["refreshed_seconds_ago"] >= 0
    for _ in range(5):
        assert_predicts_fast(base, version)

    tracking_server.start()
    wait_for_status(base, "ok", 15)
    assert_predicts_fast(base, version)


def test_mlflow_hung_is_bounded_by_the_timeout(tracking_server, champion, monkeypatch, serve):
    """A server that accepts connections but never answers (SIGSTOP): the timeout, not minutes."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server.uri)
    base = serve(load_settings(), refresh_seconds=0.5)
    version = champion["model_version"]
    wait_for_status(base, "ok", 5)

    tracking_server.signal(signal.SIGSTOP)
    try:
        # 5 s a request, one retry: a refresh gives up within about 11 s.
        degraded = wait_for_status(base, "degraded", 25)
        assert "did not answer" in degraded["reason"]
        assert_predicts_fast(base, version)
    finally:
        tracking_server.signal(signal.SIGCONT)
    wait_for_status(base, "ok", 15)
