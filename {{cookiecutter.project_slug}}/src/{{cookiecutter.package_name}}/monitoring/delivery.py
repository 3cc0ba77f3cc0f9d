"""Delivery of alerts to a Slack-compatible webhook, which never fails the task."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from {{ cookiecutter.package_name }}.monitoring.alerts import Alert
from {{ cookiecutter.package_name }}.redaction import redact
from {{ cookiecutter.package_name }}.settings import PROJECT_SLUG, Settings

log = logging.getLogger(__name__)


def webhook_url(settings: Settings) -> str | None:
    """The configured URL, else the Airflow connection's, else None."""
    if settings.monitoring.alert_webhook_url:
        return settings.monitoring.alert_webhook_url
    try:
        from airflow.sdk import Connection

        connection = Connection.get(settings.monitoring.alert_connection_id)
    except Exception:
        return None
    url = connection.extra_dejson.get("webhook_url") or connection.host or ""
    return url if url.startswith(("http://", "https://")) else None


def deliver(alerts: list[Alert], url: str | None, *, timeout: float) -> bool:
    """POST the alerts as Slack-compatible JSON; never raise, say in the log what happened."""
    if not alerts or not url:
        return False
    lines = [f"*{PROJECT_SLUG}*: {len(alerts)} alert(s) for {alerts[0].logical_date}"]
    lines += [f"- {alert.kind}: {alert.message}" for alert in alerts]
    body = json.dumps({"text": "\n".join(lines), "alerts": [a.as_dict() for a in alerts]}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            delivered = 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as error:
        # The URL is the credential (Slack's path, a token in the query), and
        # urllib's errors may quote it: both are masked.
        log.warning(
            "alert webhook %s unreachable (%s); alerts stay in MLflow and the log",
            redact(url),
            redact(error, [url]),
        )
        return False
    if not delivered:
        log.warning("alert webhook %s answered %s", redact(url), response.status)
    return delivered
