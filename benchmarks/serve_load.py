"""Benchmark, not a test: `serve` under load, and against a bare FastAPI app.

Starts `sentiment-pipeline serve` as its own process, then ``--clients`` threads send
``--requests`` small requests (1 to 5 texts) over keep-alive connections
while ``--big-clients`` threads send 10,000-text requests until they are done,
and one more polls /health. Prints p50 and p99 latency of each kind, the
errors, and the server's peak memory (VmHWM from /proc).

    uv run python benchmarks/serve_load.py [--requests 2000] [--clients 8] [--big-clients 1]
        [--existing-store]

``--compare`` measures what `serve`'s protections cost instead: it starts
`serve` and a bare FastAPI app (``bare_app`` below: the same champion, loaded
the same way, no limits or checks), both under uvicorn with one worker, and
sends each the same requests from the same ``--clients`` keep-alive threads,
in rounds that alternate between them so both see the same machine. It
prints requests/s, p50 and p99 of both and their ratio, for 1-text and
100-text requests (``--requests`` and ``--batch-requests`` of each).

    uv run python benchmarks/serve_load.py --compare [--requests 3000] [--batch-requests 600]
        [--rounds 10] [--clients 8] [--json]

By default it trains a champion in a throwaway store first; ``--existing-store``
serves the store the environment names instead (MLFLOW_TRACKING_URI and the
``SENTIMENT_PIPELINE_*`` variables), as the load test does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from pydantic import BaseModel
from sentiment_pipeline.data.synthetic import synthesize_reviews
from sentiment_pipeline.settings import ENV_PREFIX

# The load driver is the rendered project's own (its load test runs it): import it from there.
sys.path.insert(0, str(Path.cwd()))
from tests.serving.load import DAY, Recorder, _client, _free_port, _start_server, run_load


def _throwaway_store(directory: Path) -> dict[str, str]:
    """The environment of a fresh store under ``directory``, with a champion trained in it."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{directory / 'mlflow.db'}",
        f"{ENV_PREFIX}DATA_SOURCE": "demo",
        f"{ENV_PREFIX}DATA_DIR": str(directory / "data"),
        f"{ENV_PREFIX}ARTIFACT_ROOT": str(directory / "mlartifacts"),
        f"{ENV_PREFIX}MODEL_CACHE_DIR": str(directory / "model-cache"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "sentiment_pipeline", "train", "--date", DAY],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"training the benchmark's champion failed: {done.stderr[-2000:]}")
    return env


# --compare: `serve` against a bare FastAPI app.


class Texts(BaseModel):
    """The bare app's body; at module level, where FastAPI resolves the annotation."""

    texts: list[str]


def bare_app(settings):
    """What `serve` is measured against: the champion behind FastAPI, nothing else.

    No body limit, no checks beyond the type of ``texts``, no refresh: the
    champion is loaded once, as `serve` loads it. The texts reach the model as
    Python strings, the form `serve`'s scoring hands it, so the ratio measures
    the serving code and not the column type.
    """
    import pandas as pd
    from fastapi import FastAPI
    from sentiment_pipeline.data.schema import TEXT
    from sentiment_pipeline.tracking.registry import load_champion

    champion = load_champion(settings)
    model, classes = champion.model, champion.model.classes_
    app = FastAPI()

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/predict")
    def predict(body: Texts) -> dict:
        probabilities = model.predict_proba(pd.DataFrame({TEXT: body.texts}, dtype=object))
        best = probabilities.argmax(axis=1)
        predictions = [
            {"label": str(classes[index]), "confidence": float(row[index])}
            for row, index in zip(probabilities, best, strict=True)
        ]
        return {"model_version": champion.version, "predictions": predictions}

    return app


def _serve_bare(port: int) -> int:
    """Run ``bare_app`` as `serve` runs its app: uvicorn, one worker, the same log level."""
    import uvicorn
    from sentiment_pipeline.settings import load_settings

    uvicorn.run(bare_app(load_settings()), host="127.0.0.1", port=port, log_level="info")
    return 0


def _bodies(size: int, count: int) -> list[bytes]:
    """``count`` distinct request bodies of ``size`` texts each, encoded before the clock starts."""
    reviews = synthesize_reviews(DAY, max(5_000, size * 50))["text"].tolist()
    bodies = []
    for number in range(count):
        start = (number * 7919) % (len(reviews) - size)
        bodies.append(json.dumps({"texts": reviews[start : start + size]}).encode())
    return bodies


