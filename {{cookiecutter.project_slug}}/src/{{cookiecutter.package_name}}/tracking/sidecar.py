"""A process beside this one that imports MLflow and answers calls, overlapping that import.

Importing MLflow costs about 2 s of one core. ``<slug> predict --date``
starts a sidecar before it imports pandas and scikit-learn: while this
process imports them and scores, the sidecar imports MLflow, pins the
champion and fetches its reference profile; at the end it logs the run.
Calls are answered one at a time, in the order they were made. The sidecar
is a fresh interpreter (not a fork): it inherits no open database
connection, thread or lock of this process. Nothing heavy is imported here.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from {{ cookiecutter.package_name }}.errors import PipelineError

# How long a sidecar that was told to stop may take to exit before it is ended.
EXIT_SECONDS = 5.0


class RemoteTraceback(Exception):
    """The traceback of an error raised in the sidecar: the cause of that error raised here."""


class Answer:
    """A call the sidecar will answer; ``result()`` waits for its value or raises its error."""

    def __init__(self, sidecar: Sidecar, call: int) -> None:
        self._sidecar = sidecar
        self._call = call

    def result(self) -> Any:
        return self._sidecar._answer(self._call)


class Done:
    """A call answered already, in this process."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def result(self) -> Any:
        return self._value


class InProcess:
    """The sidecar's interface, answered at once in this process (errors raise from ``submit``)."""

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Done:
        return Done(function(*args, **kwargs))


class Sidecar:
    """A Python process that runs ``warm_up``, then answers ``submit``-ted calls in order."""

    def __init__(self, warm_up: Callable[[], object] | None = None) -> None:
        mine, theirs = socket.socketpair()
        with mine, theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-c", f"from {__name__} import serve; serve({theirs.fileno()})"],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
            self._connection = Connection(mine.detach())
        self._calls = self._received = 0
        self._answers: dict[int, tuple] = {}
        self._connection.send(warm_up)

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Answer:
        """Send a call of a module-level ``function`` (pickled by name: the sidecar imports it)."""
        try:
            self._connection.send((function, args, kwargs))
        except OSError:
            self._ended()
        self._calls += 1
        return Answer(self, self._calls - 1)

    def _answer(self, call: int) -> Any:
        while call not in self._answers:
            try:
                received = self._connection.recv()
            except (EOFError, OSError):
                self._ended()
            self._answers[self._received] = received
            self._received += 1
        ok, value, remote_traceback = self._answers.pop(call)
        if ok:
            return value
        value.__cause__ = RemoteTraceback(remote_traceback)
        raise value

    def _ended(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(EXIT_SECONDS)
        raise PipelineError(
            f"the MLflow sidecar process ended (exit code {self._process.returncode}) before it "
            "answered: see the lines above for why, then run the command again."
        ) from None

    def close(self) -> None:
        """Tell the sidecar to exit and wait for it; end it if it takes longer than EXIT_SECONDS."""
        with contextlib.suppress(OSError):
            self._connection.send(None)
        try:
            self._process.wait(EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.terminate()
        self._connection.close()

    def terminate(self) -> None:
        """End the sidecar now, whatever it is doing."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._connection.close()


@contextlib.contextmanager
def started(warm_up: Callable[[], object]) -> Iterator[Sidecar | InProcess]:
    """A sidecar that runs ``warm_up`` now; this process when it imported MLflow already.

    With MLflow loaded here (a test session, a long-lived host), a sidecar
    would only import it a second time. On an error the sidecar is ended at once.
    """
    # The socket is handed to the sidecar by descriptor, which needs POSIX.
    if "mlflow" in sys.modules or os.name != "posix":
        yield InProcess()
        return
    sidecar = Sidecar(warm_up)
    try:
        yield sidecar
    except BaseException:
        sidecar.terminate()
        raise
    sidecar.close()


def serve(descriptor: int) -> None:
    """The sidecar's loop: warm up, then answer each call until told to stop or cut off."""
    # Ctrl-C reaches the whole process group; the parent handles it and ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent's stdout may be a JSON answer: anything printed here goes to stderr.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    connection = Connection(descriptor)
    try:
        warm_up = connection.recv()
        if warm_up is not None:
            with contextlib.suppress(Exception):  # the calls that need it raise it again
                warm_up()
        while (request := connection.recv()) is not None:
            function, args, kwargs = request
            try:
                answer = (True, function(*args, **kwargs), None)
            except Exception as error:
                answer = (False, _portable(error), traceback.format_exc())
            connection.send(answer)
    except (EOFError, BrokenPipeError):  # the parent is gone
        pass
    # As multiprocessing's workers do, exit without freeing every module one by
    # one (about 0.3 s with MLflow loaded): each call above finished its work.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _portable(error: Exception) -> Exception:
    """``error`` if it survives pickling, else a RuntimeError with its type and message."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
