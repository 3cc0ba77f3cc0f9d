"""Benchmark, not a test: batch inference next to scikit-learn's bare predict_proba, and training.

Every measurement runs in a fresh process, as an Airflow task would, against
a throwaway MLflow tracking server (as `stack up` runs it) and data directory,
while this process samples the memory of that process and its children (the
inference workers) from /proc:

- training (`run_training`: validate, fit, evaluate, register) on labeled
  files of each size, with the configured model;
- loading the champion from the registry (skops) and from the host's model
  cache, which serves every later run of the same version;
- batch inference on synthetic reviews and on the bundled sample reviews
  (repeated under new ids), each against the champion's bare `predict_proba`
  on the same texts already in memory, in one process (the model's speed):
  in-process (`batch_predict` timed inside a child that has imported it) and
  as whole tasks timed from spawn to exit, imports included: `<slug> predict
  --date D`, and the shard task as Airflow runs it (`predict_shard` in a
  fresh process that imports only steps/shards.py; plan and merge apart);
  and where the wall time of `predict --date` goes, phase by phase;
- shard-count scaling: one batch cut into k shards, scored by 1 and by 2
  workers (a process slot pinned to one core, one inference worker), and a
  least-squares model of that wall time, extrapolated to more workers.

    uv run python benchmarks/inference_throughput.py [--sizes 10000 100000 1000000]
        [--memory-size 5000000] [--training-sizes 1000 10000 100000]
        [--scaling-rows 1000000] [--scaling-shards 1 2 4] [--repeat 2]
        [--whole-task-sizes 1000000]

Targets at 1,000,000 rows: in-process at least 1.8 x the bare rate, the
shard task as a whole process at least 1.3 x, `predict --date` as a whole
process at least 1.1 x (each of its runs paired with a bare run); the memory
size under 1 GB; training on 100,000 rows under 60 s. The numbers mean most
with compiled bytecode, as a worker image has it (`nox -s bench` compiles it
first).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import queue
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

import numpy as np
import pandas as pd
import psutil
from sentiment_pipeline import settings as settings_module
from sentiment_pipeline.data import storage
from sentiment_pipeline.data.schema import LABEL, TEXT, bundled_dataset_path
from sentiment_pipeline.data.synthetic import synthesize_reviews
from sentiment_pipeline.platform import stack

IN_PROCESS_TARGET = 1.8
WHOLE_TASK_TARGET = 1.3
# `predict --date` as a whole process, paired with bare runs.
PREDICT_TARGET = 1.1
MEMORY_TARGET_MB = 1024
TRAINING_TARGET_SECONDS = 60
TARGET_ROWS = 1_000_000
DAY = "2026-01-01"
# Unique synthetic reviews; larger batches repeat them under new ids.
DISTINCT_REVIEWS = 100_000
# Batches: which texts, and the month their logical dates fall in.
DATASETS = {"synthetic": 2, "sample": 3}
SCALING_MONTH = 4
# Every batch size of this run, in order: a batch's day of the month.
BATCH_SIZES: list[int] = []
# Extrapolated by the scaling model: (rows a day, shard rows, workers).
PROJECTIONS = [(50_000_000, 1_000_000, 10), (50_000_000, 500_000, 100)]

# Every child notes when its script started and when its imports were done,
# so the parent can split a whole task's wall time into start, imports and work.
CHILD = """
import time
started = time.time()
import json, sys
task, day, arg = sys.argv[1:4]
if task == "shard":
    # What the Airflow task imports: steps/shards.py, no MLflow.
    from PACKAGE.settings import load_settings
    from PACKAGE.steps.shards import predict_shard
    imported = time.time()
    with open(arg) as file:
        shard = json.load(file)
    out = predict_shard(load_settings(), shard)
