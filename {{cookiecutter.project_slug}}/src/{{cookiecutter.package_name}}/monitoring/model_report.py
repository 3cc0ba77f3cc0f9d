"""The pages that choose a model: one version's evaluation, and champion against challenger.

Self-contained HTML in the monitoring report's style (inline SVG, no JS, no
network), built from the dicts of ``model/evaluation.py``.
"""

from __future__ import annotations

from html import escape

from {{ cookiecutter.package_name }}.model.evaluation import SUMMARY_METRICS
from {{ cookiecutter.package_name }}.monitoring.charts import curve_chart
from {{ cookiecutter.package_name }}.monitoring.report import STYLE
from {{ cookiecutter.package_name }}.settings import PROJECT_SLUG

EXTRA_STYLE = """
.frame { fill: none; stroke: #bbb; } .series.s1 { stroke: #e08a00; } .legend.s0 { fill: #2a6fdb; }
.legend.s1 { fill: #e08a00; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.better { color: #1a7f37; } .worse { color: #d33; }
"""
# Metrics where a smaller number is the better one.
LOWER_IS_BETTER = {"log_loss", "expected_calibration_error"}


def _number(value: float | None, digits: int = 4) -> str:
    return "&ndash;" if value is None else f"{value:.{digits}f}"


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}</title>
<style>{STYLE}{EXTRA_STYLE}</style></head><body>
<h1>{escape(title)}</h1>
{body}
</body></html>
"""


def _calibration_points(report: dict) -> list[list[float]]:
    return [
        [row["mean_confidence"], row["accuracy"]] for row in report["calibration"] if row["count"]
    ]


def _confusion_table(report: dict) -> str:
    labels = report["confusion_matrix"]["labels"]
    head = "".join(f'<th class="num">predicted {escape(label)}</th>' for label in labels)
    rows = "".join(
        f"<tr><th>actual {escape(label)}</th>"
        + "".join(f'<td class="num">{count}</td>' for count in counts)
        + "</tr>"
        for label, counts in zip(labels, report["confusion_matrix"]["counts"], strict=True)
    )
    return f"<table><tr><th></th>{head}</tr>{rows}</table>"


def _per_class_table(report: dict) -> str:
    """Precision, recall, F1, support (and one-vs-rest ROC AUC, with more than two) per class."""
    per_class = report.get("per_class") or {}
    with_auc = any("roc_auc" in scores for scores in per_class.values())
    names = ["precision", "recall", "f1", *(["roc_auc"] if with_auc else [])]
    head = "".join(f'<th class="num">{name}</th>' for name in [*names, "support"])
    rows = "".join(
        f"<tr><th>{escape(label)}</th>"
        + "".join(f'<td class="num">{_number(scores.get(name))}</td>' for name in names)
        + f'<td class="num">{scores["support"]}</td></tr>'
        for label, scores in per_class.items()
    )
    return f"<table><tr><th>class</th>{head}</tr>{rows}</table>"


def _charts(named_reports: list[tuple[str, dict]]) -> str:
    return "".join(
        [
            curve_chart(
                "ROC curve",
                [(name, report["roc_curve"]) for name, report in named_reports],
                x_label="false positive rate",
                y_label="true positive rate",
                diagonal=True,
            ),
            curve_chart(
                "Precision-recall curve",
                [(name, report["pr_curve"]) for name, report in named_reports],
                x_label="recall",
                y_label="precision",
            ),
            curve_chart(
                "Calibration: accuracy against confidence (ideal dashed)",
                [(name, _calibration_points(report)) for name, report in named_reports],
                x_label="confidence",
                y_label="accuracy",
                diagonal=True,
            ),
        ]
    )


def render_evaluation_html(report: dict, *, model: str, data: str) -> str:
    """One version on one labeled set: numbers, curves, calibration, its worst mistakes."""
    metrics = report["metrics"]
    thresholds = report["thresholds"]
    metric_rows = "".join(
        f'<tr><td>{escape(name)}</td><td class="num">{_number(metrics.get(name))}</td></tr>'
        for name in (*SUMMARY_METRICS, "pr_auc")
    )
    calibration = "".join(
        f'<tr><td>{row["lower"]:.2f}&ndash;{row["upper"]:.2f}</td><td class="num">{row["count"]}</td>'
        f'<td class="num">{_number(row["mean_confidence"], 3)}</td>'
        f'<td class="num">{_number(row["accuracy"], 3)}</td></tr>'
        for row in report["calibration"]
    )
    wrong = "".join(
        f'<tr><td class="num">{row["confidence"]:.3f}</td><td>{escape(row["prediction"])}</td>'
        f"<td>{escape(row['label'])}</td><td>{escape(row['text'])}</td></tr>"
        for row in report["confidently_wrong"]
    )
    return _page(
        f"{PROJECT_SLUG}: {model} on {data}",
        f"""<p class="banner healthy">accuracy {_number(metrics["accuracy"])} &middot; macro F1
{_number(metrics["macro_f1"])} &middot; expected calibration error {_number(metrics["expected_calibration_error"])}
&middot; {metrics["rows"]} rows</p>
<p>At or above the high-confidence threshold {thresholds["high"]:g}: {metrics["high_confidence_share"] * 100:.1f}%
of the predictions, accuracy {_number(metrics["high_confidence_accuracy"])}. At or above the
low-confidence threshold {thresholds["low"]:g}: {metrics["low_confidence_share"] * 100:.1f}%, accuracy
{_number(metrics["low_confidence_accuracy"])}.</p>
<div class="grid">{_charts([("model", report)])}</div>
<div class="grid"><div><h2>Metrics</h2><table>{metric_rows}</table></div>
<div><h2>Confusion matrix</h2>{_confusion_table(report)}
<h2>Per class</h2>{_per_class_table(report)}</div></div>
<h2>Calibration</h2>
<table><tr><th>confidence</th><th class="num">rows</th><th class="num">mean confidence</th><th class="num">accuracy</th></tr>{calibration}</table>
<h2>The {len(report["confidently_wrong"])} most confidently wrong predictions</h2>
<table><tr><th class="num">confidence</th><th>predicted</th><th>true</th><th>text</th></tr>
{wrong or '<tr><td colspan="4" class="muted">none</td></tr>'}</table>
<h2>Top n-grams per class</h2>
{_ngram_tables(report.get("top_ngrams"))}""",
    )


def _ngram_tables(ngrams: dict | None) -> str:
    if not ngrams:
        return '<p class="muted">this estimator has no per-feature weights</p>'
    columns = "".join(
        f"<div><h3>{escape(label)}</h3><table>"
        + "".join(
            f'<tr><td>{escape(term)}</td><td class="num">{weight:.3f}</td></tr>'
            for term, weight in terms
        )
        + "</table></div>"
        for label, terms in ngrams.items()
    )
    return f'<div class="grid">{columns}</div>'


def _difference(name: str, champion: float | None, challenger: float | None) -> str:
    if champion is None or challenger is None:
        return '<td class="num">&ndash;</td>'
    delta = challenger - champion
    better = delta < 0 if name in LOWER_IS_BETTER else delta > 0
    kind = "better" if better else "worse" if delta else ""
    return f'<td class="num {kind}">{delta:+.4f}</td>'


def _interval(day: dict, model: str) -> str:
    if day.get(model) is None:
        return '<td class="num">&ndash;</td>'
    low, high = day.get(f"{model}_ci_low"), day.get(f"{model}_ci_high")
    spread = f" ({_number(low, 3)}&ndash;{_number(high, 3)})" if low is not None else ""
    return f'<td class="num">{_number(day[model], 3)}{spread}</td>'


def _live_section(live: dict | None) -> str:
    """The challenger's days in the shadow: agreement, then both accuracies on the same labels."""
    if not live:
        return ""
    rows = "".join(
        f"<tr><td>{escape(day['logical_date'])}</td>"
        f'<td class="num">{_number(day.get("agreement"), 3)}</td>'
        f"{_interval(day, 'champion')}{_interval(day, 'challenger')}"
        f'<td class="num">{_number(day.get("random_rows"), 0)}</td>'
        f'<td class="num">{_number(day.get("champion_biased"), 3)}</td>'
        f'<td class="num">{_number(day.get("challenger_biased"), 3)}</td>'
        f'<td class="num">{_number(day.get("labeled_rows"), 0)}</td></tr>'
        for day in live["days"]
    )
    agreement = live.get("mean_agreement")
    return (
        f"<h2>Live, in the shadow, against champion version {escape(live['champion_version'])}</h2>"
        f"<p>{live['days_shadowed']} days scored unpublished, mean agreement "
        f"{_number(agreement, 3)}; {live['labelled_days']} labelled days, "
        f"{live['wins']} won on the unbiased labels.</p>"
        '<table><tr><th>logical date</th><th class="num">agreement</th>'
        '<th class="num">champion unbiased (95%)</th>'
        '<th class="num">challenger unbiased (95%)</th><th class="num">random rows</th>'
        '<th class="num">champion, all labels (biased)</th>'
        '<th class="num">challenger, all labels (biased)</th>'
        '<th class="num">labelled rows</th></tr>'
        f"{rows}</table>"
    )


