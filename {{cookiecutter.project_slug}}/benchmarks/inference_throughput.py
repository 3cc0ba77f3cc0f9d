"""Benchmark, not a test: batch inference next to scikit-learn's bare predict_proba, and training.

Every measurement runs in a fresh process, as an Airflow task would, against
a throwaway MLflow tracking server (as `stack up` runs it) and data directory,
while this process samples the memory of that process and its children (the
inference workers) from /proc:

- batch inference end to end (`batch_predict`: load the champion, read the
  Parquet batch, validate, predict, write, log to MLflow), rows per second and
  peak memory, for each size;
- loading the champion from the registry (skops) and from the host's model
  cache, which serves every later run of the same version;
- the champion's bare `predict_proba` on the same texts already in memory,
  in one process: the speed of the model itself;
- training (`run_training`: validate, fit, evaluate, register) on labeled
  files of each size, with the configured model.

    uv run python benchmarks/inference_throughput.py [--sizes 10000 100000 1000000]
        [--memory-size 5000000] [--training-sizes 1000 10000 100000]

Targets: 1,000,000 rows at least 1.5 x the bare rate; the memory size under
1 GB; training on 100,000 rows under 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pandas as pd

from {{ cookiecutter.package_name }} import settings as settings_module
from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.schema import LABEL, TEXT
from {{ cookiecutter.package_name }}.data.synthetic import synthesize_reviews
from {{ cookiecutter.package_name }}.platform import stack

SPEEDUP_TARGET = 1.5
MEMORY_TARGET_MB = 1024
TRAINING_TARGET_SECONDS = 60
DAY = "2026-01-01"
# Unique synthetic reviews; larger batches repeat them under new ids.
DISTINCT_REVIEWS = 100_000

CHILD = """
import json, sys, time
from PACKAGE.data import storage
from PACKAGE.steps import inference, training
from PACKAGE.tracking import registry
from PACKAGE.settings import load_settings

settings = load_settings()
task, day, arg = sys.argv[1:4]
if task == "predict":
    started = time.perf_counter()
    result = inference.batch_predict(settings, day)
    metrics = result["metrics"]
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": result["rows"],
                      "load": metrics["model_load_seconds"], "score": metrics["scoring_seconds"]}))
elif task == "load":
    started = time.perf_counter()
    registry.load_champion(settings)
    print(json.dumps({"seconds": time.perf_counter() - started}))
elif task == "bare":
    import pandas as pd
    model = registry.load_champion(settings).model
    snapshot = storage.partition_dir(settings.data.data_dir, storage.BATCHES, day)
    texts = pd.read_parquet(snapshot / storage.BATCH_FILE, columns=["text"])
    started = time.perf_counter()
    model.predict_proba(texts)
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": len(texts)}))
elif task == "train":
    started = time.perf_counter()
    result = training.run_training(settings, day, training_path=arg)
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": result["rows"]}))
"""


def tree_memory_mb(root: int) -> tuple[float, float]:
    """RSS and PSS summed over ``root`` and its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    rss = pss = 0.0
    pending = [root]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            rss_kb, pss_kb = stack.memory_kb(pid)
        except (OSError, KeyError):  # exited while being read
            continue
        rss, pss = rss + rss_kb / 1024, pss + pss_kb / 1024
    return rss, pss