elif task == "phases":
    # `predict --date` as cmd_predict runs it (a sidecar for MLflow), with clocks
    # at each boundary and around the shard's reading, validating and writing.
    from functools import partial
    from PACKAGE.settings import load_settings
    from PACKAGE.tracking import inference_run, sidecar
    settings = load_settings()
    starting = sidecar.started(partial(inference_run.prepare, settings))
    side = starting.__enter__()
    # Answered when the sidecar's warm-up (MLflow's import, the connection) is done.
    warmed = side.submit(time.time)
    from PACKAGE.data import storage
    from PACKAGE.steps import inference, shards
    imported = time.time()
    clock, spent = {}, {"read": 0.0, "validate": 0.0, "loop": 0.0, "write": 0.0}

    def timed(key, iterator):
        while True:
            began = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                spent[key] += time.perf_counter() - began
                return
            spent[key] += time.perf_counter() - began
            yield item

    def wrap(module, name, key):
        original = getattr(module, name)
        setattr(module, name, lambda *a, **k: timed(key, iter(original(*a, **k))))

    wrap(storage, "read_parquet_range", "read")
    wrap(shards, "validated", "validate")
    wrap(shards, "score_chunks", "loop")
    write = storage.ParquetStream.write

    def timed_write(self, rows):
        began = time.perf_counter()
        write(self, rows)
        spent["write"] += time.perf_counter() - began

    storage.ParquetStream.write = timed_write
    submit = side.submit

    def stamped(function, *args, **kwargs):
        clock[f"{function.__name__}_sent"] = time.time()
        answer = submit(function, *args, **kwargs)
        result = answer.result

        def stamped_result():
            value = result()
            clock[f"{function.__name__}_answered"] = time.time()
            return value

        answer.result = stamped_result
        return answer

    side.submit = stamped
    predict_shard = inference.predict_shard

    def stamped_shard(*args):
        clock["shard_started"] = time.time()
        result = predict_shard(*args)
        clock["shard_done"] = time.time()
        return result

    inference.predict_shard = stamped_shard
    build_pipeline = inference.build_pipeline

    def stamped_build(*args):
        build_pipeline(*args)
        clock["sklearn_imported"] = time.time()

    inference.build_pipeline = stamped_build
    result = inference.batch_predict(settings, day, mlflow_side=side)
    clock["merged"] = time.time()
    print(json.dumps(result, indent=2, default=str), file=sys.stderr)
    starting.__exit__(None, None, None)
    spent["wait"] = spent["loop"] - spent["validate"]
    spent["validate"] -= spent["read"]
    out = {"clock": clock, "spent": spent, "warmed": warmed.result(), "rows": result["rows"],
           "load": result["metrics"]["model_load_seconds"]}
    import gc
    gc.freeze()  # as the CLI does before its process exits
elif task in ("plan", "merge", "predict"):
    from PACKAGE.settings import load_settings
    from PACKAGE.steps import inference
    imported = time.time()
    settings = load_settings()
    if task == "plan":
        out = {"plan": inference.plan_shards(settings, day)}
    elif task == "merge":
        with open(arg) as file:
            out = inference.merge_shards(settings, json.load(file))
    else:
        began = time.perf_counter()
        result = inference.batch_predict(settings, day)
        metrics = result["metrics"]
        out = {"seconds": time.perf_counter() - began, "rows": result["rows"],
               "load": metrics["model_load_seconds"], "score": metrics["scoring_seconds"]}
else:
    from PACKAGE.data import storage
    from PACKAGE.steps import training
    from PACKAGE.tracking import registry
    from PACKAGE.settings import load_settings
    imported = time.time()
    settings = load_settings()
    if task == "load":
        began = time.perf_counter()
        registry.load_champion(settings)
        out = {"seconds": time.perf_counter() - began}
    elif task == "bare":
        import pandas as pd
        model = registry.load_champion(settings).model
        snapshot = storage.partition_dir(settings.data.data_dir, storage.BATCHES, day)
        from PACKAGE.model.scoring import model_input
        # The texts as Python strings, the form the model reads fastest and the
        # pipeline hands it: the model's own speed, so 2 workers top out at 2.0 x.
        texts = model_input(pd.read_parquet(snapshot / storage.BATCH_FILE, columns=["text"]))
        began = time.perf_counter()
        model.predict_proba(texts)
        out = {"seconds": time.perf_counter() - began, "rows": len(texts)}
    elif task == "train":
        began = time.perf_counter()
        result = training.run_training(settings, day, training_path=arg)
        out = {"seconds": time.perf_counter() - began, "rows": result["rows"]}
