"""The training DAG promotes a first model and refuses a weaker one; inference follows."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.orchestration import BATCH_INFERENCE_DAG_ID, TRAINING_DAG_ID
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect
{%- if cookiecutter.data_source == "demo" %}
from tests.conftest import run_dag
{%- else %}
from tests.conftest import invented_day, run_dag
{%- endif %}

pytestmark = pytest.mark.scenario


def test_champion_challenger_through_airflow(dags, isolated_store):
    client = connect(isolated_store)
    name = isolated_store.model.registered_model_name

    run_dag(dags[TRAINING_DAG_ID], "2026-07-01")
    first = registry.champion_version(client, isolated_store)
    assert first is not None and first.tags["promotion"] == "promoted"

    run_dag(dags[TRAINING_DAG_ID], "2026-07-02", {"max_features": 5, "ngram_max": 1})

    challenger = client.get_model_version_by_alias(name, "challenger")
    assert challenger.version != first.version
    assert registry.champion_version(client, isolated_store).version == first.version
    rejected = client.get_model_version(name, challenger.version)
    assert rejected.tags["promotion"] == "rejected"
    assert rejected.tags["dag_id"] == TRAINING_DAG_ID
    assert rejected.tags["training_data_digest"]

{%- if cookiecutter.data_source != "demo" %}
    invented_day(isolated_store, "2026-07-03", 100)
{%- endif %}
    run_dag(dags[BATCH_INFERENCE_DAG_ID], "2026-07-03")
    predictions = storage.read_parts(
        storage.partition_dir(isolated_store.data.data_dir, storage.PREDICTIONS, "2026-07-03")
    )
    assert set(predictions["model_version"]) == {str(first.version)}