def start_tracking_server(package: str, home: Path, env: dict[str, str]) -> subprocess.Popen:
    """An MLflow server over SQLite on a free port; sets MLFLOW_TRACKING_URI in ``env``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable, "-m", f"{package}.platform.mlflow_server",
            "--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}",
            "--artifacts-destination", str(home / "mlartifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    env["MLFLOW_TRACKING_URI"] = url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the MLflow server exited with {server.returncode}") from None
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"the MLflow server at {url} did not answer within 120 s")


def measure(package: str, env: dict[str, str], *args: str) -> dict:
    """Run one task in a fresh process; its result plus the peak memory of its process tree."""
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD.replace("PACKAGE", package), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = {"rss": 0.0, "pss": 0.0}

    def sample() -> None:
        while process.poll() is None:
            rss, pss = tree_memory_mb(process.pid)
            peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{stderr[-3000:]}")
    return {**json.loads(stdout.strip().splitlines()[-1]), **peak}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--memory-size", type=int, default=5_000_000)
    parser.add_argument("--training-sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (medians)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="inference-bench-"))
    prefix = settings_module.ENV_PREFIX
    env = {
        **os.environ,
        f"{prefix}DATA_DIR": str(home / "data"),
        f"{prefix}ARTIFACT_ROOT": str(home / "mlartifacts"),
        f"{prefix}DATA_SOURCE": "demo",
        f"{prefix}TRAIN_ON_FEEDBACK": "false",
        f"{prefix}MODEL_CACHE_DIR": str(home / "model-cache"),
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "1",
    }
    package = settings_module.PACKAGE_NAME
    server = start_tracking_server(package, home, env)
    try:
        return run(args, home, env, package)
    finally:
        server.terminate()
        server.wait()


def write_batch(settings: settings_module.Settings, rows: int) -> str:
    """A batch of ``rows`` synthetic reviews; returns its logical date."""
    distinct = synthesize_reviews(DAY, min(rows, DISTINCT_REVIEWS))[TEXT]
    texts = distinct.repeat(-(-rows // len(distinct))).iloc[:rows].reset_index(drop=True)
    ids = [f"{index:09d}" for index in range(rows)]
    day = f"2026-02-{len(str(rows)):02d}"
    snapshot = storage.partition_dir(settings.data.data_dir, storage.BATCHES, day)
    storage.write_parquet(pd.DataFrame({"id": ids, TEXT: texts}), snapshot / storage.BATCH_FILE)
    return day


def run(args: argparse.Namespace, home: Path, env: dict[str, str], package: str) -> int:
    os.environ.update(env)
    settings = settings_module.load_settings()
    print(
        f"{os.cpu_count()} cores, inference_workers={settings.data.inference_workers or 'all'}, "
        f"chunks of {settings.data.inference_chunk_rows:,} rows, model {settings.model.estimator}; "
        f"data in {home}"
    )

    print(f"\nTraining ({settings.model.estimator}, run_training end to end)")
    print(f"{'rows':>11} {'seconds':>9}")
    training_files = home / "training"
    training_files.mkdir()
    for rows in sorted(args.training_sizes):
        reviews = synthesize_reviews("2025-01-01", rows)[[TEXT, LABEL]]
        path = training_files / f"reviews-{rows}.csv"
        reviews.to_csv(path, index=False)
        result = measure(package, env, "train", DAY, str(path))
        verdict = ""
        if rows == 100_000:
            met = result["seconds"] < TRAINING_TARGET_SECONDS
            verdict = f"{'ok' if met else 'MISSED'} (< {TRAINING_TARGET_SECONDS} s)"
        print(f"{rows:>11,} {result['seconds']:>9.1f}  {verdict}")

    # Training cached the versions it loaded; a new champion's first load on
    # a host goes to the registry.
    shutil.rmtree(home / "model-cache")
    cold = measure(package, env, "load", DAY, "")["seconds"]
    warm = statistics.median(
        measure(package, env, "load", DAY, "")["seconds"] for _ in range(args.repeat)
    )
    print(
        f"\nChampion load (load_champion in a fresh process): {cold:.2f} s from the registry"
        f" (skops), {warm:.2f} s from this host's model cache"
    )

    print(
        "\nBatch inference, batch_predict end to end (champion from the model cache, read,"
        " validate, predict, write, MLflow run), vs the model's bare predict_proba;"
        f" medians of {args.repeat} runs"
    )
    print(
        f"{'rows':>11} {'pipeline rows/s':>16} {'bare rows/s':>12} {'ratio':>6}"
        f" {'model load s':>13} {'scoring rows/s':>15} {'peak RSS MB':>12} {'peak PSS MB':>12}"
    )
    sizes = sorted(args.sizes)
    for rows in sizes + ([args.memory_size] if args.memory_size not in sizes else []):
        day = write_batch(settings, rows)
        memory_only = rows not in sizes
        runs = []
        for _ in range(1 if memory_only else args.repeat):
            pipeline = measure(package, env, "predict", day, "")
            assert pipeline["rows"] == rows, pipeline
            bare = None if memory_only else measure(package, env, "bare", day, "")
            runs.append((pipeline, bare))
        pipeline = {key: statistics.median(run[0][key] for run in runs) for key in runs[0][0]}
        pipeline["rss"] = max(run[0]["rss"] for run in runs)
        pipeline["pss"] = max(run[0]["pss"] for run in runs)
        if memory_only:
            bare_text = f"{'':>12} {'':>6}"
            met = pipeline["pss"] < MEMORY_TARGET_MB
            verdict = f"  {'ok' if met else 'MISSED'} (PSS < 1 GB)"
        else:
            bare_rate = statistics.median(rows / run[1]["seconds"] for run in runs)
            ratio = rows / pipeline["seconds"] / bare_rate
            bare_text = f"{bare_rate:>12,.0f} {ratio:>6.2f}"
            met = ratio >= SPEEDUP_TARGET
            verdict = (
                f"  {'ok' if met else 'MISSED'} (>= {SPEEDUP_TARGET} x)"
                if rows == 1_000_000
                else ""
            )
        print(
            f"{rows:>11,} {rows / pipeline['seconds']:>16,.0f} {bare_text} "
            f"{pipeline['load']:>13.2f} {rows / pipeline['score']:>15,.0f} "
            f"{pipeline['rss']:>12,.0f} {pipeline['pss']:>12,.0f}{verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
