"""The batch DAG on a warehouse, with dag.test(): rows typed in the test in, a table out.

On SQLite it is a scenario (`nox -s scenarios`); on PostgreSQL it runs with
the production tests (`nox -s production`).
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.data.sources import source_for
from {{ cookiecutter.package_name }}.orchestration import BATCH_INFERENCE_DAG_ID
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect
from tests.conftest import parse_dags, run_dag
from tests.dags.typed_rows import GOOD, TRUTH, configure, inference_metrics, predictions


def create_database(url: str) -> str:
    import psycopg

    name = f"warehouse_test_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


POSTGRES = os.environ.get(
    "PRODUCTION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.scenario),
        pytest.param("postgresql", marks=pytest.mark.production),
    ]
)
def warehouse_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.db'}"
        return
    name = create_database(POSTGRES)
    try:
        yield f"postgresql+psycopg://{POSTGRES.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"
    finally:
        drop_database(POSTGRES, name)


def test_warehouse_batch_in_predictions_table_out_one_row_each(
    airflow_db, champion_store, monkeypatch, warehouse_url
):
    configure(
        monkeypatch,
        "warehouse",
        WAREHOUSE_URL=warehouse_url,
        LABEL_REQUESTS_PER_DAY="3",
        LABEL_RANDOM_SHARE="0.34",
    )
    settings = load_settings()
    source_for(settings).init()
    engine = sa.create_engine(warehouse_url)
    rows = [
        {"id": key, "text": text, "created_at": datetime(2026, 9, 10, 8, minute)}
        for minute, (key, text) in enumerate(GOOD.items())
    ]
    rows += [
        {"id": "m-5", "text": "", "created_at": datetime(2026, 9, 10, 9)},
        {"id": "other-day", "text": "Fine", "created_at": datetime(2026, 9, 11, 9)},
    ]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO review_batches (id, text, created_at) VALUES (:id, :text, :created_at)"
            ),
            rows,
        )
        connection.execute(
            sa.text("INSERT INTO review_labels (id, sentiment) VALUES (:id, :sentiment)"),
            [{"id": key, "sentiment": label} for key, label in TRUTH.items()],
        )
    # A challenger (a second version of the champion's model) scores in the shadow.
    client = connect(settings)
    champion = registry.champion_version(client, settings)
    name = settings.model.registered_model_name
    shadow = client.create_model_version(name, champion.source, run_id=champion.run_id)
    client.set_registered_model_alias(name, "challenger", shadow.version)
    dag = parse_dags()[BATCH_INFERENCE_DAG_ID]

    run_dag(dag, "2026-09-10")
    run_dag(dag, "2026-09-10")  # a rerun replaces the date's rows

    with engine.connect() as connection:
        output = pd.read_sql(sa.text("SELECT * FROM review_predictions"), connection)
    assert sorted(output["id"]) == sorted(GOOD)
    # Only the champion's predictions reach the table; the shadow's stay beside the partition.
    assert set(output["model_version"].astype(str)) == {str(champion.version)}
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, "2026-09-10")
    shadowed = storage.read_parts(partition, prefix=storage.SHADOW_PREFIX)
    assert sorted(shadowed["id"]) == sorted(GOOD)
    assert set(shadowed["model_version"]) == {str(shadow.version)}
    assert set(output["logical_date"]) == {"2026-09-10"}
    assert output["run_id"].nunique() == 1
    assert predictions(settings, "2026-09-10").set_index("id")["text"].to_dict() == GOOD
    # The day's label requests, in their table: replaced by the rerun, not doubled.
    with engine.connect() as connection:
        requests = pd.read_sql(sa.text("SELECT * FROM review_label_requests"), connection)
    assert set(requests["ds"]) == {"2026-09-10"} and set(requests["id"]) <= set(GOOD)
    assert sorted(requests["reason"]) == ["random", "uncertain", "uncertain"]
    assert requests.set_index("id")["text"].to_dict() == {i: GOOD[i] for i in requests["id"]}
    # The labels were in the warehouse already: the day's accuracy is logged at once.
    assert inference_metrics(settings, "2026-09-10")["labeled_rows"] == 4
    engine.dispose()
