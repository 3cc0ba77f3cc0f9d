"""Benchmark, not a test: the resident memory of the local stack when it is up and idle.

Starts the stack in a temporary project home (so the project's own stores are not
touched), waits until every component is healthy and has settled, and prints each
component's RSS and PSS. With --after-run it then trains, triggers one
batch-inference run, lets the stack settle again and measures once more. It stops
everything it started.

    uv run python benchmarks/stack_footprint.py [--settle 30] [--after-run]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path.cwd()  # the rendered project: `nox -s bench` runs each benchmark from it


def print_footprint(title: str, footprint: dict) -> None:
    print(f"\n{title}")
    print(f"  {'component':<14} {'processes':>9} {'RSS MB':>8} {'PSS MB':>8}")
    for name, entry in footprint["components"].items():
        print(f"  {name:<14} {entry['processes']:>9} {entry['rss_mb']:>8.0f} {entry['pss_mb']:>8.0f}")
    print(
        f"  {'total':<14} {footprint['processes']:>9} "
        f"{footprint['total_rss_mb']:>8.0f} {footprint['total_pss_mb']:>8.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=30, help="idle seconds before measuring")
    parser.add_argument("--after-run", action="store_true", help="also measure after one DAG run")
    args = parser.parse_args()

    from sentiment_pipeline.orchestration import BATCH_INFERENCE_DAG_ID
    from sentiment_pipeline.platform import stack
    from sentiment_pipeline.platform.airflow_api import trigger
    from sentiment_pipeline.settings import ENV_PREFIX, load_settings

    home = Path(tempfile.mkdtemp(prefix="stack-footprint-"))
    (home / "dags").symlink_to(PROJECT_ROOT / "dags")
    for name in [n for n in os.environ if n.startswith(("AIRFLOW", "MLFLOW_", ENV_PREFIX))]:
        del os.environ[name]
    os.environ[f"{ENV_PREFIX}HOME"] = str(home)
    settings = load_settings()
    try:
        started = stack.up(settings)
        print(f"stack up: all components healthy after {started['seconds_to_healthy']} s")
        time.sleep(args.settle)
        print_footprint(f"idle, {args.settle:.0f} s after healthy", stack.footprint(settings))
        if args.after_run:
            package = "sentiment_pipeline"
            subprocess.run([sys.executable, "-m", package, "train"], check=True, capture_output=True)
            run = trigger(settings, BATCH_INFERENCE_DAG_ID, {}, wait=True, timeout=900)
            print(f"\nbatch-inference run: {run['state']}")
            time.sleep(args.settle)
            print_footprint(f"idle again, {args.settle:.0f} s after the run", stack.footprint(settings))
    finally:
        stack.down(settings)
    print(f"\nstack down: every process stopped; scratch home {home}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
