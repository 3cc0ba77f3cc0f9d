"""The day's summary: JSON, Markdown and an HTML report, also attached to the monitoring run."""

from __future__ import annotations

from datetime import date

import mlflow

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.monitoring.report import build_summary, render_html, render_markdown
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tracking.client import connect


def write_summary(
    settings: Settings, day: date | str, *, monitoring_run_id: str | None = None
) -> dict:
    """Write ``summary.json``, ``summary.md`` and ``report.html`` to the day's reports partition.

    The HTML report is also logged to the day's monitoring run when its id is given.
    """
    summary = build_summary(settings, day)
    report = storage.read_json(
        storage.partition_dir(settings.data.data_dir, storage.MONITORING, day)
        / storage.MONITORING_REPORT_FILE
    )
    partition = storage.partition_dir(settings.data.data_dir, storage.REPORTS, day)
    storage.write_json(summary, partition / storage.SUMMARY_JSON)
    storage.write_text(render_markdown(summary), partition / storage.SUMMARY_MARKDOWN)
    html_path = storage.write_text(render_html(summary, report), partition / storage.REPORT_HTML)
    if monitoring_run_id:
        connect(settings)
        with mlflow.start_run(run_id=monitoring_run_id):
            mlflow.log_artifact(str(html_path))
    return {
        **summary,
        "summary_path": str(partition / storage.SUMMARY_MARKDOWN),
        "report_path": str(html_path),
    }
