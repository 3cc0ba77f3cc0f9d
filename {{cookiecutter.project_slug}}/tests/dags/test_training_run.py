"""The training DAG, run with dag.test(): a weaker challenger is registered, tagged and kept out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from {{ cookiecutter.package_name }}.orchestration import TRAINING_DAG_ID
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect


@pytest.fixture(scope="module")
def dags(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import PROJECT_ROOT

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags")).dags


def run(dag, day, conf=None):
    dag_run = dag.test(logical_date=datetime.fromisoformat(day).replace(tzinfo=UTC), run_conf=conf)
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "success", states
    return dag_run


def test_a_weaker_challenger_is_rejected_through_airflow(dags, champion_store, champion):
    client = connect(champion_store)
    name = champion_store.model.registered_model_name

    dag_run = run(dags[TRAINING_DAG_ID], "2026-07-02", {"max_features": 5, "ngram_max": 1})

    challenger = client.get_model_version_by_alias(name, "challenger")
    assert str(challenger.version) != champion["model_version"]
    current = registry.champion_version(client, champion_store)
    assert str(current.version) == champion["model_version"]
    rejected = client.get_model_version(name, challenger.version)
    assert rejected.tags["promotion"] == "rejected"
    assert rejected.tags["dag_id"] == TRAINING_DAG_ID
    assert rejected.tags["dag_run_id"] == dag_run.run_id
    assert rejected.tags["training_data_digest"]
