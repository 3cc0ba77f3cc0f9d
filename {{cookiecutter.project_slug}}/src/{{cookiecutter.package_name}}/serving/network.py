"""Where the server listens: which interfaces only this machine can reach. Standard library only."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def no_auth_warning(host: str, port: int) -> str | None:
    """The warning to print before listening on ``host``, or None for loopback."""
    if is_loopback(host):
        return None
    return (
        f"warning: serving on {host}:{port} with no authentication: anyone who can reach "
        "the port can call /predict and /health. Put an authenticating proxy in front, "
        "or listen on 127.0.0.1 (the default)."
    )
