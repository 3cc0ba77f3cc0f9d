"""Alert delivery to a Slack-compatible webhook: a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from {{ cookiecutter.package_name }}.monitoring.alerts import Alert, AlertKind
from {{ cookiecutter.package_name }}.monitoring.delivery import deliver
from {{ cookiecutter.package_name }}.steps.inference import batch_predict
from {{ cookiecutter.package_name }}.steps.monitoring import monitor
from tests.conftest import invented_day

ALERT = Alert(
    AlertKind.CONFIDENCE_DRIFT,
    "confidence_psi",
    0.9,
    0.25,
    "2026-08-10",
    "confidence_psi 0.9 > 0.25",
)


@pytest.fixture
def receiver():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def test_alerts_reach_the_webhook(receiver):
    url, received = receiver
    assert deliver([ALERT], url, timeout=5)
    [payload] = received
    assert "confidence_drift" in payload["text"]
    assert payload["alerts"][0]["metric"] == "confidence_psi"
    assert payload["alerts"][0]["logical_date"] == "2026-08-10"


def test_an_unreachable_webhook_is_logged_not_raised(caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on that port any more.
    assert deliver([ALERT], f"http://127.0.0.1:{port}/hook", timeout=1) is False
    assert "unreachable" in caplog.text


def test_the_webhook_token_stays_out_of_the_log(caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook?token=xoxb-s3cret-token"
    assert deliver([ALERT], url, timeout=1) is False
    assert "unreachable" in caplog.text and f"127.0.0.1:{port}" in caplog.text
    assert "s3cret" not in caplog.text


def test_no_alerts_or_no_url_sends_nothing(receiver):
    url, received = receiver
    assert deliver([], url, timeout=5) is False
    assert deliver([ALERT], None, timeout=5) is False
    assert received == []


def test_monitoring_posts_its_alerts_to_the_webhook(session_settings, champion, receiver):
    url, received = receiver
    day = "2026-05-12"
    invented_day(session_settings, day, 500)
    batch_predict(session_settings, day)
    # A threshold nothing stays under, so the day raises a low-confidence alert.
    strict = session_settings.with_overrides(low_confidence_alert_pct=0, alert_webhook_url=url)

    result = monitor(strict, day)

    assert result["webhook_delivered"] is True
    [payload] = received
    assert {a["kind"] for a in payload["alerts"]} == {a["kind"] for a in result["alerts"]}
    assert payload["alerts"][0]["logical_date"] == day


def test_monitoring_survives_an_unreachable_webhook(session_settings, champion):
    day = "2026-05-13"
    invented_day(session_settings, day, 500)
    batch_predict(session_settings, day)
    strict = session_settings.with_overrides(
        low_confidence_alert_pct=0, alert_webhook_url="http://127.0.0.1:9/hook"
    )

    result = monitor(strict, day)

    assert "low_confidence_rate" in {alert["kind"] for alert in result["alerts"]}
    assert result["webhook_delivered"] is False
