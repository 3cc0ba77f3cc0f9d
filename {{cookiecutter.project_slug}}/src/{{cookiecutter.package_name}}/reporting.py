"""The run summary a person reads, built from what the run actually wrote."""

from __future__ import annotations

from datetime import date

import pandas as pd

from {{ cookiecutter.package_name }} import storage
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.inference import PREDICTIONS_FILE, REJECTS_FILE
from {{ cookiecutter.package_name }}.monitoring import REPORT_FILE
from {{ cookiecutter.package_name }}.settings import LABELS, Settings

SUMMARY_JSON = "summary.json"
SUMMARY_MARKDOWN = "summary.md"


def build_summary(settings: Settings, day: date | str) -> dict:
    """Collect the day's predictions and monitoring report into one record."""
    day = storage.as_date(day)
    predictions_dir = storage.partition_dir(settings.data_dir, storage.PREDICTIONS, day)
    report_path = storage.partition_dir(settings.data_dir, storage.MONITORING, day) / REPORT_FILE
    predictions_path = predictions_dir / PREDICTIONS_FILE
    for path in (predictions_path, report_path):
        if not path.is_file():
            raise PipelineError(
                f"{path} is missing: run batch_predict and monitor_model for {day}."
            )
    predictions = pd.read_parquet(
        predictions_path, columns=["prediction", "confidence", "model_version"]
    )
    rejects_path = predictions_dir / REJECTS_FILE
    rejected = (
        len(pd.read_parquet(rejects_path, columns=["reason"])) if rejects_path.is_file() else 0
    )
    report = storage.read_json(report_path)
    counts = predictions["prediction"].value_counts()
    return {
        "logical_date": day.isoformat(),
        "status": "attention" if report["alerts"] else "healthy",
        "predictions": len(predictions),
        "rejected_rows": rejected,
        "model_versions": sorted(predictions["model_version"].astype(str).unique()),
        "average_confidence": float(predictions["confidence"].mean()),
        "label_counts": {label: int(counts.get(label, 0)) for label in LABELS},
        "monitoring": report["metrics"],
        "alerts": report["alerts"],
        "outputs": {"predictions": str(predictions_path), "monitoring_report": str(report_path)},
    }


def render_markdown(summary: dict) -> str:
    """A short page: status first, then numbers, then alerts."""
    lines = [
        f"# Batch inference summary for {summary['logical_date']}",
        "",
        f"**Status: {summary['status']}**",
        "",
        f"- Predictions: {summary['predictions']} ({summary['rejected_rows']} rows rejected)",
        f"- Model version: {', '.join(summary['model_versions'])}",
        f"- Average confidence: {summary['average_confidence']:.3f}",
    ]
    lines += [f"- Predicted {label}: {count}" for label, count in summary["label_counts"].items()]
    window = summary["monitoring"]
    lines += [
        f"- Window average confidence: {window['overall_avg_confidence']:.3f} "
        f"over {int(window['window_runs'])} days",
        f"- Window low-confidence rate: {window['avg_low_confidence_rate']:.1f}%",
        "",
        "## Alerts",
        "",
    ]
    lines += [f"- {alert['kind']}: {alert['message']}" for alert in summary["alerts"]] or ["- none"]
    return "\n".join(lines) + "\n"


def write_summary(settings: Settings, day: date | str) -> dict:
    """Write ``summary.json`` and ``summary.md`` to the day's reports partition."""
    summary = build_summary(settings, day)
    partition = storage.partition_dir(settings.data_dir, storage.REPORTS, day)
    storage.write_json(summary, partition / SUMMARY_JSON)
    storage.write_text(render_markdown(summary), partition / SUMMARY_MARKDOWN)
    return {**summary, "summary_path": str(partition / SUMMARY_MARKDOWN)}
