"""`mlflow server` in one process: MLflow's own CLI, ending in an exec of its server.

`mlflow server` checks its options, migrates its database, builds the server's
environment, then starts uvicorn as a child and waits on it, so a parent with
MLflow loaded sits idle for the server's whole life: 267 MB RSS, about 195 MB PSS
(MLflow 3.17, idle; 539 MB RSS for the two processes, 272 MB for the one).
MLflow offers no option or variable for one process, and uvicorn started on
MLflow's app directly would need the private variables the CLI hands it and
skip the CLI's checks and migrations. So the spawn, MLflow's private
``_exec_cmd``, becomes an exec: every check and setting MLflow makes stays, the
idle parent goes, and the pid stays the same, so the stack's pid file still
names the server. Should MLflow's internals move, or its job runner be on
(which MLflow starts after the spawn, and an exec would skip), this falls back
to the usual two-process server; the stack tests count the server's processes.

Usage: ``python -m {{ cookiecutter.package_name }}.platform.mlflow_server [mlflow server options]``.
"""

from __future__ import annotations

import os
import sys


def _exec_server(command: list[str], *, extra_env: dict[str, str] | None = None, **_: object):
    os.execvpe(command[0], command, {**os.environ, **(extra_env or {})})


def main(argv: list[str] | None = None) -> None:
    import mlflow.server
    from mlflow.cli import cli
    from mlflow.environment_variables import MLFLOW_SERVER_ENABLE_JOB_EXECUTION

    job_runner = MLFLOW_SERVER_ENABLE_JOB_EXECUTION.get()
    if not job_runner and callable(getattr(mlflow.server, "_exec_cmd", None)):
        mlflow.server._exec_cmd = _exec_server
    cli.main(args=["server", *(sys.argv[1:] if argv is None else argv)], prog_name="mlflow")


if __name__ == "__main__":
    main()
