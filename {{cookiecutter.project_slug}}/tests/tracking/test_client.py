"""A tracking server that does not answer gives one clear error, not a stack of retries."""

from __future__ import annotations

import socket

import pytest

from {{ cookiecutter.package_name }}.errors import TrackingServerUnavailableError
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.steps.inference import batch_predict
from {{ cookiecutter.package_name }}.tracking.client import tracking_server_required
from tests.conftest import invented_day


def test_batch_predict_says_the_server_did_not_answer(monkeypatch, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    settings = load_settings().with_overrides(
        tracking_uri=f"http://127.0.0.1:{port}", data_dir=tmp_path
    )
    invented_day(settings, "2026-02-01", 500)
    with pytest.raises(TrackingServerUnavailableError, match=f"127.0.0.1:{port} did not answer"):
        batch_predict(settings, "2026-02-01")


@pytest.mark.parametrize(
    "cause",
    [
        "API request to http://127.0.0.1:1/api/2.0/mlflow/runs failed: Max retries exceeded",
        "[Errno 111] Connection refused",
    ],
)
def test_a_server_that_does_not_answer_becomes_one_error_without_the_password(cause):
    from mlflow.exceptions import MlflowException

    settings = load_settings().with_overrides(tracking_uri="http://ops:s3cret@127.0.0.1:1")
    failure = MlflowException(cause) if "Max retries" in cause else ConnectionRefusedError(cause)

    with (
        pytest.raises(TrackingServerUnavailableError) as raised,
        tracking_server_required(settings),
    ):
        raise failure

    message = str(raised.value)
    assert message.startswith("the MLflow tracking server at http://ops:***@127.0.0.1:1 did not")
{%- if cookiecutter.platform == "local" %}
    assert "stack up" in message and "s3cret" not in message
{%- else %}
    assert "start it" in message and "s3cret" not in message
{%- endif %}
    assert raised.value.__cause__ is failure  # the traceback, for -v, still has the cause


def test_other_mlflow_errors_pass_through():
    from mlflow.exceptions import MlflowException

    with (
        pytest.raises(MlflowException, match="no such model"),
        tracking_server_required(load_settings()),
    ):
        raise MlflowException("no such model")
