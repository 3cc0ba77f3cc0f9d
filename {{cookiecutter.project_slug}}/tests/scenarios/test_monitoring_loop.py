"""Fourteen logical days of batches through the step functions, then the loop through Airflow.

Each loop starts from the session's champion. A drifted fortnight's first
week is the stable one's (the invented data of a day before the drift does
not depend on it), so that week runs once and each fortnight goes on from a
copy of its store.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.orchestration import (
    BATCH_INFERENCE_DAG_ID,
    RETRAINING_REQUESTED,
    TRAINING_DAG_ID,
)
from {{ cookiecutter.package_name }}.steps import inference, label_requests, monitoring
from {{ cookiecutter.package_name }}.tracking.client import connect
{%- if cookiecutter.data_source == "demo" %}
from tests.conftest import _isolate, invented_day
{%- else %}
from tests.conftest import LABEL_DELAY_DAYS, _isolate, invented_day
{%- endif %}

pytestmark = pytest.mark.scenario
START = date(2026, 8, 1)
DAYS = [START + timedelta(days=i) for i in range(14)]
DRIFT_START = DAYS[7]
# Half of each day's 100 label requests drawn at random: 50 labels put the
# unbiased accuracy within about 0.12 (95 %), enough to tell 0.85 from 0.6 on
# every day; the default 20 give about 0.17, and a drifted day may read 0.85.
ROWS = 200
QUEUE = {"label_random_share": 0.5}
QUALITY_KINDS = {
    "declining_confidence",
    "confidence_drift",
    "vocabulary_drift",
    "class_shift",
    "accuracy_drop",
}


def run_days(settings, days, drift_start: str = ""):
    """Invent, predict, request labels and monitor each day; return each day's alert kinds.

    The invented labels answer each day's label requests, so accuracy is
    judged on the random sample among them, as in a DAG run.
    """
    kinds = {}
    for day in days:
        invented_day(settings, day, ROWS, drift_start=drift_start)
        inference.batch_predict(settings, day)
        label_requests.request_labels(settings, day)
        result = monitoring.monitor(settings, day)
        kinds[day] = {alert["kind"] for alert in result["alerts"]}
    return kinds


@pytest.fixture
def trained(champion_store):
    """The session's champion, in a store of this test's own."""
    return champion_store.with_overrides(**QUEUE)


@pytest.fixture(scope="module")
def first_week(tmp_path_factory, champion, session_settings):
    """The week before the drift, run once on a copy of the session's store, and its alerts."""
    directory = tmp_path_factory.mktemp("first-week")
    database = Path(session_settings.platform.tracking_uri.removeprefix("sqlite:///"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = _isolate(directory, monkeypatch, database).with_overrides(**QUEUE)
        kinds = run_days(settings, [day for day in DAYS if day < DRIFT_START])
    return directory, kinds


@pytest.fixture
def after_first_week(first_week, tmp_path, monkeypatch):
    """A store of this test's own as the first week left it, and that week's alert kinds."""
    directory, kinds = first_week
    shutil.copytree(directory / "data", tmp_path / "data")
    settings = _isolate(tmp_path, monkeypatch, directory / "mlflow.db")
    return settings.with_overrides(**QUEUE), dict(kinds)


def test_fourteen_stable_days_raise_no_quality_alert(after_first_week):
    settings, kinds = after_first_week
    kinds |= run_days(settings, [day for day in DAYS if day >= DRIFT_START])
    assert sorted(kinds) == DAYS
    assert all(not (day_kinds & QUALITY_KINDS) for day_kinds in kinds.values()), kinds


def test_drift_is_caught_from_its_first_day_and_accuracy_once_labels_arrive(after_first_week):
    settings, kinds = after_first_week
    drifted = [day for day in DAYS if day >= DRIFT_START]
    kinds |= run_days(settings, drifted, drift_start=DRIFT_START.isoformat())
    assert sorted(kinds) == DAYS

    drift_kinds = {"confidence_drift", "vocabulary_drift", "class_shift"}
    for day in DAYS:
        if day < DRIFT_START:
            assert not kinds[day] & (drift_kinds | {"accuracy_drop"}), (day, kinds[day])
        else:
            assert kinds[day] & drift_kinds, (day, kinds[day])
    first_labels = DRIFT_START + timedelta(days={% if cookiecutter.data_source == "demo" %}settings.data.label_delay_days{% else %}LABEL_DELAY_DAYS{% endif %})
    assert all("accuracy_drop" in kinds[day] for day in DAYS if day >= first_labels), kinds


def test_a_drifted_day_requests_retraining_and_the_training_dag_makes_a_challenger(dags, trained):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    day = DAYS[-1]
    logical_date = datetime(day.year, day.month, day.day, tzinfo=UTC)
{%- if cookiecutter.data_source == "demo" %}
    conf = {"drift_start": DRIFT_START.isoformat(), "batch_size": ROWS}
{%- else %}
    invented_day(trained, day, ROWS, drift_start=DRIFT_START.isoformat())
    conf = None
{%- endif %}
    dag_run = dags[BATCH_INFERENCE_DAG_ID].test(logical_date=logical_date, run_conf=conf)
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states["request_retraining"] == "success", states

    with create_session() as session:
        events = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.name == RETRAINING_REQUESTED.name)
            .filter(AssetEvent.source_run_id == dag_run.run_id)
            .all()
        )
    assert len(events) == 1

    client = connect(trained)
    name = trained.model.registered_model_name
    before = {v.version for v in client.search_model_versions(f"name = '{name}'")}
    training_run = dags[TRAINING_DAG_ID].test(logical_date=logical_date + timedelta(hours=1))
    assert training_run.state == "success"
    challenger = client.get_model_version_by_alias(name, "challenger")
    assert challenger.version not in before
    # Genuinely new data (the drifted reviews and their true labels) passes the
    # label-agreement check and the reference set, and is promoted.
    champion = client.get_model_version_by_alias(name, "champion")
    assert champion.version == challenger.version, challenger.tags.get("promotion_reason")
    assert "reference-set accuracy" in champion.tags["promotion_reason"]
