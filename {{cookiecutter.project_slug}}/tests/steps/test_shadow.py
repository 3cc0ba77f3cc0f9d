"""Shadow promotion on a real registry: days in the shadow as the runs record them, then the gate.

The challenger is a second registered version of the session's champion
model, and its days are batch-inference runs carrying what monitoring logs
(tests/scenarios/test_shadow.py makes them through the DAG).
"""

from __future__ import annotations

import json

import mlflow
import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.steps import shadow
from {{ cookiecutter.package_name }}.tracking import registry, runs
from {{ cookiecutter.package_name }}.tracking.client import connect, ensure_experiment


@pytest.fixture
def challenger(champion_store) -> str:
    """A second version of the model, refused by the gate, holding the challenger alias."""
    client = connect(champion_store)
    name = champion_store.model.registered_model_name
    champion = registry.champion_version(client, champion_store)
    version = client.create_model_version(name, champion.source, run_id=champion.run_id).version
    registry.reject(
        client, champion_store, version, reason="a weaker hold-out", challenger=0.7, champion=0.8
    )
    client.set_registered_model_alias(name, "challenger", version)
    return str(version)


def shadow_day(settings, day: str, challenger: str, accuracies: tuple[float, float]) -> None:
    """The day's batch-inference run, as batch inference and monitoring leave it."""
    client = connect(settings)
    experiment_id = ensure_experiment(client, settings, settings.inference_experiment)
    champion = str(registry.champion_version(client, settings).version)
    tags = {"logical_date": day, "model_version": champion, "shadow_version": challenger}
    name = runs.run_name(runs.INFERENCE, day)
    with mlflow.start_run(experiment_id=experiment_id, run_name=name, tags=tags):
        mlflow.log_metrics(
            {
                "shadow_agreement": 0.9,
                "shadow_challenger_accuracy_unbiased": accuracies[0],
                "shadow_champion_accuracy_unbiased": accuracies[1],
                "shadow_labeled_random_rows": 20.0,
            }
        )


def test_a_challenger_that_won_its_labelled_days_is_promoted_through_the_gate(
    champion_store, challenger
):
    client = connect(champion_store)
    name = champion_store.model.registered_model_name
    champion = str(registry.champion_version(client, champion_store).version)
    shadow_day(champion_store, "2026-08-01", challenger, (0.90, 0.80))
    two_days = champion_store.with_overrides(shadow_promotion_days=2)

    waiting = shadow.promote_proven_challenger(two_days, "2026-08-02")
    assert waiting["decision"] == "waiting"
    assert waiting["reason"] == "1 of the 2 labelled days it needs so far"

    shadow_day(champion_store, "2026-08-02", challenger, (0.85, 0.85))
    refused = shadow.promote_proven_challenger(two_days, "2026-08-03")
    assert refused["decision"] == "refused"
    tags = client.get_model_version(name, challenger).tags
    assert tags["shadow_promotion"] == "refused"
    assert tags["shadow_promotion_reason"].startswith("did not beat the champion")
    assert str(registry.champion_version(client, champion_store).version) == champion

    one_day = champion_store.with_overrides(shadow_promotion_days=1)
    assert shadow.promote_proven_challenger(one_day, "2026-08-03")["decision"] == "refused"
    shadow_day(champion_store, "2026-08-03", challenger, (0.88, 0.80))
    assert shadow.promote_proven_challenger(one_day, "2026-08-04")["decision"] == "promoted"
    tags = client.get_model_version(name, challenger).tags
    assert tags["promoted_by"] == "shadow-promotion"
    assert tags["promotion_reason"] == (
        "shadow promotion: beat the champion on the unbiased labels of the last 1 labelled days "
        "in the shadow, by at least 0.0000 (challenger against champion: "
        "2026-08-03 0.8800 against 0.8000)"
    )
    assert tags["gate_refused_reason"] == "a weaker hold-out"
    assert tags["previous_champion"] == champion
    # Champion and challenger are one version now: nothing is in the shadow.
    assert shadow.evidence(champion_store) is None
    nothing = shadow.promote_proven_challenger(one_day, "2026-08-05")
    assert nothing["decision"] == "none"


def test_a_version_someone_rolled_back_comes_back_by_hand_only(champion_store, challenger):
    client = connect(champion_store)
    name = champion_store.model.registered_model_name
    client.set_model_version_tag(name, challenger, "rolled_back_by", "alice")
    shadow_day(champion_store, "2026-08-01", challenger, (0.95, 0.80))

    result = shadow.promote_proven_challenger(
        champion_store.with_overrides(shadow_promotion_days=1), "2026-08-02"
    )

    assert result["decision"] == "refused"
    assert result["reason"].startswith(
        f"rolled back by alice once: promote it by hand (`model promote {challenger}`)"
    )
    assert str(registry.champion_version(client, champion_store).version) != challenger
    assert client.get_model_version(name, challenger).tags["shadow_promotion"] == "refused"


def test_model_promote_shows_what_the_version_did_in_the_shadow(champion_store, challenger, capsys):
    champion = str(registry.champion_version(connect(champion_store), champion_store).version)
    shadow_day(champion_store, "2026-08-01", challenger, (0.90, 0.80))
    shadow_day(champion_store, "2026-08-02", challenger, (0.70, 0.80))
    capsys.readouterr()

    argv = ["--json", "model", "promote", challenger, "--force", "--reason", "live labels"]
    assert cli.main(argv) == 0

    live = json.loads(capsys.readouterr().out)["live_evidence"]
    assert live["against_champion"] == champion
    assert (live["days_shadowed"], live["labelled_days"], live["wins"]) == (2, 2, 1)
    assert live["mean_agreement"] == pytest.approx(0.9)
    assert live["last_labelled_day"]["logical_date"] == "2026-08-02"
    assert live["last_labelled_day"]["challenger_accuracy_unbiased"] == 0.70
