"""Alerts as structured records, and their optional delivery to a webhook."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass

from {{ cookiecutter.package_name }}.settings import PROJECT_SLUG, Settings

log = logging.getLogger(__name__)
# Kinds that mean the model no longer fits its inputs: they request retraining.
RETRAINING_KINDS = {"confidence_drift", "vocabulary_drift", "class_shift", "accuracy_drop"}


@dataclass(frozen=True)
class Alert:
    """One reason to look at the model, in a form a machine can route."""

    kind: str
    metric: str
    value: float
    threshold: float
    logical_date: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def requests_retraining(alerts: list[Alert]) -> bool:
    return any(alert.kind in RETRAINING_KINDS for alert in alerts)


def webhook_url(settings: Settings) -> str | None:
    """The configured URL, else the Airflow connection's, else None."""
    if settings.alert_webhook_url:
        return settings.alert_webhook_url
    try:
        from airflow.sdk import Connection

        connection = Connection.get(settings.alert_connection_id)
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
        log.warning(
            "alert webhook %s unreachable (%s); alerts stay in MLflow and the log", url, error
        )
        return False
    if not delivered:
        log.warning("alert webhook %s answered %s", url, response.status)
    return delivered
