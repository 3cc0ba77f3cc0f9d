"""The challenger in the shadow: its live evidence, its comparison page, its promotion.

While the challenger alias names another version than the champion, every
batch-inference run also scores the day with it, unpublished
(steps/shards.py), and monitoring compares both on the labels that arrive
(steps/monitoring.py). Here that evidence is gathered for a version, shown on
its champion/challenger page, and, with ``shadow_promotion_days`` set, turned
into a promotion through the gate (tracking/gate.py).
"""

from __future__ import annotations

import logging
from datetime import date

import mlflow.artifacts
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.monitoring.model_report import render_comparison_html
from {{ cookiecutter.package_name }}.settings import CHALLENGER_ALIAS, Settings
from {{ cookiecutter.package_name }}.tracking import registry, shadow
from {{ cookiecutter.package_name }}.tracking.client import connect
from {{ cookiecutter.package_name }}.tracking.evaluation import (
    COMPARISON_JSON,
    EVALUATION_DIR,
    log_comparison,
)
from {{ cookiecutter.package_name }}.tracking.gate import (
    shadow_evidence,
    shadow_promotion_decision,
)

log = logging.getLogger(__name__)
ACTOR = "shadow-promotion"


def evidence(settings: Settings, version: str | None = None) -> dict | None:
    """The live evidence of ``version`` (default: the challenger) against the current champion.

    None when there is no such version, or it is the champion.
    """
    client = connect(settings)
    champion = registry.champion_version(client, settings)
    if version is None:
        challenger = registry.alias_version(client, settings, CHALLENGER_ALIAS)
        version = None if challenger is None else str(challenger.version)
    if version is None or champion is None or str(champion.version) == version:
        return None
    days = shadow.shadow_days(client, settings, version)
    found = shadow_evidence(days, str(champion.version), settings.model.min_improvement)
    return {"version": version, **found}


def monitoring_metrics(found: dict, day: date) -> dict[str, float]:
    """The evidence as metrics of the day's monitoring run."""
    metrics = {
        "shadow_days": float(found["days_shadowed"]),
        "shadow_labeled_days": float(found["labelled_days"]),
        "shadow_wins": float(found["wins"]),
    }
    today = [point for point in found["days"] if point["logical_date"] == day.isoformat()]
    if today and "agreement" in today[0]:
        metrics["shadow_agreement"] = today[0]["agreement"]
    labelled = labelled_days(found)
    if labelled:
        metrics["shadow_challenger_accuracy_unbiased"] = labelled[-1]["challenger"]
        metrics["shadow_champion_accuracy_unbiased"] = labelled[-1]["champion"]
    return metrics


def evidence_summary(found: dict) -> dict:
    """The evidence in a few lines for a person: counts, then the last labelled day's accuracies."""
    summary = {
        "against_champion": found["champion_version"],
        "days_shadowed": found["days_shadowed"],
        "mean_agreement": found["mean_agreement"],
        "labelled_days": found["labelled_days"],
        "wins": found["wins"],
    }
    labelled = labelled_days(found)
    if labelled:
        last = labelled[-1]
        summary["last_labelled_day"] = {
            "logical_date": last["logical_date"],
            "random_rows": last.get("random_rows"),
            "challenger_accuracy_unbiased": last["challenger"],
            "champion_accuracy_unbiased": last["champion"],
            "challenger_accuracy_all_labels_biased": last.get("challenger_biased"),
            "champion_accuracy_all_labels_biased": last.get("champion_biased"),
        }
    summary["days"] = found["days"]
    return summary


def evidence_line(found: dict) -> str:
    """The evidence in one line, for a message."""
    agreement = found["mean_agreement"]
    line = (
        f"in the shadow against champion version {found['champion_version']}: "
        f"{found['days_shadowed']} days"
        + ("" if agreement is None else f" (agreement {agreement:.3f})")
        + f", {found['wins']} won of {found['labelled_days']} labelled"
    )
    labelled = labelled_days(found)
    if labelled:
        last = labelled[-1]
        line += (
            f" (last, {last['logical_date']}: unbiased accuracy {last['challenger']:.3f} "
            f"against {last['champion']:.3f})"
        )
    return line


def labelled_days(found: dict) -> list[dict]:
    """The days whose random-part labels compare both models, oldest first."""
    return [day for day in found["days"] if day.get("challenger") is not None]


def refresh_comparison_page(settings: Settings, found: dict) -> str | None:
    """Add the live evidence to the challenger's champion/challenger page; its artifact URI.

    The page training wrote is on the challenger's run (with its data as
    JSON); a version registered some other way has none, and keeps none.
    """
    client = connect(settings)
    name = settings.model.registered_model_name
    run_id = client.get_model_version(name, found["version"]).run_id
    try:
        comparison = mlflow.artifacts.load_dict(
            f"runs:/{run_id}/{EVALUATION_DIR}/{COMPARISON_JSON}"
        )
    except (MlflowException, OSError):
        return None
    comparison["live"] = found
    return log_comparison(run_id, render_comparison_html(comparison), comparison)


def promote_proven_challenger(settings: Settings, day: date | str) -> dict:
    """Promote the challenger once it won the last ``shadow_promotion_days`` labelled days.

    Through the gate's pure decision; a promotion records its reason and the
    actor ``shadow-promotion``, a refusal its reason on the version. Fewer
    labelled days than asked for decide nothing yet.
    """
    required = settings.model.shadow_promotion_days
    result = {"logical_date": storage.as_date(day).isoformat(), "shadow_promotion_days": required}
    if not required:
        return {**result, "decision": "off", "reason": "shadow_promotion_days is 0"}
    found = evidence(settings)
    if found is None:
        return {**result, "decision": "none", "reason": "no challenger in the shadow"}
    version, labelled = found["version"], labelled_days(found)
    result["challenger_version"] = version
    if len(labelled) < required:
        reason = f"{len(labelled)} of the {required} labelled days it needs so far"
        return {**result, "decision": "waiting", "reason": reason}
    model = settings.model
    promote, reason = shadow_promotion_decision(
        labelled, required, model.min_accuracy, model.min_improvement
    )
    client = connect(settings)
    # A version someone rolled back comes back by hand only, whatever the labels say.
    rolled_back_by = client.get_model_version(model.registered_model_name, version).tags.get(
        registry.ROLLED_BACK_TAG
    )
    if promote and rolled_back_by:
        promote = False
        reason = (
            f"rolled back by {rolled_back_by} once: promote it by hand "
            f"(`model promote {version}`) if it should come back; the labels say: {reason}"
        )
    decision = "promoted" if promote else "refused"
    shadow.record_decision(client, settings, version, decision=decision, reason=reason)
    if promote:
        registry.promote(
            client, settings, version, reason=f"shadow promotion: {reason}", actor=ACTOR
        )
    log.info("challenger version %s %s by shadow promotion: %s", version, decision, reason)
    return {**result, "decision": decision, "reason": reason}
