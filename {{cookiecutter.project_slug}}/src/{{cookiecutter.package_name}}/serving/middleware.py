"""ASGI guards around the app: a body size limit, a cap on the bytes of bodies
held at once, a deadline for each body, and one JSON 500 for whatever escapes.

All are pure ASGI middleware: they see the body as it streams in, and
exceptions before Starlette's own error middleware, which would log them as
"Exception in ASGI application" with a traceback and answer in plain text.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import logging
import os
import sys
import time

import anyio
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.settings import ENV_PREFIX

log = logging.getLogger(__name__)


# What a 503 asks a client to wait: the in-flight bodies of a loaded server
# are scored in well under a second.
RETRY_AFTER_SECONDS = 1


async def send_json(
    send: Send, status: int, body: dict, *, close: bool = False, retry_after: bool = False
) -> None:
    content = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    if close:
        headers.append((b"connection", b"close"))
    if retry_after:
        headers.append((b"retry-after", b"%d" % RETRY_AFTER_SECONDS))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


# How long a refused body is read and thrown away before the 413: a client
# that sends the whole body before reading (urllib, requests) would otherwise
# meet a reset connection instead of the answer.
DISCARD_SECONDS = 2.0


class _WatchedSend:
    """``send`` that remembers whether the response has started: after that, no error page."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self.send(message)


class _BodyTooLarge(Exception):
    pass


async def _discard_body(scope: Scope, receive: Receive, seconds: float = DISCARD_SECONDS) -> None:
    """Read and drop what is left of the body, for at most ``seconds``."""
    if dict(scope["headers"]).get(b"expect", b"").lower() == b"100-continue":
        return  # the client waits for a go-ahead before sending: asking for more invites it
    with anyio.move_on_after(seconds):
        while True:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return


class BodySizeLimit:
    """Answer 413 to a body over ``max_bytes``: by its Content-Length, or as its bytes arrive.

    Nothing of a refused body is kept; the connection closes after the answer.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _discard_body(scope, receive)
            await self._refuse(send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        watched = _WatchedSend(send)
        try:
            await self.app(scope, counted, watched)
        except _BodyTooLarge:
            if not watched.started:
                await _discard_body(scope, receive)
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        limit = f"{self.max_bytes / 2**20:g} MiB"
        await send_json(
            send,
            413,
            {"error": f"the body is larger than {limit}: split the texts into smaller requests"},
            # The rest of the body is never read: the connection cannot carry another request.
            close=True,
        )


class _Busy(Exception):
    pass


class _BodyLate(Exception):
    pass


def _declared_length(scope: Scope) -> int:
    declared = dict(scope["headers"]).get(b"content-length", b"")
    return int(declared) if declared.isdigit() else 0


class InflightBodies:
    """Answer 503 with Retry-After to a body that would take the bytes held past ``max_bytes``.

    The bytes held are the sum over the requests under way of their declared
    Content-Length (or of what a chunked body has sent so far), from their
    headers until their answer is sent: parsing and scoring a body hold
    several times its size. A request with a large body gives the memory it
    used back to the system once it is answered (``release_memory``).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, wait_seconds: float = 0.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.wait_seconds = wait_seconds
        self.held = 0
        self._releasing = self._release_wanted = False
        self._freed: anyio.Condition | None = None

    async def _room_for(self, size: int) -> bool:
        """Whether ``size`` more bytes fit, waiting up to ``wait_seconds`` for others to end.

        While it waits the body stays unread: in the kernel's buffers, not here.
        """
        if self.held + size <= self.max_bytes:
            return True
        if self._freed is None:
            self._freed = anyio.Condition()
        with anyio.move_on_after(self.wait_seconds):
            async with self._freed:
                while self.held + size > self.max_bytes:
                    await self._freed.wait()
        return self.held + size <= self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reserved = _declared_length(scope)
        if not await self._room_for(reserved):
            # Read to the end, so that a client sending it all before reading sees the 503.
            await _discard_body(scope, receive, REFUSED_DISCARD_SECONDS)
            await self._refuse(send)
            return
        self.held += reserved
        received = 0

        async def counted() -> Message:
            nonlocal received, reserved
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > reserved:  # chunked, or more than it declared
                    if self.held + received - reserved > self.max_bytes:
                        raise _Busy
                    self.held += received - reserved
                    reserved = received
            return message

        watched = _WatchedSend(send)
        try:
            await self.app(scope, counted, watched)
        except _Busy:
            if not watched.started:
                await _discard_body(scope, receive)
                await self._refuse(send)
        finally:
            self.held -= reserved
            if self._freed is not None and reserved:
                async with self._freed:
                    self._freed.notify_all()
        if reserved >= LARGE_BODY_BYTES:
            await self._release()

    async def _release(self) -> None:
        """``release_memory`` in a thread, once more if another large request ended meanwhile."""
        self._release_wanted = True
        if self._releasing:
            return
        self._releasing = True
        try:
            while self._release_wanted:
                self._release_wanted = False
                await anyio.to_thread.run_sync(release_memory)
        finally:
            self._releasing = False

    async def _refuse(self, send: Send) -> None:
        limit = f"{self.max_bytes / 2**20:g} MiB"
        await send_json(
            send,
            503,
            {"error": f"the server holds {limit} of request bodies already: retry later"},
            close=True,
            retry_after=True,
        )


