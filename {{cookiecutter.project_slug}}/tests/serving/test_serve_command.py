"""`serve`'s arguments: a port it can bind, and a warning before it listens beyond loopback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.serving.network import no_auth_warning
from tests.serving.conftest import free_port


@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_serve_refuses_a_port_outside_1_to_65535(port, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["serve", "--port", port])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "is not a port: use a whole number from 1 to 65535" in err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_warning(host):
    assert no_auth_warning(host, 8000) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "serving.example.com"])
def test_any_other_interface_is_warned_about(host):
    warning = no_auth_warning(host, 8000)
    assert warning is not None
    assert warning.startswith(f"warning: serving on {host}:8000 with no authentication")
    assert "\n" not in warning


def test_serve_on_every_interface_warns_before_it_listens():
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}", "serve", "--host", "0.0.0.0"]
    server = subprocess.Popen(
        [*command, "--port", str(free_port())], stderr=subprocess.PIPE, text=True
    )
    try:
        first = server.stderr.readline()
    finally:
        server.kill()
        server.wait(10)
    assert first.startswith("warning: serving on 0.0.0.0:")
    assert "no authentication" in first
