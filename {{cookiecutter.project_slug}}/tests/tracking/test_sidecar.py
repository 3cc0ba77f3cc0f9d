"""The sidecar answers calls in order from its own process, and its errors arrive here intact."""

from __future__ import annotations

import operator
import os
import signal
import sys
import time
from functools import partial

import pytest

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.tracking import sidecar


@pytest.fixture(scope="module")
def side():
    running = sidecar.Sidecar()
    yield running
    running.close()


def test_calls_run_in_another_process_and_answer_in_the_order_made(side):
    first = side.submit(operator.add, 2, 3)
    pid = side.submit(os.getpid)
    assert pid.result() != os.getpid()  # read before the first: kept until asked
    assert first.result() == 5


def test_an_error_raises_here_with_its_type_message_and_remote_traceback(side):
    failing = side.submit(operator.truediv, 1, 0)
    with pytest.raises(ZeroDivisionError, match="division by zero") as raised:
        failing.result()
    assert isinstance(raised.value.__cause__, sidecar.RemoteTraceback)
    assert "ZeroDivisionError" in str(raised.value.__cause__)
    assert side.submit(operator.mul, 4, 5).result() == 20  # and it keeps answering


def test_an_error_that_cannot_be_pickled_arrives_as_its_type_and_message():
    class Local(Exception):  # a local class: pickle cannot find it by name
        pass

    portable = sidecar._portable(Local("the store said no"))
    assert isinstance(portable, RuntimeError)
    assert str(portable) == "Local: the store said no"


def test_a_sidecar_that_dies_is_one_pipeline_error():
    dying = sidecar.Sidecar()
    try:
        answer = dying.submit(os._exit, 3)
        with pytest.raises(PipelineError, match=r"sidecar process ended \(exit code 3\)"):
            answer.result()
    finally:
        dying.terminate()


def test_a_failure_beside_it_ends_the_sidecar_at_once(monkeypatch):
    monkeypatch.delitem(sys.modules, "mlflow", raising=False)
    # A warm-up that would take a minute: the sidecar is killed, not waited for.
    with (
        pytest.raises(KeyError),
        sidecar.started(partial(time.sleep, 60)) as running,
    ):
        assert isinstance(running, sidecar.Sidecar)
        raise KeyError("scoring failed")
    assert running._process.returncode == -signal.SIGKILL


def test_with_mlflow_loaded_here_the_calls_run_in_this_process(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", sys.modules.get("mlflow", sidecar))
    with sidecar.started(os.getpid) as here:
        assert isinstance(here, sidecar.InProcess)
        assert here.submit(os.getpid).result() == os.getpid()
