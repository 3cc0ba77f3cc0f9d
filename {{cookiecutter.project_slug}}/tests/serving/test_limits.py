"""`serve`'s limits, one cheap probe each: slow headers, slow bodies, bodies in flight, connections.

test_hostile_clients.py runs them at scale (2,000 slow clients, 20 bodies of 15 MB).
"""

from __future__ import annotations

import socket
import time

from {{ cookiecutter.package_name }}.serving.protocol import raise_open_files_limit
from tests.serving.conftest import call, texts_body

TEXTS = ["Absolutely loved it, works perfectly."]


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def _read_until_closed(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and when it closed (seconds from now)."""
    started = time.monotonic()
    sock.settimeout(seconds)
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer, time.monotonic() - started


def test_half_a_header_is_answered_408_and_closed_after_the_timeout(champion_store, serve):
    settings = champion_store.with_overrides(serve_header_timeout_seconds=0.5)
    base = serve(settings)
    with socket.create_connection(("127.0.0.1", _port(base))) as slow:
        slow.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: applic")
        answer, took = _read_until_closed(slow, 10)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert 0.4 < took < 3, took
    # A kept-alive connection's next request has the same deadline, from its first byte.
    with socket.create_connection(("127.0.0.1", _port(base))) as kept:
        kept.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while not first.endswith(b"}"):  # the whole answer: headers, then the JSON body
            first += kept.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        kept.sendall(b"GET /health HTTP/1.1\r\n")
        answer, took = _read_until_closed(kept, 10)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert took < 3
    assert call(f"{base}/predict", texts_body(TEXTS))[0] == 200


def test_headers_over_64_kib_are_answered_431_and_closed(champion_store, serve):
    base = serve(champion_store)
    with socket.create_connection(("127.0.0.1", _port(base))) as flood:
        flood.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Flood: 1\r\n" * 7000)
        answer, took = _read_until_closed(flood, 10)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert took < 3
    # Headers just under the cap are served.
    with socket.create_connection(("127.0.0.1", _port(base))) as large:
        large.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * 4000 + b"\r\n")
        large.settimeout(10)
        assert large.recv(65536).startswith(b"HTTP/1.1 200")


def test_a_body_that_trickles_is_answered_408_and_closed(champion_store, serve):
    base = serve(champion_store.with_overrides(serve_body_timeout_seconds=0.5))
    with socket.create_connection(("127.0.0.1", _port(base))) as slow:
        slow.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"texts": ["'
        )
        answer, took = _read_until_closed(slow, 10)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"did not arrive within 0.5 s" in answer
    assert took < 3
    assert call(f"{base}/predict", texts_body(TEXTS))[0] == 200


def test_a_body_over_the_in_flight_cap_gets_503_with_retry_after(champion_store, serve):
    base = serve(
        champion_store.with_overrides(serve_inflight_body_mib=16, serve_inflight_wait_seconds=0.5)
    )
    size = 10 * 2**20
    head = (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % size
    )
    # A first body of 10 MiB under way holds its share until it is answered.
    first = socket.create_connection(("127.0.0.1", _port(base)))
    first.sendall(head + b'{"texts": [')
    time.sleep(0.3)
    with socket.create_connection(("127.0.0.1", _port(base))) as second:
        second.sendall(head + b" " * size)
        answer, _ = _read_until_closed(second, 10)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 503"), answer[:200]
    assert b"retry-after: 1\r\n" in rest.lower()
    assert b"of request bodies already: retry later" in rest
    first.close()
    # Its share is given back when it ends.
    deadline = time.monotonic() + 5
    while call(f"{base}/predict", b"[" + b" " * size + b"]")[0] == 503:
        assert time.monotonic() < deadline, "the first body's share was never given back"
        time.sleep(0.1)


def test_connections_past_the_cap_get_503_with_retry_after(champion_store, serve):
    base = serve(champion_store.with_overrides(serve_max_connections=2))
    idle = [socket.create_connection(("127.0.0.1", _port(base))) for _ in range(2)]
    try:
        time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", _port(base))) as third:
            third.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            answer, _ = _read_until_closed(third, 10)
    finally:
        for sock in idle:
            sock.close()
    assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
    assert b"retry-after: 1\r\n" in answer.lower()
    time.sleep(0.2)
    assert call(f"{base}/health")[0] == 200


def test_the_open_files_limit_already_fits_a_few_connections():
    assert raise_open_files_limit(10) is None
