"""The load driver of test_load.py: `serve` answering every request under load.

Starts `{{ cookiecutter.project_slug }} serve` on the store the environment names
(MLFLOW_TRACKING_URI and the ``{{ cookiecutter.package_name.upper() }}_*`` variables) as its own
process, then ``--clients`` threads send ``--requests`` small requests (1 to 5
texts) over keep-alive connections while ``--big-clients`` threads send
10,000-text requests until they are done, and one more polls /health. Prints,
as JSON, p50 and p99 latency of each kind, the errors, and the server's peak
memory (the largest resident size the kernel saw, once it has exited).

    uv run python -m tests.serving.load [--requests 2000] [--clients 8] [--big-clients 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
{% if cookiecutter.data_source == "demo" %}
from {{ cookiecutter.package_name }}.data.synthetic import synthesize_reviews
{%- else %}
from tests.synthetic import synthesize_reviews
{%- endif %}

DAY = "2026-01-01"
BIG_TEXTS = 10_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(
    env: dict[str, str], port: int, log: Path, command: list[str] | None = None
) -> subprocess.Popen:
    """Start ``command`` (by default `serve`) on ``port``; return once /health answers 200."""
    if command is None:
        command = [sys.executable, "-m", "{{ cookiecutter.package_name }}", "serve"]
    command = [*command, "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit(f"the server did not become healthy; its log: {log}")
        time.sleep(0.2)


class Recorder:
    """Latencies and errors of one kind of request, shared by its threads."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def add(self, seconds: float, error: str | None) -> None:
        with self._lock:
            self.latencies.append(seconds)
            if error is not None:
                self.errors.append(error)

    def summary(self) -> dict:
        ordered = sorted(self.latencies)

        def percentile(share: float) -> float | None:
            if not ordered:
                return None
            return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

        return {
            "requests": len(ordered),
            "errors": len(self.errors),
            "p50_ms": percentile(0.50),
            "p99_ms": percentile(0.99),
            "max_ms": percentile(1.0),
            "first_errors": self.errors[:3],
        }


def _client(port: int, method: str, path: str, bodies, recorder: Recorder, keep_going) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for body in bodies:
        if not keep_going():
            break
        started = time.perf_counter()
        error = None
        try:
            connection.request(method, path, body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200:
                error = f"{response.status}: {answer[:200]!r}"
        except (OSError, http.client.HTTPException) as failure:
            error = repr(failure)
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        recorder.add(time.perf_counter() - started, error)
    connection.close()


def drive(port: int, requests: int, clients: int, big_clients: int) -> dict:
    """Run the load against the server on ``port``; the summary of each kind of request."""
    reviews = synthesize_reviews(DAY, BIG_TEXTS)["text"].tolist()
    big_body = json.dumps({"texts": reviews}).encode()
    small, big, health = Recorder(), Recorder(), Recorder()
    done = threading.Event()

    def small_bodies(client: int):
        for number in range(requests // clients + (client < requests % clients)):
            start = (client * 7919 + number * 13) % (len(reviews) - 5)
            yield json.dumps({"texts": reviews[start : start + 1 + number % 5]}).encode()

    def forever(body):
        while True:
            yield body

    background = [
        threading.Thread(
            target=_client,
            args=(port, "POST", "/predict", forever(big_body), big, lambda: not done.is_set()),
        )
        for _ in range(big_clients)
    ]
    background.append(
        threading.Thread(
            target=_client,
            args=(port, "GET", "/health", forever(None), health, lambda: not done.is_set()),
        )
    )
    for thread in background:
        thread.start()
    time.sleep(0.5)  # the first big request is being parsed or scored
    started = time.perf_counter()
    workers = [
        threading.Thread(
            target=_client,
            args=(port, "POST", "/predict", small_bodies(client), small, lambda: True),
        )
        for client in range(clients)
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    seconds = time.perf_counter() - started
    done.set()
    for thread in background:
        thread.join()
    return {
        "seconds": round(seconds, 1),
        "small_requests_per_second": round(len(small.latencies) / seconds, 1),
        "small": small.summary(),
        "big": {"texts": BIG_TEXTS, "body_bytes": len(big_body), **big.summary()},
        "health": health.summary(),
    }


def children_peak_rss_mb() -> float:
    """The peak resident size of the largest child this process has reaped, in MB.

    Run as a script, this driver's one child is the server.
    """
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # Linux counts in kB, macOS in bytes.
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def run_load(
    env: dict[str, str], directory: Path, requests: int, clients: int, big_clients: int
) -> dict:
    """Start `serve` on the store ``env`` names, drive the load, stop it; the summary."""
    port = _free_port()
    server = _start_server(env, port, directory / "serve.log")
    try:
        result = drive(port, requests, clients, big_clients)
    finally:
        server.terminate()
        server.wait(30)
    result["server_peak_rss_mb"] = children_peak_rss_mb()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="small requests in all")
    parser.add_argument("--clients", type=int, default=8, help="threads sending small requests")
    parser.add_argument("--big-clients", type=int, default=1, help="threads sending 10,000 texts")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="serve-load-") as temporary:
        result = run_load(
            dict(os.environ), Path(temporary), args.requests, args.clients, args.big_clients
        )
    result["cores"] = os.cpu_count()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