def _round(port: int, bodies: list[bytes], requests: int, clients: int, recorder) -> float:
    """Send ``requests`` bodies from ``clients`` keep-alive threads; the seconds it took."""
    shares = [requests // clients + (client < requests % clients) for client in range(clients)]
    threads = [
        threading.Thread(
            target=_client,
            args=(
                port,
                "POST",
                "/predict",
                (bodies[(client + number * clients) % len(bodies)] for number in range(share)),
                recorder,
                lambda: True,
            ),
        )
        for client, share in enumerate(shares)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def compare(
    servers: dict[str, tuple[int, psutil.Process]],
    sizes: dict[int, int],
    clients: int,
    rounds: int,
) -> dict:
    """For each request size: both servers' throughput, latency and CPU, in alternating rounds.

    Each round sends the same share of requests to one server and then the
    other, the order swapped every round, so drift in the machine's speed
    falls on both; the ratio of each round pair is kept to show the spread.
    The server's own CPU time per request (all its threads) moves less than
    wall time when other work shares the machine.
    """
    ports = {name: port for name, (port, _) in servers.items()}

    def cpu_seconds(name: str) -> float:
        times = servers[name][1].cpu_times()
        return times.user + times.system

    result = {}
    for size, requests in sizes.items():
        bodies = _bodies(size, 200)
        for port in ports.values():  # warm-up: lazy imports, first connections
            _round(port, bodies, clients * 4, clients, Recorder())
        recorders = {name: Recorder() for name in ports}
        seconds = dict.fromkeys(ports, 0.0)
        cpu = dict.fromkeys(ports, 0.0)
        pair_ratios = []
        for number in range(rounds):
            share = requests // rounds + (number < requests % rounds)
            order = list(ports) if number % 2 == 0 else list(reversed(ports))
            took = {}
            for name in order:
                before = cpu_seconds(name)
                took[name] = _round(ports[name], bodies, share, clients, recorders[name])
                cpu[name] += cpu_seconds(name) - before
                seconds[name] += took[name]
            pair_ratios.append(took["bare"] / took["serve"])
        summaries = {}
        for name, recorder in recorders.items():
            summary = recorder.summary()
            summaries[name] = {
                "requests_per_second": round(summary["requests"] / seconds[name], 1),
                **{key: summary[key] for key in ("requests", "errors", "p50_ms", "p99_ms")},
                "cpu_ms_per_request": round(1000 * cpu[name] / max(1, summary["requests"]), 2),
                "first_errors": summary["first_errors"],
            }
        pair_ratios.sort()
        result[f"{size}_text"] = {
            **summaries,
            "throughput_ratio": round(
                summaries["serve"]["requests_per_second"] / summaries["bare"]["requests_per_second"],
                3,
            ),
            "round_ratios": [round(ratio, 3) for ratio in pair_ratios],
        }
    return result


def _print_table(result: dict) -> None:
    print(
        f"{'texts':>5}  {'app':<6}{'requests/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'CPU ms/request':>16}{'errors':>8}"
    )
    for key, row in result.items():
        if not key.endswith("_text"):
            continue
        size = key.removesuffix("_text")
        for name in ("serve", "bare"):
            figures = row[name]
            print(
                f"{size:>5}  {name:<6}{figures['requests_per_second']:>11}"
                f"{figures['p50_ms']:>9}{figures['p99_ms']:>9}"
                f"{figures['cpu_ms_per_request']:>16}{figures['errors']:>8}"
            )
        for name in ("serve", "bare"):
            for error in row[name]["first_errors"]:
                print(f"{size:>5}  {name} error: {error}")
        ratios = row["round_ratios"]
        print(
            f"{size:>5}  serve/bare throughput {row['throughput_ratio']:.2f}; round pairs "
            f"{ratios[0]:.2f} to {ratios[-1]:.2f}, median {statistics.median(ratios):.2f}"
        )
    memory = ", ".join(f"{name} {mb} MB" for name, mb in result["rss_mb"].items())
    print(f"resident memory after the run: {memory}; {result['cores']} cores")


def run_compare(args: argparse.Namespace, directory: Path, env: dict[str, str]) -> dict:
    """Start `serve` and the bare app on the store ``env`` names, compare them, stop both."""
    commands = {
        "serve": None,
        "bare": [sys.executable, str(Path(__file__).resolve()), "--bare-server"],
    }
    servers = {}
    try:
        for name, command in commands.items():
            port = _free_port()
            log = directory / f"{name}.log"
            servers[name] = (port, _start_server(env, port, log, command))
        sizes = {1: args.requests or 3000, 100: args.batch_requests}
        processes = {name: (port, psutil.Process(server.pid)) for name, (port, server) in servers.items()}
        result = compare(processes, sizes, args.clients, args.rounds)
        result["rss_mb"] = {
            name: round(process.memory_info().rss / 2**20, 1) for name, (_, process) in processes.items()
        }
    finally:
        for _, server in servers.values():
            server.terminate()
            server.wait(30)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, help="small requests in all (default 2000; 3000 with --compare)"
    )
    parser.add_argument("--clients", type=int, default=8, help="threads sending small requests")
    parser.add_argument("--big-clients", type=int, default=1, help="threads sending 10,000 texts")
    parser.add_argument("--existing-store", action="store_true", help="serve the store the environment names")
    parser.add_argument("--compare", action="store_true", help="measure `serve` against a bare FastAPI app")
    parser.add_argument("--batch-requests", type=int, default=600, help="100-text requests (--compare)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds (--compare)")
    parser.add_argument("--json", action="store_true", help="print JSON (--compare)")
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_server:
        return _serve_bare(args.port)
    with tempfile.TemporaryDirectory(prefix="serve-load-") as temporary:
        directory = Path(temporary)
        env = dict(os.environ) if args.existing_store else _throwaway_store(directory)
        if args.compare:
            result = run_compare(args, directory, env)
        else:
            result = run_load(env, directory, args.requests or 2000, args.clients, args.big_clients)
    result["cores"] = os.cpu_count()
    if args.compare and not args.json:
        _print_table(result)
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