def render_comparison_html(comparison: dict) -> str:
    """Champion and challenger on the same rows, in two columns, the gate's decision on top;
    then, once it has scored in the shadow, the challenger's live days (``live``)."""
    challenger, champion = comparison["challenger"], comparison.get("champion")
    names = [f"challenger v{challenger['version']}"]
    if champion:
        names.insert(0, f"champion v{champion['version']}")
    decision = "Promoted" if comparison["promoted"] else "Rejected"
    sections = []
    for dataset, caption in (("holdout", "the new hold-out"), ("reference", "the reference set")):
        theirs = champion.get(dataset) if champion else None
        ours = challenger.get(dataset)
        if ours is None:
            continue
        rows = []
        for name in SUMMARY_METRICS:
            old = theirs["metrics"].get(name) if theirs else None
            new = ours["metrics"].get(name)
            cells = (f'<td class="num">{_number(old)}</td>' if champion else "") + (
                f'<td class="num">{_number(new)}</td>'
            )
            rows.append(
                f"<tr><td>{escape(name)}</td>{cells}"
                f"{_difference(name, old, new) if champion else ''}</tr>"
            )
        head = "".join(f'<th class="num">{escape(name)}</th>' for name in names)
        head += '<th class="num">difference</th>' if champion else ""
        named = [(names[0], theirs)] if theirs else []
        named.append((names[-1], ours))
        confusion = "".join(
            f"<div><h3>{escape(name)}</h3>{_confusion_table(report)}</div>"
            for name, report in named
        )
        sections.append(
            f"<h2>On {caption} ({ours['metrics']['rows']} rows)</h2>"
            f"<table><tr><th>metric</th>{head}</tr>{''.join(rows)}</table>"
            f'<div class="grid">{_charts(named)}</div><div class="grid">{confusion}</div>'
        )
    return _page(
        f"{PROJECT_SLUG}: champion against challenger, {comparison['logical_date']}",
        f"""<p class="banner {"healthy" if comparison["promoted"] else "attention"}">{decision}:
challenger version {escape(challenger["version"])}
{f"against champion version {escape(champion['version'])}" if champion else "(no champion yet)"}</p>
<p><strong>Gate:</strong> {escape(comparison["reason"])}</p>
{_live_section(comparison.get("live"))}
{"".join(sections)}""",
    )
