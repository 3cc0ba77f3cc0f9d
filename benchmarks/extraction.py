"""Benchmark, not a test: `extract --date` against `predict --date` on the same batch.

For each size, a Parquet file of that many rows (the bundled reviews repeated
under new ids, one duplicate id) is left in a files source's incoming folder;
then `<slug> extract --date D` (find, validate, de-duplicate, snapshot) and
`<slug> predict --date D` (score that snapshot with a champion trained first)
run as whole processes, imports included, each timed from spawn to exit while
this process samples the resident memory of its process tree every 0.1 s.

    uv run python benchmarks/extraction.py [--sizes 1000000 2000000 5000000]

Target on 2 cores: extract takes at most predict's time, and its peak memory
stays under 1 GB at 5,000,000 rows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
from sentiment_pipeline.data.schema import TEXT, bundled_dataset_path
from sentiment_pipeline.settings import ENV_PREFIX, PROJECT_SLUG

COMMAND = [sys.executable, "-m", "sentiment_pipeline"]


def tree_rss_mb(process: psutil.Process) -> float:
    """Resident memory of ``process`` and its children, in MiB (0 once it has gone)."""
    total = 0
    try:
        for member in [process, *process.children(recursive=True)]:
            total += member.memory_info().rss
    except psutil.Error:
        pass
    return total / 2**20


def timed(arguments: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak MiB of the process tree) of one whole command."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [*COMMAND, *arguments], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        process = psutil.Process(child.pid)
        while not done.wait(0.1):
            peak = max(peak, tree_rss_mb(process))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, errors = child.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed ({child.returncode}): {errors.decode()}")
    return elapsed, peak


def write_batch(incoming: Path, day: str, rows: int) -> None:
    """``rows`` bundled reviews under new ids as the day's file; one id comes twice."""
    texts = pd.read_csv(bundled_dataset_path())[TEXT]
    texts = texts.repeat(-(-rows // len(texts))).iloc[:rows].reset_index(drop=True)
    ids = pd.Series([f"review-{index:09d}" for index in range(rows)])
    ids.iloc[-1] = ids.iloc[0]
    folder = incoming / f"ds={day}"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": ids, TEXT: texts}).to_parquet(folder / "batch.parquet", index=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 2_000_000, 5_000_000])
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress lines as they come
    home = Path(tempfile.mkdtemp(prefix="extraction-bench-"))
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
        f"{ENV_PREFIX}DATA_SOURCE": "files",
        f"{ENV_PREFIX}DATA_DIR": str(home / "data"),
        f"{ENV_PREFIX}INCOMING_DIR": str(home / "incoming"),
        f"{ENV_PREFIX}FEEDBACK_DIR": str(home / "feedback"),
        f"{ENV_PREFIX}OUTGOING_DIR": str(home / "outgoing"),
        f"{ENV_PREFIX}ARTIFACT_ROOT": str(home / "mlartifacts"),
        f"{ENV_PREFIX}TRAINING_FILES": str(bundled_dataset_path()),
        f"{ENV_PREFIX}MODEL_CACHE_DIR": str(home / "model-cache"),
        f"{ENV_PREFIX}TUNED_SETTINGS_FILE": str(home / "tuned.toml"),
        # Each day is written whole before extract runs: read it at once.
        f"{ENV_PREFIX}BATCH_SETTLE_SECONDS": "0",
    }
    try:
        print(f"training the champion in {home} ...", flush=True)
        subprocess.run([*COMMAND, "train"], env=env, check=True, capture_output=True)
        rows = []
        for index, size in enumerate(args.sizes):
            day = f"2026-03-{index + 1:02d}"
            write_batch(home / "incoming", day, size)
            extract = timed(["extract", "--date", day], env)
            predict = timed(["predict", "--date", day], env)
            rows.append((size, extract, predict))
            print(f"{size:,} rows: extract {extract[0]:.1f} s, predict {predict[0]:.1f} s")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"\n`{PROJECT_SLUG} extract` and `predict --date`, whole processes, one run each:\n")
    print("| rows | extract s | extract MiB | predict s | predict MiB | extract / predict |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for size, (extract_s, extract_mb), (predict_s, predict_mb) in rows:
        print(
            f"| {size:,} | {extract_s:.1f} | {extract_mb:,.0f} | {predict_s:.1f} | "
            f"{predict_mb:,.0f} | {extract_s / predict_s:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
