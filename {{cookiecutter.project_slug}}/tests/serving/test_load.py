"""Every request answered while 10,000-text requests are in flight (driver: load.py beside it)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.scenario


def test_serve_answers_every_request_under_load(champion_store, champion):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.serving.load",
            "--requests",
            "2000",
            "--clients",
            "8",
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    for kind in ("small", "big", "health"):
        summary = result[kind]
        print(
            f"{kind}: {summary['requests']} requests, p50 {summary['p50_ms']} ms, "
            f"p99 {summary['p99_ms']} ms"
        )
        assert summary["errors"] == 0, summary["first_errors"]
    assert result["small"]["requests"] == 2000
    assert result["big"]["requests"] >= 1
