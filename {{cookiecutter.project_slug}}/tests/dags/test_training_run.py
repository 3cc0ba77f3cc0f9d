"""The training DAG, run with dag.test(): a weaker challenger is registered, tagged and kept out."""

from __future__ import annotations

from {{ cookiecutter.package_name }}.orchestration import TRAINING_DAG_ID
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect
from tests.conftest import run_dag


def test_a_weaker_challenger_is_rejected_through_airflow(dags, champion_store, champion):
    client = connect(champion_store)
    name = champion_store.model.registered_model_name

    dag_run = run_dag(dags[TRAINING_DAG_ID], "2026-07-02", {"max_features": 5, "ngram_max": 1})

    challenger = client.get_model_version_by_alias(name, "challenger")
    assert str(challenger.version) != champion["model_version"]
    current = registry.champion_version(client, champion_store)
    assert str(current.version) == champion["model_version"]
    rejected = client.get_model_version(name, challenger.version)
    assert rejected.tags["promotion"] == "rejected"
    assert rejected.tags["dag_id"] == TRAINING_DAG_ID
    assert rejected.tags["dag_run_id"] == dag_run.run_id
    assert rejected.tags["training_data_digest"]
    # The gate's page, champion and challenger side by side, is on the challenger's run.
    pages = {item.path for item in client.list_artifacts(rejected.run_id, "evaluation")}
    assert "evaluation/comparison.html" in pages
