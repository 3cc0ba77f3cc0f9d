"""ASGI guards around the app: a body size limit, and one JSON 500 for whatever escapes.

Both are pure ASGI middleware: they see the body as it streams in, and
exceptions before Starlette's own error middleware, which would log them as
"Exception in ASGI application" with a traceback and answer in plain text.
"""

from __future__ import annotations

import json
import logging
import os

import anyio
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.settings import ENV_PREFIX

log = logging.getLogger(__name__)


async def send_json(send: Send, status: int, body: dict, *, close: bool = False) -> None:
    content = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    if close:
        headers.append((b"connection", b"close"))
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


async def _discard_body(scope: Scope, receive: Receive) -> None:
    """Read and drop what is left of the body, for at most DISCARD_SECONDS."""
    if dict(scope["headers"]).get(b"expect", b"").lower() == b"100-continue":
        return  # the client waits for a go-ahead before sending: asking for more invites it
    with anyio.move_on_after(DISCARD_SECONDS):
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