# How long a body refused for want of room is read and thrown away before the
# 503; while the scoring threads hold the GIL the loop reads slowly, and 2 s
# cut 15 MB uploads short (the client met a reset connection, not the answer).
REFUSED_DISCARD_SECONDS = 15.0
# A body this large leaves buffers behind worth handing back to the system.
LARGE_BODY_BYTES = 1024 * 1024


def _malloc_trim() -> object:
    """glibc's ``malloc_trim``, or None where there is none (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Collect the cycles a request may leave, and hand freed heap pages back (glibc only).

    glibc keeps what a large request freed in its arenas for the next one:
    after 20 bodies of 15 MB the server stayed at 1.3 GB. ``malloc_trim``
    returns the free pages; elsewhere this is only a collection.
    """
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


class BodyDeadline:
    """Answer 408 and close when a body has not all arrived ``seconds`` after its headers.

    uvicorn has no such deadline: a client sending a byte a second holds a
    connection, and its share of the in-flight bodies, for as long as it likes.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.seconds

        async def timed() -> Message:
            with anyio.move_on_after(deadline - time.monotonic()):
                return await receive()
            raise _BodyLate  # the app stops reading; the 408 follows below

        watched = _WatchedSend(send)
        try:
            await self.app(scope, timed, watched)
        except _BodyLate:
            if not watched.started:
                await send_json(
                    send,
                    408,
                    {"error": f"the body did not arrive within {self.seconds:g} s"},
                    close=True,
                )


class UnexpectedErrors:
    """Turn any exception a request raises into a one-line JSON 500, logged once as one line.

    ``<PREFIX>TRACEBACK=1`` adds the traceback to the log, as it does for the CLI.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.traceback = bool(os.environ.get(f"{ENV_PREFIX}TRACEBACK"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watched = _WatchedSend(send)
        try:
            await self.app(scope, receive, watched)
        except ClientDisconnect:
            return  # the client left: no one to answer
        except Exception as error:
            text = str(error).strip()
            first = text.splitlines()[0][:300] if text else ""
            log.error(
                "%s %s failed: unexpected %s: %s%s",
                scope["method"],
                scope["path"],
                type(error).__name__,
                first,
                "" if self.traceback else f" (set {ENV_PREFIX}TRACEBACK=1 to log the traceback)",
                exc_info=self.traceback,
            )
            if not watched.started:
                await send_json(
                    send,
                    500,
                    {"error": f"unexpected {type(error).__name__}; the server's log has the cause"},
                )
