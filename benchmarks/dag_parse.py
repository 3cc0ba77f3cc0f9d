"""Benchmark, not a test: what each DAG file costs the dag-processor beyond `import airflow.sdk`.

Every sample is a fresh interpreter, as for the dag-processor's parsing
processes: it times `import airflow.sdk`, then running the DAG file. The
overhead is the second figure; the target is under 0.3 s per file.

    uv run python benchmarks/dag_parse.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path.cwd()  # the rendered project: `nox -s bench` runs each benchmark from it
TARGET_SECONDS = 0.3

SAMPLE = """
import json, runpy, sys, time
started = time.perf_counter()
import airflow.sdk
sdk = time.perf_counter() - started
started = time.perf_counter()
runpy.run_path(sys.argv[1])
print(json.dumps({"sdk": sdk, "dag": time.perf_counter() - started}))
"""


def sample(dag_file: Path, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", SAMPLE, str(dag_file)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="fresh processes per DAG file")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="dag-parse-")
    env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    print(f"{'DAG file':<22} {'import airflow.sdk':>19} {'DAG file on top':>16} {'target':>8}")
    worst = 0.0
    for dag_file in sorted((PROJECT_ROOT / "dags").glob("*.py")):
        samples = [sample(dag_file, env) for _ in range(args.repeat)]
        sdk = statistics.median(s["sdk"] for s in samples)
        overhead = statistics.median(s["dag"] for s in samples)
        worst = max(worst, overhead)
        verdict = "ok" if overhead < TARGET_SECONDS else "MISSED"
        print(f"{dag_file.name:<22} {sdk:>17.3f} s {overhead:>14.3f} s {verdict:>8}")
    print(f"medians of {args.repeat} fresh processes; target: under {TARGET_SECONDS} s per file")
    return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
