"""The MLflow side of the challenger scored in the shadow: its days, and recording decisions.

Each day's batch-inference run carries the challenger's version (tag
``shadow_version``), its agreement with the champion, and, once labels have
arrived, both models' accuracy on the same labelled rows (``shadow_*``
metrics, steps/monitoring.py). The days of one version are read back here.
"""

from __future__ import annotations

from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tracking.inference_run import SHADOW_VERSION_TAG

# A day in the shadow: a run's metric for each of these keys.
DAY_METRICS = {
    "agreement": "shadow_agreement",
    "rows": "shadow_rows",
    "failed_shards": "shadow_failed_shards",
    "challenger": "shadow_challenger_accuracy_unbiased",
    "challenger_ci_low": "shadow_challenger_accuracy_unbiased_ci_low",
    "challenger_ci_high": "shadow_challenger_accuracy_unbiased_ci_high",
    "champion": "shadow_champion_accuracy_unbiased",
    "champion_ci_low": "shadow_champion_accuracy_unbiased_ci_low",
    "champion_ci_high": "shadow_champion_accuracy_unbiased_ci_high",
    "random_rows": "shadow_labeled_random_rows",
    "challenger_biased": "shadow_challenger_accuracy_all_labels_biased",
    "champion_biased": "shadow_champion_accuracy_all_labels_biased",
    "labeled_rows": "shadow_labeled_rows",
}
# What a shadow promotion decision leaves on the challenger's version.
DECISION_TAG = "shadow_promotion"
REASON_TAG = "shadow_promotion_reason"


def shadow_days(client: MlflowClient, settings: Settings, version: str) -> list[dict]:
    """The days ``version`` scored in the shadow, oldest first, as ``DAY_METRICS`` keys."""
    experiment = client.get_experiment_by_name(settings.inference_experiment)
    if experiment is None:
        return []
    runs = client.search_runs(
        [experiment.experiment_id],
        f"tags.{SHADOW_VERSION_TAG} = '{version}'",
        max_results=5000,
    )
    days = [
        {
            "logical_date": run.data.tags.get("logical_date", ""),
            "champion_version": run.data.tags.get("model_version", ""),
            **{
                key: run.data.metrics[metric]
                for key, metric in DAY_METRICS.items()
                if metric in run.data.metrics
            },
        }
        for run in runs
    ]
    return sorted(days, key=lambda day: day["logical_date"])


def record_decision(
    client: MlflowClient, settings: Settings, version: str, *, decision: str, reason: str
) -> None:
    """Tag ``version`` with the latest shadow promotion decision and why."""
    name = settings.model.registered_model_name
    client.set_model_version_tag(name, version, DECISION_TAG, decision)
    client.set_model_version_tag(name, version, REASON_TAG, reason)
