"""Benchmark, not a test: the MLflow server's memory, the stack's launcher against `mlflow server`.

`mlflow server` keeps a parent with MLflow loaded beside the uvicorn it
spawns; the stack's launcher (platform/mlflow_server.py) execs uvicorn in its
place. Each is started in turn on a scratch store with the stack's environment,
measured idle (RSS, PSS and USS summed over its process tree) and stopped.

    uv run python benchmarks/mlflow_launcher.py [--rounds 3] [--settle 15] [--port 5077]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import psutil


def tree_memory_mb(pid: int) -> tuple[int, float, float, float]:
    """Processes, RSS, PSS and USS of ``pid`` and its descendants, in MB."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    full = [process.memory_full_info() for process in processes]
    return (
        len(processes),
        sum(m.rss for m in full) / 2**20,
        sum(m.pss for m in full) / 2**20,
        sum(m.uss for m in full) / 2**20,
    )


def measure(command: list[str], env: dict[str, str], port: int, settle: float) -> tuple:
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{command} did not become healthy") from None
                time.sleep(0.5)
        time.sleep(settle)
        return tree_memory_mb(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle", type=float, default=15, help="idle seconds before measuring")
    parser.add_argument("--port", type=int, default=5077, help="a free port, not the stack's")
    args = parser.parse_args()

    from sentiment_pipeline.platform import stack
    from sentiment_pipeline.settings import ENV_PREFIX, load_settings

    for name in [n for n in os.environ if n.startswith(("AIRFLOW", "MLFLOW_", ENV_PREFIX))]:
        del os.environ[name]
    os.environ[f"{ENV_PREFIX}HOME"] = tempfile.mkdtemp(prefix="mlflow-launcher-")
    env = stack.stack_environment(load_settings())
    options = ["--host", "127.0.0.1", "--port", str(args.port), "--workers", "1"]
    commands = {
        "launcher": [sys.executable, "-m", "sentiment_pipeline.platform.mlflow_server", *options],
        "mlflow server": [sys.executable, "-m", "mlflow", "server", *options],
    }
    print(f"{'server':<14} {'round':>5} {'processes':>9} {'RSS MB':>7} {'PSS MB':>7} {'USS MB':>7}")
    for round_ in range(1, args.rounds + 1):
        for name, command in commands.items():
            processes, rss, pss, uss = measure(command, env, args.port, args.settle)
            print(f"{name:<14} {round_:>5} {processes:>9} {rss:>7.0f} {pss:>7.0f} {uss:>7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
