"""uvicorn's HTTP protocol with a deadline and a size cap for headers, and a cap on connections.

uvicorn times out only an idle keep-alive connection: a client that sends a
header line a second keeps its connection, and a file descriptor, for ever
(3,500 of them were all still open after 75 s). Here a request's headers must
all arrive within ``header_seconds`` of its first byte, or of the connection;
past that the server answers 408 and closes. uvicorn's own connection cap
(``limit_concurrency``) answers 503 without Retry-After, so the cap is kept
here instead and its 503 says when to come back.

Bodies have their own deadline, in ``middleware.BodyDeadline``.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from {{ cookiecutter.package_name }}.serving.middleware import send_json
from {{ cookiecutter.package_name }}.settings import ServingSettings

log = logging.getLogger(__name__)

_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s"
)
_TIMEOUT_BODY = b'{"error": "the request headers did not arrive in time"}'
# uvicorn's h11 limit (h11_max_incomplete_event_size) does not apply to httptools,
# which keeps header lines as long as they come: 64 KiB is four times h11's default.
MAX_HEADER_BYTES = 64 * 1024
_TOO_LARGE_BODY = b'{"error": "the request headers are over 64 KiB"}'
_HEADERS_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_TOO_LARGE_BODY), _TOO_LARGE_BODY)
)


async def _too_many_connections(scope: Any, receive: Any, send: Any) -> None:
    await send_json(
        send,
        503,
        {"error": "the server has too many open connections: retry later"},
        close=True,
        retry_after=True,
    )


def guarded_protocol(header_seconds: float, max_connections: int) -> type[HttpToolsProtocol]:
    """An ``HttpToolsProtocol`` class that enforces both limits (uvicorn's ``http=``)."""

    class GuardedProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None
        _header_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            # The first byte of a further request on a kept-alive connection.
            if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
                self._arm()
            super().data_received(data)
            if self._header_timer is None:
                return
            # Still in the headers: httptools keeps every line, so their size is capped too.
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
                self._disarm()
                self.transport.write(_HEADERS_TOO_LARGE)
                self.transport.close()

        def on_headers_complete(self) -> None:
            self._disarm()
            # The instance attribute wins over the app uvicorn set for this request only.
            over = len(self.connections) > max_connections
            self.app = _too_many_connections if over else self.config.loaded_app
            if over:
                log.warning(
                    "%d connections open, more than %d: 503", len(self.connections), max_connections
                )
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._header_bytes = 0
            self._header_timer = self.loop.call_later(header_seconds, self._headers_late)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.write(_REQUEST_TIMEOUT % (len(_TIMEOUT_BODY), _TIMEOUT_BODY))
                self.transport.close()

    return GuardedProtocol


def uvicorn_options(serving: ServingSettings) -> dict[str, Any]:
    """The arguments of ``uvicorn.run`` or ``uvicorn.Config`` that apply ``serving``."""
    return {
        "http": guarded_protocol(
            serving.serve_header_timeout_seconds, serving.serve_max_connections
        ),
        "timeout_keep_alive": serving.serve_keep_alive_seconds,
    }


def raise_open_files_limit(connections: int) -> str | None:
    """Raise this process's open-files limit to fit ``connections``; a warning if it cannot."""
    wanted = connections + 256  # the listening socket, the model's files, MLflow's, logs
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return None
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):  # macOS refuses more than its kern.maxfilesperproc
        target = soft
    if target >= wanted:
        return None
    return (
        f"warning: this process may open {target} files, fewer than the "
        f"{connections} connections serve_max_connections allows: past about {target - 256} "
        "connections new ones fail. Raise `ulimit -n` or lower the setting."
    )
