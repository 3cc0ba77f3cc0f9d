"""`mlflow server` in one process: MLflow's own CLI, ending in an exec of its server.

`mlflow server` checks its options, builds the server's environment, then starts
uvicorn as a child and waits on it, so a parent with MLflow loaded (about 280 MB)
sits idle for the server's whole life. Swapping that spawn for an exec keeps every
check and setting MLflow makes and drops the idle parent. The pid stays the same,
so the stack's pid file still names the server. Should MLflow's internals move,
this falls back to the usual two-process server.

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

    if callable(getattr(mlflow.server, "_exec_cmd", None)):
        mlflow.server._exec_cmd = _exec_server
    cli.main(args=["server", *(sys.argv[1:] if argv is None else argv)], prog_name="mlflow")


if __name__ == "__main__":
    main()
