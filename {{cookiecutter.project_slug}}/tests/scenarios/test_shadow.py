"""A challenger in the shadow, through dag.test() on hand-written batches of the {% if cookiecutter.data_source == "warehouse" %}warehouse{% else %}files{% endif %} source.

A weaker version is trained and refused by the gate, so the challenger alias
names another version than the champion. Each day's run also scores with it,
unpublished; labels arrive (the team agrees with the challenger), monitoring
compares both on the same labelled rows, and with ``shadow_promotion_days``
the DAG promotes it through the gate.
"""

from __future__ import annotations
{%- if cookiecutter.data_source != "warehouse" %}

from pathlib import Path
{%- endif %}

import mlflow.artifacts
import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.orchestration import BATCH_INFERENCE_DAG_ID
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.steps import shadow
from {{ cookiecutter.package_name }}.steps.training import run_training
from {{ cookiecutter.package_name }}.tracking import registry, runs
from {{ cookiecutter.package_name }}.tracking.client import connect
{%- if cookiecutter.data_source == "warehouse" %}
from tests.conftest import append_rows, delivered_predictions, parse_dags, run_dag
{%- else %}
from tests.conftest import delivered_predictions, parse_dags, run_dag
{%- endif %}
from tests.dags.typed_rows import configure

pytestmark = pytest.mark.scenario

TEXTS = [
    "Works perfectly, I love it",
    "Broke after two days, a waste of money",
    "The staff was friendly and helpful",
    "Arrived damaged and support was rude",
    "Not bad at all, but the battery is terrible",
    "Great value, though the manual is awful",
    "It is fine I guess",
    "The screen looks beautiful and fast",
    "Stopped working, never again",
    "The packaging was okay and the jacket was okay",
    "Exceeded my expectations",
    "Overpriced and feels cheap",
]
DAYS = ["2026-10-01", "2026-10-02", "2026-10-03"]
{%- if cookiecutter.data_source == "warehouse" %}


def write_batch(settings, day: str) -> list[str]:
    from {{ cookiecutter.package_name }}.data.sources import source_for
    from {{ cookiecutter.package_name }}.steps.sample_batch import deliver_batch

    ids = [f"{day}-{index:02d}" for index in range(len(TEXTS))]
    batch = pd.DataFrame({"id": ids, "text": TEXTS})
    deliver_batch(source_for(settings), storage.as_date(day), batch)
    return ids


def label_as_the_challenger(settings, day: str) -> pd.DataFrame:
    """The team's labels for every row of ``day``: the challenger's answers."""
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    answers = storage.read_parts(partition, ["id", "prediction"], storage.SHADOW_PREFIX)
    labels = answers.rename(columns={"prediction": "sentiment"}).assign(ds=day)
    append_rows(settings, settings.data.labels_table, labels[["ds", "id", "sentiment"]])
    return labels
{%- else %}


def write_batch(settings, day: str) -> list[str]:
    ids = [f"{day}-{index:02d}" for index in range(len(TEXTS))]
    folder = Path(settings.data.incoming_dir) / f"ds={day}"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": ids, "text": TEXTS}).to_csv(folder / "reviews.csv", index=False)
    return ids


def label_as_the_challenger(settings, day: str) -> pd.DataFrame:
    """The team's labels for every row of ``day``: the challenger's answers."""
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    answers = storage.read_parts(partition, ["id", "prediction"], storage.SHADOW_PREFIX)
    feedback = Path(settings.data.feedback_dir)
    feedback.mkdir(parents=True, exist_ok=True)
    labels = answers.rename(columns={"prediction": "sentiment"}).assign(ds=day)
    labels[["ds", "id", "sentiment"]].to_csv(feedback / f"labels-{day}.csv", index=False)
    return labels
{%- endif %}


def inference_run(settings, day: str):
    return runs.find_run(
        connect(settings), settings.inference_experiment, runs.run_name(runs.INFERENCE, day)
    )


