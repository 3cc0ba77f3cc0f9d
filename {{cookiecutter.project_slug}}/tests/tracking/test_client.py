"""A tracking server that does not answer gives one clear error, not a stack of retries."""

from __future__ import annotations

import socket

import pytest

from {{ cookiecutter.package_name }}.errors import TrackingServerUnavailableError
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.steps.demo import generate_data
from {{ cookiecutter.package_name }}.steps.inference import batch_predict
from {{ cookiecutter.package_name }}.tracking.client import tracking_server_required


def test_batch_predict_says_the_server_did_not_answer(monkeypatch, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    settings = load_settings().with_overrides(
        tracking_uri=f"http://127.0.0.1:{port}", data_dir=tmp_path
    )
    generate_data(settings, "2026-02-01")
    with pytest.raises(TrackingServerUnavailableError, match=f"127.0.0.1:{port} did not answer"):
        batch_predict(settings, "2026-02-01")


def test_other_mlflow_errors_pass_through(isolated_store):
    from mlflow.exceptions import MlflowException

    with (
        pytest.raises(MlflowException, match="no such"),
        tracking_server_required(isolated_store),
    ):
        raise MlflowException("no such model")
