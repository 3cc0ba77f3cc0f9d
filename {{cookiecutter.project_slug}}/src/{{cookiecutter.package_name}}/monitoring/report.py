"""The run summary a person reads, built from what the run actually wrote."""

from __future__ import annotations

from datetime import date
from html import escape

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.monitoring.charts import bar_chart, line_chart
from {{ cookiecutter.package_name }}.monitoring.rules import DRIFT_CHECKS
from {{ cookiecutter.package_name }}.settings import PROJECT_SLUG, Settings

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1120px; color: #222; }
.banner { padding: .8rem 1rem; border-radius: 6px; font-size: 1.25rem; }
.healthy { background: #e3f4e1; } .attention { background: #fde2dc; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 1rem; }
figure { margin: 0; } figcaption { font-weight: 600; margin: .6rem 0 .2rem; }
svg { width: 100%; background: #fafafa; border-radius: 4px; }
.series { fill: none; stroke: #2a6fdb; stroke-width: 2; } circle { fill: #2a6fdb; }
.axis { stroke: #999; } .threshold { stroke: #d33; stroke-dasharray: 5 4; stroke-width: 1.5; }
.bar { fill: #2a6fdb; } .bar.over { fill: #d33; } .tick { font-size: 11px; fill: #555; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #ddd; padding: .3rem; text-align: left; }
.muted { color: #777; } td.num, th.num { text-align: right; }
"""


def build_summary(settings: Settings, day: date | str) -> dict:
    """Collect the day's predictions and monitoring report into one record."""
    day = storage.as_date(day)
    predictions_dir = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    report_path = (
        storage.partition_dir(settings.data.data_dir, storage.MONITORING, day)
        / storage.MONITORING_REPORT_FILE
    )
    predictions = storage.read_parts(
        predictions_dir, columns=["prediction", "confidence", "model_version"]
    )
    if predictions is None or not report_path.is_file():
        missing = predictions_dir if predictions is None else report_path
        raise PipelineError(f"{missing} is missing: run batch_predict and monitor_model for {day}.")
    rejected = sum(
        storage.parquet_rows(part)
        for part in storage.part_files(predictions_dir, storage.REJECTS_PREFIX)
    )
    # Rows extraction set aside before scoring: counted here too, or the day would show none.
    quarantine = (
        storage.partition_dir(settings.data.data_dir, storage.BATCHES, day) / storage.REJECTS_FILE
    )
    quarantined = storage.parquet_rows(quarantine) if quarantine.is_file() else 0
    report = storage.read_json(report_path)
    counts = predictions["prediction"].value_counts()
    return {
        "logical_date": day.isoformat(),
        "status": "attention" if report["alerts"] else "healthy",
        "predictions": len(predictions),
        "rejected_rows": rejected,
        "quarantined_rows": quarantined,
        "quarantine": str(quarantine) if quarantined else None,
        "model_versions": sorted(predictions["model_version"].astype(str).unique()),
        "average_confidence": float(predictions["confidence"].mean()),
        "label_counts": {label: int(counts.get(label, 0)) for label in settings.model.labels},
        "monitoring": report["metrics"],
        "alerts": report["alerts"],
        "outputs": {"predictions": str(predictions_dir), "monitoring_report": str(report_path)},
    }


def render_markdown(summary: dict) -> str:
    """A short page: status first, then numbers, then alerts."""
    lines = [
        f"# Batch inference summary for {summary['logical_date']}",
        "",
        f"**Status: {summary['status']}**",
        "",
        f"- Predictions: {summary['predictions']} ({summary['rejected_rows']} rows rejected)",
    ]
    if summary.get("quarantined_rows"):
        lines.append(
            f"- Set aside before scoring: {summary['quarantined_rows']} rows, with the reason "
            f"of each in {summary['quarantine']}"
        )
    lines += [
        f"- Model version: {', '.join(summary['model_versions'])}",
        f"- Average confidence: {summary['average_confidence']:.3f}",
    ]
    lines += [f"- Predicted {label}: {count}" for label, count in summary["label_counts"].items()]
    window = summary["monitoring"]
    lines += [
        f"- Window average confidence: {window['overall_avg_confidence']:.3f} "
        f"over {int(window['window_runs'])} days",
        f"- Window low-confidence rate: {window['avg_low_confidence_rate']:.1f}%",
    ]
    lines += _accuracy_lines(window)
    lines += ["", "## Alerts", ""]
    lines += [f"- {alert['kind']}: {alert['message']}" for alert in summary["alerts"]] or ["- none"]
    return "\n".join(lines) + "\n"


def _accuracy_lines(window: dict) -> list[str]:
    """The latest labeled day's accuracy: unbiased with its interval, and on all labels."""
    lines = []
    if "accuracy_unbiased" in window:
        lines.append(
            f"- Accuracy, unbiased ({window['labeled_random_rows']:.0f} random labels): "
            f"{window['accuracy_unbiased']:.3f} (95% interval "
            f"{window['accuracy_unbiased_ci_low']:.3f}-{window['accuracy_unbiased_ci_high']:.3f}), "
            f"macro F1 {window['macro_f1_unbiased']:.3f}"
        )
    if "accuracy_all_labels_biased" in window:
        lines.append(
            f"- Accuracy on all {window['labeled_rows']:.0f} labels (biased): "
            f"{window['accuracy_all_labels_biased']:.3f}, "
            f"macro F1 {window['macro_f1_all_labels_biased']:.3f}"
        )
    if "label_coverage" in window:
        lines.append(
            f"- Label requests answered over the window: {window['label_requests_answered']:.0f} "
            f"of {window['label_requests']:.0f} ({window['label_coverage'] * 100:.0f}%)"
        )
    return lines


def coverage_table(history: list[dict]) -> str:
    """Label coverage per day (requested, answered, random answered) and that day's accuracy."""
    rows = []
    for point in history:
        truth = point.get("labels") or {}
        if "label_requests" not in truth and point.get("accuracy") is None:
            continue
        counts = [
            f"{truth[name]:.0f}" if name in truth else "-"
            for name in (
                "label_requests",
                "label_requests_answered",
                "label_requests_random_answered",
            )
        ]
        if "accuracy_unbiased" in truth:
            accuracy = (
                f"{truth['accuracy_unbiased']:.3f} unbiased ({truth['accuracy_unbiased_ci_low']:.3f}"
                f"-{truth['accuracy_unbiased_ci_high']:.3f})"
            )
        elif point.get("accuracy") is not None:
            # All labels: biased when most answer the queue's least confident rows.
            biased = " biased" if "label_requests" in truth else ""
            accuracy = f"{point['accuracy']:.3f}{biased} (all labels)"
        else:
            accuracy = '<span class="muted">too few labels</span>'
        rows.append(
            f"<tr><td>{point['logical_date']}</td>"
            + "".join(f'<td class="num">{count}</td>' for count in counts)
            + f"<td>{accuracy}</td></tr>"
        )
    return (
        "".join(rows)
        or '<tr><td colspan="5" class="muted">no label requests or labels yet</td></tr>'
    )


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def shadow_section(live: dict | None) -> str:
    """The challenger scored in the shadow: each day's agreement, then both unbiased accuracies."""
    if not live:
        return ""
    rows = "".join(
        f"<tr><td>{day['logical_date']}</td>"
        f'<td class="num">{_share(day.get("agreement"))}</td>'
        f'<td class="num">{_share(day.get("champion"))}</td>'
        f'<td class="num">{_share(day.get("challenger"))}</td>'
        f'<td class="num">{day.get("random_rows", 0):.0f}</td></tr>'
        for day in live["days"]
    )
    return f"""<h2>Challenger version {escape(live["version"])} in the shadow (unpublished)</h2>
<p>{live["days_shadowed"]} days against champion version {escape(live["champion_version"])},
{live["wins"]} of {live["labelled_days"]} labelled days won on the unbiased labels.</p>
<table><tr><th>logical date</th><th class="num">agreement</th><th class="num">champion, unbiased</th>
<th class="num">challenger, unbiased</th><th class="num">random rows</th></tr>
{rows}</table>
"""


def render_html(summary: dict, report: dict) -> str:
    """One self-contained page: status, trends, drift, accuracy, class shares, alerts."""
    history = report["history"]
    thresholds = report["thresholds"]
    days = [point["logical_date"] for point in history]
    drift = [
        (metric, report["metrics"][metric], thresholds[field])
        for _, metric, field in DRIFT_CHECKS
        if metric in report["metrics"]
    ]
    accuracy = [
        (p["logical_date"], p["accuracy"]) for p in history if p.get("accuracy") is not None
    ]
    alerts = summary["alerts"]
    rows = "".join(
        f"<tr><td>{escape(a['kind'])}</td><td>{escape(a['metric'])}</td><td>{a['value']:.4g}</td>"
        f"<td>{a['threshold']:.4g}</td><td>{escape(a['message'])}</td></tr>"
        for a in alerts
    )
    charts = [
        line_chart(
            "Average confidence by logical date",
            list(zip(days, [p["average_confidence"] for p in history], strict=True)),
            # The top-class confidence of K classes is at least 1/K.
            y_range=(1 / max(len(summary["label_counts"]), 2), 1.0),
        ),
        line_chart(
            "Low-confidence rate (%)",
            list(zip(days, [p["low_confidence_percentage"] for p in history], strict=True)),
            threshold=thresholds["low_confidence_alert_pct"],
            y_range=(0.0, 100.0),
        ),
        bar_chart("Drift against the training reference (threshold dashed)", drift),
        line_chart(
            "Accuracy on batches whose labels have arrived",
            accuracy,
            threshold=thresholds["min_accuracy"],
            y_range=(0.0, 1.0),
        ),
        bar_chart(
            "Predicted class shares",
            [
                (label, count / max(summary["predictions"], 1), None)
                for label, count in summary["label_counts"].items()
            ],
        ),
    ]
    status = summary["status"]
    verdict = "Healthy: no alert" if status == "healthy" else f"Attention: {len(alerts)} alert(s)"
    if report.get("retraining_requested"):
        verdict += ", retraining requested"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(PROJECT_SLUG)} report {summary["logical_date"]}</title>
<style>{STYLE}</style></head><body>
<h1>{escape(PROJECT_SLUG)}: batch inference {summary["logical_date"]}</h1>
<p class="banner {status}">{escape(verdict)} &middot; model version {escape(", ".join(summary["model_versions"]))}
&middot; {summary["predictions"]} predictions, average confidence {summary["average_confidence"]:.3f}</p>
<div class="grid">{"".join(charts)}</div>
<h2>Labels</h2>
<table><tr><th>logical date</th><th class="num">requested</th><th class="num">answered</th><th class="num">random answered</th><th>accuracy (95% interval)</th></tr>
{coverage_table(history)}</table>
{shadow_section(report.get("shadow"))}<h2>Alerts</h2>
<table><tr><th>kind</th><th>metric</th><th>value</th><th>threshold</th><th>what</th></tr>
{rows or '<tr><td colspan="5" class="muted">none</td></tr>'}</table>
</body></html>
"""