def test_a_challenger_scores_in_the_shadow_and_is_promoted_on_live_labels(
    airflow_db, champion_store, monkeypatch, capsys
):
    source = "{% if cookiecutter.data_source == "warehouse" %}warehouse{% else %}files{% endif %}"
    configure(monkeypatch, source, LABEL_RANDOM_SHARE="0.5")
    settings = load_settings()
    client = connect(settings)
    name = settings.model.registered_model_name
    champion = str(registry.champion_version(client, settings).version)
    # A five-word model: refused by the gate, and often of another opinion.
    weak = run_training(settings.with_overrides(max_features=5, ngram_max=1), "2026-09-30")
    assert not weak["promoted"]
    challenger = weak["model_version"]
    dag = parse_dags()[BATCH_INFERENCE_DAG_ID]
    # Every row is queued, half of them drawn at random: the unbiased part has six.
    conf = {"label_requests_per_day": len(TEXTS)}

    ids = write_batch(settings, DAYS[0])
    run_dag(dag, DAYS[0], conf)

    # The day's predictions are the champion's; the challenger's sit beside them, unpublished.
    partition = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, DAYS[0])
    published = storage.read_parts(partition)
    shadowed = storage.read_parts(partition, prefix=storage.SHADOW_PREFIX)
    assert set(published["model_version"]) == {champion}
    assert sorted(shadowed["id"]) == sorted(ids)
    assert set(shadowed["model_version"]) == {challenger}
    delivered = delivered_predictions(settings, DAYS[0])
    assert set(delivered["model_version"]) == {champion} and len(delivered) == len(TEXTS)
{%- if cookiecutter.data_source != "warehouse" %}
    outgoing = Path(settings.data.outgoing_dir) / f"ds={DAYS[0]}"
    assert not [path for path in outgoing.iterdir() if path.name.startswith("shadow")]
{%- endif %}
    run = inference_run(settings, DAYS[0])
    champion_says = published.set_index("id")["prediction"]
    agreeing = champion_says == shadowed.set_index("id")["prediction"].reindex(champion_says.index)
    assert run.data.tags["shadow_version"] == challenger
    assert run.data.metrics["shadow_rows"] == len(TEXTS)
    assert run.data.metrics["shadow_agreement"] == pytest.approx(agreeing.mean())
    assert agreeing.mean() < 1, "the two models must disagree somewhere for this test"

    # The team's labels agree with the challenger; the next run compares both on them.
    labels = label_as_the_challenger(settings, DAYS[0])
    write_batch(settings, DAYS[1])
    run_dag(dag, DAYS[1], {**conf, "shadow_promotion_days": 2})

    requests = pd.read_csv(partition / storage.LABEL_REQUESTS_FILE, dtype=str)
    drawn = requests.loc[requests["reason"] == "random", "id"].to_list()
    champion_right = champion_says == labels.set_index("id")["sentiment"].reindex(
        champion_says.index
    )
    metrics = inference_run(settings, DAYS[0]).data.metrics
    assert metrics["shadow_labeled_random_rows"] == len(drawn) == len(TEXTS) // 2
    assert metrics["shadow_challenger_accuracy_unbiased"] == 1.0
    assert metrics["shadow_champion_accuracy_unbiased"] == pytest.approx(
        champion_right.loc[drawn].mean()
    )
    assert metrics["shadow_champion_accuracy_all_labels_biased"] == pytest.approx(
        champion_right.mean()
    )
    assert champion_right.loc[drawn].mean() < 1, "the random rows must show a disagreement"
    monitoring = client.get_experiment_by_name(settings.monitoring_experiment)
    [monitored] = client.search_runs([monitoring.experiment_id], f"tags.logical_date = '{DAYS[1]}'")
    assert monitored.data.metrics["shadow_labeled_days"] == 1
    assert monitored.data.metrics["shadow_wins"] == 1
    assert monitored.data.metrics["shadow_days"] == 2
    reports = storage.partition_dir(settings.data.data_dir, storage.REPORTS, DAYS[1])
    report = (reports / storage.REPORT_HTML).read_text()
    assert f"Challenger version {challenger} in the shadow" in report
    assert "1 of 1 labelled days won" in report
    # One labelled day of the two asked for: no decision yet.
    assert str(registry.champion_version(client, settings).version) == champion
    # The comparison page and `model promote` show the live evidence.
    run_id = client.get_model_version(name, challenger).run_id
    page = mlflow.artifacts.load_text(f"runs:/{run_id}/evaluation/comparison.html")
    assert "Live, in the shadow, against champion version" in page and DAYS[0] in page
    capsys.readouterr()
    assert cli.main(["model", "promote", challenger, "--reason", "looks good"]) == 2
    [error] = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert error.startswith(f"error: the gate refused version {challenger} (")
    assert f"live, in the shadow against champion version {champion}: 2 days" in error
    assert "1 won of 1 labelled" in error

    label_as_the_challenger(settings, DAYS[1])
    write_batch(settings, DAYS[2])
    dag_run = run_dag(dag, DAYS[2], {**conf, "shadow_promotion_days": 2})

    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states["promote_challenger"] == "success"
    assert str(registry.champion_version(client, settings).version) == challenger
    tags = client.get_model_version(name, challenger).tags
    assert tags["promoted_by"] == shadow.ACTOR
    assert tags["promotion_reason"].startswith(
        "shadow promotion: beat the champion on the unbiased labels of the last 2 labelled days"
    )
    assert tags["shadow_promotion"] == "promoted"
    assert tags["gate_refused_reason"]  # the hold-out gate's refusal stays on record
    assert tags["previous_champion"] == champion
