"""Secrets masked out of text before it reaches a log, an error message or a terminal.

Every message that may hold a URL, an environment value or a component's
output goes through :func:`redact`. Standard library only: every layer uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

MASK = "***"
# A secret shorter than this would mask ordinary words ("admin", "true").
MIN_SECRET_LENGTH = 6

# scheme://user:password@host — SQLAlchemy accepts an unencoded "/" in the password,
# so the password runs to the last "@" before whitespace.
_USERINFO_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^\s/:@]*:)[^\s@]+(?=@)", re.I)
# scheme://token@host: a bare user part is the credential (tokens in clone URLs).
_USERINFO_TOKEN = re.compile(r"(?P<head>\b(?:https?|git|ssh)://)[^\s/:@]+(?=@)", re.I)
# ?token=... &api_key=... &X-Amz-Signature=...: a query value named like a credential.
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&;][\w.\-]*(?:token|key|secret|passw|pwd|sig|auth|credential|code)[\w.\-]*=)"
    r"[^&#\s\"']+",
    re.I,
)
# Webhook URLs whose path is the credential (Slack, Discord, Microsoft Teams).
_WEBHOOK_PATH = re.compile(
    r"(?P<head>https?://(?:hooks\.slack\.com/(?:services|workflows|triggers)"
    r"|(?:[\w-]+\.)?discord(?:app)?\.com/api/webhooks"
    r"|[\w.-]+\.webhook\.office\.com/webhookb2)/)[^\s\"'?#]+",
    re.I,
)
# NAME=value where the name says it is a secret (environment dumps, command lines).
_SECRET_ASSIGNMENT = re.compile(
    r"(?P<head>\b[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|FERNET_KEY|API_KEY)[A-Z0-9_]*=)"
    r"[^\s\"'&;]+",
    re.I,
)
_AUTHORIZATION = re.compile(r"(?P<head>\b(?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=\-]{8,}")
_PATTERNS = (
    _WEBHOOK_PATH,
    _USERINFO_PASSWORD,
    _USERINFO_TOKEN,
    _QUERY_SECRET,
    _SECRET_ASSIGNMENT,
    _AUTHORIZATION,
)


def redact(text: object, secrets: Iterable[str | None] = ()) -> str:
    """``text`` as a string with credentials in URLs, and each of ``secrets``, masked."""
    result = str(text)
    # Longest first, so a secret that contains another is masked whole.
    known = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
    for secret in known:
        for form in dict.fromkeys((secret, quote(secret, safe=""))):
            result = result.replace(form, MASK)
    for pattern in _PATTERNS:
        result = pattern.sub(lambda match: match["head"] + MASK, result)
    return result