out.update(started=started, imported=imported, finished=time.time(),
           mlflow_imported="mlflow" in sys.modules)
print(json.dumps(out, default=str))
"""


def tree_memory_mb(root: int) -> tuple[float, float]:
    """RSS and PSS summed over ``root`` and its descendants, in MB."""
    rss = pss = 0.0
    try:
        parent = psutil.Process(root)
        processes = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return rss, pss
    for process in processes:
        try:
            rss_bytes, pss_bytes = stack.memory_bytes(process)
        except psutil.Error:  # exited while being read
            continue
        rss, pss = rss + rss_bytes / 2**20, pss + pss_bytes / 2**20
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


def measure(
    package: str,
    env: dict[str, str],
    *args: str,
    command: list[str] | None = None,
    memory: bool = True,
    core: int | None = None,
) -> dict:
    """Run one task in a fresh process: its output, its wall time from spawn to exit, and
    (with ``memory``) the peak memory of its process tree, sampled every 0.1 s.

    ``command`` replaces the child script (its stdout must be one JSON value);
    ``core`` pins the process, and any it forks, to that core.
    """
    command = command or [sys.executable, "-c", CHILD.replace("PACKAGE", package), *args]
    pin = None if core is None else (lambda: os.sched_setaffinity(0, {core}))
    spawned = time.time()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=pin
    )
    peak = {"rss": 0.0, "pss": 0.0}

    def sample() -> None:
        while process.poll() is None:
            rss, pss = tree_memory_mb(process.pid)
            peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    if memory:
        sampler.start()
    stdout, stderr = process.communicate()
    exited = time.time()
    if memory:
        sampler.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(args or command[:4])} failed:\n{stderr[-3000:]}")
    try:
        out = json.loads(stdout.strip().splitlines()[-1])
    except json.JSONDecodeError:  # the CLI prints indented JSON
        out = json.loads(stdout)
    return {**out, **peak, "wall": exited - spawned, "spawned": spawned, "exited": exited}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--memory-size", type=int, default=5_000_000)
    parser.add_argument("--training-sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=2, help="runs per size (medians)")
    parser.add_argument(
        "--datasets", nargs="+", choices=sorted(DATASETS), default=list(DATASETS),
        help="which texts batch inference scores",
    )  # fmt: skip
    parser.add_argument(
        "--whole-task-sizes", type=int, nargs="+", default=[1_000_000],
        help="sizes (of --sizes) also timed as whole tasks",
    )  # fmt: skip
    parser.add_argument("--scaling-rows", type=int, default=1_000_000, help="0 skips scaling")
    parser.add_argument("--scaling-shards", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--scaling-workers", type=int, nargs="+", default=[1, 2])
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


def write_batch(settings: settings_module.Settings, rows: int, dataset: str) -> str:
    """A batch of ``rows`` synthetic or bundled sample reviews, repeated under new ids;
    returns its logical date."""
    if dataset == "sample":
        distinct = pd.read_csv(bundled_dataset_path())[TEXT]
    else:
        distinct = synthesize_reviews(DAY, min(rows, DISTINCT_REVIEWS))[TEXT]
    texts = distinct.repeat(-(-rows // len(distinct))).iloc[:rows].reset_index(drop=True)
    ids = [f"{index:09d}" for index in range(rows)]
    day = batch_day(dataset, rows)
    snapshot = storage.partition_dir(settings.data.data_dir, storage.BATCHES, day)
    storage.write_parquet(pd.DataFrame({"id": ids, TEXT: texts}), snapshot / storage.BATCH_FILE)
    return day


def batch_day(dataset: str, rows: int) -> str:
    """The logical date of the batch of ``rows`` rows of ``dataset``: one day per size."""
    month = SCALING_MONTH if dataset == "scaling" else DATASETS[dataset]
    return f"2026-{month:02d}-{1 + BATCH_SIZES.index(rows):02d}"


def bytecode_state() -> str:
    """Whether the imports a task pays for come from compiled bytecode."""
    modules = [
        "pandas",
        "pyarrow",
        "sklearn",
        "mlflow",
        "sqlalchemy",
        f"{settings_module.PACKAGE_NAME}.steps.shards",
    ]
    missing = []
    for name in modules:
        origin = importlib.util.find_spec(name).origin
        if not Path(importlib.util.cache_from_source(origin)).is_file():
            missing.append(name)
    writes = "off" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on"
    state = "compiled" if not missing else f"NOT compiled for {', '.join(missing)}"
    return (
        f"bytecode: {state} (PYTHONDONTWRITEBYTECODE is {'set' if writes == 'off' else 'unset'}:"
        f" Python {'will not write' if writes == 'off' else 'writes'} it on import; a worker"
        f" image compiles it, UV_COMPILE_BYTECODE=1, as `nox -s bench` does first)"
    )


def run_shard_tasks(
    package: str, env: dict[str, str], home: Path, plan: list[dict], workers: int | None
) -> list[dict]:
    """Each shard as its own fresh process, on ``workers`` slots pinned to one core each
    (``None``: one after another on every core)."""
    pending: queue.Queue = queue.Queue()
    for shard in plan:
        path = home / f"shard-{shard['token']}-{shard['shard']}.json"
        path.write_text(json.dumps(shard))
        pending.put(path)
    results: list[dict] = []
    cores = sorted(os.sched_getaffinity(0))

    def slot(core: int) -> None:
        while True:
            try:
                path = pending.get_nowait()
            except queue.Empty:
                return
            results.append(measure(package, env, "shard", "", str(path), memory=False, core=core))

    threads = [
        threading.Thread(target=slot, args=(None if workers is None else cores[index % len(cores)],))
        for index in range(workers or 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(results) != len(plan):
        raise SystemExit(f"{len(plan) - len(results)} shard tasks failed")
    return sorted(results, key=lambda result: result["shard"])


def plan_score_merge(
    package: str, env: dict[str, str], home: Path, day: str, workers: int | None = None
) -> dict:
    """plan_shards, the shard tasks and merge_shards, each in fresh processes, timed apart.

    Without ``workers`` the shards run one after another, unpinned, as a worker with
    every core runs them (inference_workers from the settings).
    """
    began = time.perf_counter()
    plan = measure(package, env, "plan", day, "", memory=False)
    shards_began = time.perf_counter()
    shards = run_shard_tasks(package, env, home, plan["plan"], workers)
    shards_done = time.perf_counter()
    results = home / f"results-{plan['plan'][0]['token']}.json"
    results.write_text(json.dumps([{k: v for k, v in shard.items() if k in KEEP} for shard in shards]))
    merge = measure(package, env, "merge", day, str(results), memory=False)
    done = time.perf_counter()
    return {
        "wall": done - began,
        "plan": plan["wall"],
        "shards": shards_done - shards_began,
        "merge": merge["wall"],
        "tasks": shards,
        "rows": merge["rows"],
    }


# What predict_shard returns (its XCom), without what the child adds.
KEEP = {
    "logical_date",
    "shard",
    "shards",
    "token",
    "rows",
    "rejected_rows",
    "model_version",
    "model_load_seconds",
    "scoring_seconds",
}


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def verdict(rows: int, ratio: float, target: float) -> str:
    if rows != TARGET_ROWS:
        return ""
    return f"{'ok' if ratio >= target else 'MISSED'} (>= {target} x)"


def run(args: argparse.Namespace, home: Path, env: dict[str, str], package: str) -> int:
    os.environ.update(env)
    settings = settings_module.load_settings()
    load_before = os.getloadavg()
    print(
        f"{os.cpu_count()} cores ({platform_cpu()}), Python {sys.version.split()[0]}, "
        f"inference_workers={settings.data.inference_workers or 'all'}, "
        f"chunks of {settings.data.inference_chunk_rows:,} rows, "
        f"shard_rows {settings.data.shard_rows:,}, model {settings.model.estimator}; "
        f"data in {home}"
    )
    print(bytecode_state())
    print(f"load average before: {' '.join(f'{value:.2f}' for value in load_before)}")

    print(f"\nTraining ({settings.model.estimator}, run_training end to end)")
    print(f"{'rows':>11} {'seconds':>9}")
    training_files = home / "training"
    training_files.mkdir()
    for rows in sorted(args.training_sizes):
        reviews = synthesize_reviews("2025-01-01", rows)[[TEXT, LABEL]]
        path = training_files / f"reviews-{rows}.csv"
        reviews.to_csv(path, index=False)
        result = measure(package, env, "train", DAY, str(path))
        met = ""
        if rows == 100_000:
            ok = result["seconds"] < TRAINING_TARGET_SECONDS
            met = f"{'ok' if ok else 'MISSED'} (< {TRAINING_TARGET_SECONDS} s)"
        print(f"{rows:>11,} {result['seconds']:>9.1f}  {met}")

    # Training cached the versions it loaded; a new champion's first load on
    # a host goes to the registry.
    shutil.rmtree(home / "model-cache")
    cold = measure(package, env, "load", DAY, "")["seconds"]
    warm = statistics.median(measure(package, env, "load", DAY, "")["seconds"] for _ in range(args.repeat))
    print(
        f"\nChampion load (load_champion in a fresh process): {cold:.2f} s from the registry"
        f" (skops), {warm:.2f} s from this host's model cache"
    )

    sizes = sorted(args.sizes)
    BATCH_SIZES.extend(sorted({*sizes, args.memory_size, args.scaling_rows}))
    bare_rates: dict[tuple[str, int], float] = {}
    for dataset in args.datasets:
        in_process_table(args, settings, env, package, dataset, sizes, bare_rates)
        whole_task_table(args, settings, home, env, package, dataset, sizes, bare_rates)
    if args.scaling_rows:
        scaling(args, settings, home, env, package, bare_rates)
    load_after = os.getloadavg()
    print(f"\nload average after: {' '.join(f'{value:.2f}' for value in load_after)}")
    return 0


def platform_cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def in_process_table(args, settings, env, package, dataset, sizes, bare_rates) -> None:
    """batch_predict inside a child that has already imported it; bare rate per size."""
    print(
        f"\nBatch inference in-process, {dataset} reviews: batch_predict timed inside a fresh"
        " child after its imports (champion from the model cache, plan, read, validate, predict,"
        f" write, merge, MLflow run), vs bare predict_proba; medians of {args.repeat} runs"
    )
    print(
        f"{'rows':>11} {'rows/s':>10} {'bare rows/s':>12} {'ratio':>6} {'imports s':>10}"
        f" {'load s':>7} {'scoring s':>10} {'plan+merge s':>13} {'peak RSS MB':>12}"
        f" {'peak PSS MB':>12}"
    )
    memory_size = args.memory_size if dataset == "synthetic" else 0
    for rows in sizes + ([memory_size] if memory_size and memory_size not in sizes else []):
        day = write_batch(settings, rows, dataset)
        memory_only = rows not in sizes
        runs, bares = [], []
        for _ in range(1 if memory_only else args.repeat):
            pipeline = measure(package, env, "predict", day, "")
            assert pipeline["rows"] == rows, pipeline
            runs.append(pipeline)
            if not memory_only:
                bares.append(measure(package, env, "bare", day, "")["seconds"])
        seconds = median_of(runs, "seconds")
        imports = statistics.median(run["imported"] - run["started"] for run in runs)
        load, score = median_of(runs, "load"), median_of(runs, "score")
        rss, pss = max(run["rss"] for run in runs), max(run["pss"] for run in runs)
        if memory_only:
            bare_text = f"{'':>12} {'':>6}"
            met = f"{'ok' if pss < MEMORY_TARGET_MB else 'MISSED'} (PSS < 1 GB)"
        else:
            bare_rates[dataset, rows] = bare = rows / statistics.median(bares)
            ratio = rows / seconds / bare
            bare_text = f"{bare:>12,.0f} {ratio:>6.2f}"
            met = verdict(rows, ratio, IN_PROCESS_TARGET)
        print(
            f"{rows:>11,} {rows / seconds:>10,.0f} {bare_text} {imports:>10.2f} {load:>7.2f}"
            f" {score:>10.2f} {seconds - load - score:>13.2f} {rss:>12,.0f} {pss:>12,.0f}  {met}"
        )


def whole_task_table(args, settings, home, env, package, dataset, sizes, bare_rates) -> None:
    """Fresh processes timed by this one from spawn to exit, Python start and imports included."""
    print(
        f"\nBatch inference as whole tasks, {dataset} reviews: fresh processes timed from"
        f" spawn to exit, imports included; medians of {args.repeat} runs"
    )
    print(
        "  predict: `<slug> predict --date D` (plan, score, merge, MLflow run: what a user"
        " waits for); shard task: `python -c` importing steps/shards.py, predict_shard on one"
        " shard of the whole batch planned beforehand (as an Airflow worker runs it, every"
        " core); plan and merge: their own fresh processes"
    )
    print(
        f"{'rows':>11} {'bare rows/s':>12} | {'predict s':>9} {'ratio':>6} {'start+imports s':>15}"
        f" {'load s':>7} {'scoring s':>10} | {'shard task s':>12} {'ratio':>6}"
        f" {'start+imports s':>15} {'load s':>7} {'scoring s':>10} {'exit s':>7}"
        f" {'MLflow?':>7} | {'plan s':>7} {'merge s':>8}"
    )
    one_shard = {**env, f"{settings_module.ENV_PREFIX}SHARD_ROWS": str(max(sizes))}
    command = [sys.executable, "-m", package, "--json", "predict", "--date"]
    phases: dict[int, list[dict]] = {}
    for rows in [size for size in sizes if size in args.whole_task_sizes]:
        day = batch_day(dataset, rows)
        cli, tasks, bares, pairs = [], [], [], []
        for _ in range(args.repeat):
            predicted = measure(package, env, command=[*command, day], memory=False)
            assert predicted["rows"] == rows, predicted
            cli.append(predicted)
            # Paired: the bare rate of the same texts right after, so a ratio
            # compares two runs under the same load on a shared machine.
            bares.append(measure(package, env, "bare", day, "", memory=False)["seconds"])
            pairs.append(bares[-1] / predicted["wall"])
            tasks.append(plan_score_merge(package, one_shard, home, day))
        phases[rows] = [measure(package, env, "phases", day, "", memory=False) for _ in range(args.repeat)]
        bare = rows / statistics.median(bares)
        wall = median_of(cli, "wall")
        ratio = statistics.median(pairs)
        load = statistics.median(run["metrics"]["model_load_seconds"] for run in cli)
        score = statistics.median(run["metrics"]["scoring_seconds"] for run in cli)
        # The shard task's own process: spawn to exit.
        shard_runs = [task["tasks"][0] for task in tasks]
        shard_wall = median_of(shard_runs, "wall")
        shard_ratio = rows / shard_wall / bare
        starting = statistics.median(run["imported"] - run["spawned"] for run in shard_runs)
        shard_load = median_of(shard_runs, "model_load_seconds")
        shard_score = median_of(shard_runs, "scoring_seconds")
        exiting = statistics.median(run["exited"] - run["finished"] for run in shard_runs)
        mlflow = "yes" if any(run["mlflow_imported"] for run in shard_runs) else "no"
        print(
            f"{rows:>11,} {bare:>12,.0f} | {wall:>9.2f} {ratio:>6.2f}"
            f" {wall - load - score:>15.2f} {load:>7.2f} {score:>10.2f} |"
            f" {shard_wall:>12.2f} {shard_ratio:>6.2f} {starting:>15.2f} {shard_load:>7.2f}"
            f" {shard_score:>10.2f} {exiting:>7.2f} {mlflow:>7} |"
            f" {median_of(tasks, 'plan'):>7.2f} {median_of(tasks, 'merge'):>8.2f}"
        )
        print(
            f"{'':>11} predict at {rows:,} rows: {rows / wall:,.0f} rows/s; paired with a bare"
            f" run each, {ratio:.2f} x bare (median of {', '.join(f'{p:.2f}' for p in pairs)})"
            f"  {verdict(rows, ratio, PREDICT_TARGET)}"
        )
        if met := verdict(rows, shard_ratio, WHOLE_TASK_TARGET):
            print(f"{'':>11} shard task at {rows:,} rows: {shard_ratio:.2f} x bare, {met}")
    print(
        "  predict's start+imports s is its wall time less model load and scoring: Python start,"
        " imports, the wait for the champion's pin, plan, merge, the MLflow run and exit"
    )
    for rows, runs in phases.items():
        predict_phases(rows, runs)


def predict_phases(rows: int, runs: list[dict]) -> None:
    """Where the wall time of `predict --date` goes, from runs with clocks at each boundary."""

    def median(span) -> float:
        return statistics.median(span(run) for run in runs)

    def clock(name: str):
        return lambda run: run["clock"][name]

    def between(first, then):
        return median(lambda run: then(run) - first(run))

    def spent(key: str) -> float:
        return median(lambda run: run["spent"][key])

    spawned, imported = (lambda run: run["spawned"]), (lambda run: run["imported"])
    shard = between(clock("shard_started"), clock("shard_done"))
    load = median(lambda run: run["load"])
    read, validate, wait, write = (spent(key) for key in ("read", "validate", "wait", "write"))
    print(
        f"\n`predict --date` at {rows:,} rows, where the wall time goes: the same code path with"
        f" clocks at each boundary, medians of {len(runs)} runs (this process's critical path;"
        " the sidecar's work overlaps it)"
    )
    warmed, pinned = (lambda run: run["warmed"]), clock("pin_champion_answered")
    sklearn = clock("sklearn_imported")
    steps = [
        ("Python start, imports (pandas, pyarrow)", spawned, imported),
        ("scikit-learn's import, once the pin is asked for", imported, sklearn),
        ("waiting for the champion's pin (the sidecar resolves the alias)", sklearn, pinned),
        ("  the sidecar, meanwhile: Python start, MLflow import, connect", spawned, warmed),
        ("plan", pinned, clock("shard_started")),
    ]  # fmt: skip
    for name, first, then in steps:
        print(f"  {name:<68} {between(first, then):>6.2f} s")
    print(f"  {'shard, in all':<68} {shard:>6.2f} s")
    rest = shard - load - read - validate - wait - write
    for name, value in (
        ("model load (this host's cache)", load),
        ("reading the snapshot", read),
        ("validating (blank texts set aside)", validate),
        ("waiting on the workers (they score while this reads and writes)", wait),
        ("writing the predictions", write),
        ("counting, digesting, building the output rows", rest),
    ):
        print(f"    {name:<66} {value:>6.2f} s")
    tail = [
        ("merge (counts, drift metrics)", clock("shard_done"), clock("log_run_sent")),
        ("MLflow run logged by the sidecar", clock("log_run_sent"), clock("log_run_answered")),
        ("publish (parts in place), print", clock("log_run_answered"), clock("merged")),
        ("sidecar closed, Python exit", clock("merged"), lambda run: run["exited"]),
    ]
    for name, first, then in tail:
        print(f"  {name:<68} {between(first, then):>6.2f} s")
    total = between(spawned, lambda run: run["exited"])
    print(f"  {'whole process, spawn to exit (with the clocks)':<68} {total:>6.2f} s")


def scaling(args, settings, home, env, package, bare_rates) -> None:
    """One batch in k shards on W one-core workers; a least-squares model of the wall time."""
    rows = args.scaling_rows
    day = write_batch(settings, rows, "scaling")
    bare = bare_rates.get(("synthetic", rows))
    prefix = settings_module.ENV_PREFIX
    print(
        f"\nShard-count scaling, {rows:,} synthetic rows: plan, then k shard tasks as fresh"
        " processes on W workers (process slots pinned to one core each, inference_workers=1:"
        " 1 worker runs them one after another, 2 run two at a time), then merge; wall from"
        " the plan's spawn to the merge's exit, one run each"
    )
    print(
        f"{'shards':>7} {'shard rows':>11} {'workers':>8} {'wall s':>8} {'plan s':>7}"
        f" {'shards s':>9} {'merge s':>8} {'per shard s':>12} {'rows/s':>10} {'model s':>8}"
    )
    points = []
    for workers in args.scaling_workers:
        for count in args.scaling_shards:
            shard_rows = -(-rows // count)
            run_env = {
                **env,
                f"{prefix}SHARD_ROWS": str(shard_rows),
                f"{prefix}INFERENCE_WORKERS": "1",
            }
            result = plan_score_merge(package, run_env, home, day, workers)
            assert result["rows"] == rows, result
            points.append((count, workers, shard_rows, result))
    # With one worker every point scores all the rows, so a joint fit cannot tell
    # plan+merge from per_row: fit the shard term on every shard task's own wall
    # time (spawn to exit) against its rows, then plan+merge on what the walls leave.
    tasks = [task for *_, result in points for task in result["tasks"]]
    design = np.array([[1.0, task["rows"]] for task in tasks])
    walls = np.array([task["wall"] for task in tasks])
    (shard_fixed, per_row), *_ = np.linalg.lstsq(design, walls, rcond=None)
    fixed_total = statistics.fmean(
        result["wall"] - math.ceil(k / w) * (shard_fixed + size * per_row) for k, w, size, result in points
    )

    def model(count: int, workers: int, shard_rows: int) -> float:
        rounds = math.ceil(count / workers)
        return fixed_total + rounds * (shard_fixed + shard_rows * per_row)

    for count, workers, shard_rows, result in points:
        per_shard = statistics.median(task["wall"] for task in result["tasks"])
        print(
            f"{count:>7} {shard_rows:>11,} {workers:>8} {result['wall']:>8.2f}"
            f" {result['plan']:>7.2f} {result['shards']:>9.2f} {result['merge']:>8.2f}"
            f" {per_shard:>12.2f} {rows / result['wall']:>10,.0f}"
            f" {model(count, workers, shard_rows):>8.2f}"
        )
    print(
        f"Fitted (least squares over these {len(points)} runs' {len(tasks)} shard tasks, then"
        f" their walls): wall = plan+merge"
        f" {fixed_total:.2f} s + ceil(k/W) x (shard_fixed {shard_fixed:.2f} s"
        f" + shard rows x {per_row * 1e6:.2f} s per million rows)"
    )
    print("\nMODEL, NOT MEASURED: the fit above extrapolated to more workers")
    print(
        f"{'rows a day':>12} {'shard rows':>11} {'shards':>7} {'workers':>8} {'wall s':>8}"
        f" {'rows/s':>11} {'x bare':>7}"
    )
    for day_rows, shard_rows, workers in PROJECTIONS:
        count = -(-day_rows // shard_rows)
        wall = model(count, workers, shard_rows)
        ratio = f"{day_rows / wall / bare:>7.1f}" if bare else f"{'':>7}"
        print(
            f"{day_rows:>12,} {shard_rows:>11,} {count:>7} {workers:>8} {wall:>8.1f}"
            f" {day_rows / wall:>11,.0f} {ratio}   (model, not measured)"
        )
    print(
        "  The model holds plan+merge fixed and assumes one core per worker and a shared"
        " file system that keeps up; merging 100 shards' stats files costs more than merging 4."
    )


if __name__ == "__main__":
    sys.exit(main())
