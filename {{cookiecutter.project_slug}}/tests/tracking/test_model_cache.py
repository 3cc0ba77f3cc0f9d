"""The host's model cache serves a checked version again, and is never trusted blindly."""

from __future__ import annotations

import logging
import pickle
import shutil
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.data.schema import TEXT
from {{ cookiecutter.package_name }}.steps.training import run_training
from {{ cookiecutter.package_name }}.tracking import model_cache, registry
from {{ cookiecutter.package_name }}.tracking.client import connect

REVIEWS = pd.DataFrame({TEXT: ["not good at all", "works great, love it", "it is ok"]})


@pytest.fixture
def trained(isolated_store, tmp_path):
    """A champion trained in a fresh store (a small one: its artifacts get deleted), own cache."""
    settings = isolated_store.with_overrides(
        model_cache_dir=str(tmp_path / "model-cache"),
        max_features=200,
        ngram_max=1,
        min_accuracy=0.5,
    )
    result = run_training(settings, "2026-03-20")
    assert result["promoted"], result["reason"]
    return settings


def champion_entry(settings) -> Path:
    version = registry.champion_version(connect(settings), settings)
    return model_cache.entry_path(Path(settings.platform.model_cache_dir), version)


def remove_registry_artifacts(settings) -> None:
    client = connect(settings)
    version = registry.champion_version(client, settings)
    logged = client.get_logged_model(version.source.removeprefix("models:/"))
    shutil.rmtree(urlparse(logged.artifact_location).path)


def test_a_checked_version_is_served_from_the_cache(trained):
    entry = champion_entry(trained)
    # Training loaded (and so cached) the version it evaluated.
    assert entry.is_file()
    assert entry.stat().st_mode & 0o077 == 0
    assert entry.parent.stat().st_mode & 0o077 == 0
    expected = registry.load_champion(trained.with_overrides(model_cache_dir="")).model

    remove_registry_artifacts(trained)

    champion = registry.load_champion(trained)
    assert np.array_equal(champion.model.predict_proba(REVIEWS), expected.predict_proba(REVIEWS))
    with pytest.raises((MlflowException, OSError)):
        registry.load_champion(trained.with_overrides(model_cache_dir=""))


def test_an_unreadable_entry_is_replaced_from_the_registry(trained, caplog):
    entry = champion_entry(trained)
    entry.write_bytes(b"not a pickle")

    with caplog.at_level(logging.WARNING):
        champion = registry.load_champion(trained)

    assert "unreadable" in caplog.text
    assert champion.model.predict_proba(REVIEWS).shape == (len(REVIEWS), 2)
    with entry.open("rb") as handle:
        assert pickle.load(handle).classes_.tolist() == champion.model.classes_.tolist()


def test_a_cache_others_can_write_to_is_not_used(trained, caplog):
    entry = champion_entry(trained)
    entry.parent.chmod(0o777)
    remove_registry_artifacts(trained)

    with caplog.at_level(logging.WARNING), pytest.raises((MlflowException, OSError)):
        registry.load_champion(trained)
    assert "model cache not used" in caplog.text
    assert "chmod go-w" in caplog.text


def version(number: int, run_id: str = "run", name: str = "reviews") -> SimpleNamespace:
    return SimpleNamespace(
        name=name, version=str(number), run_id=run_id, creation_timestamp=1, source="models:/m-1"
    )


def test_entries_are_keyed_by_the_exact_version_and_environment(tmp_path, monkeypatch):
    first = model_cache.entry_path(tmp_path, version(1))
    assert model_cache.entry_path(tmp_path, version(1)) == first
    # A re-created model reuses version numbers, not run ids.
    assert model_cache.entry_path(tmp_path, version(1, run_id="other")) != first
    assert model_cache.entry_path(tmp_path, version(2)) != first
    assert model_cache.entry_path(tmp_path, version(1, name="a/b")).parent == tmp_path / "a_b"
    monkeypatch.setattr(model_cache.sklearn, "__version__", "0.1.0")
    assert model_cache.entry_path(tmp_path, version(1)) != first


def test_only_the_most_recently_used_entries_are_kept(tmp_path):
    entries = [model_cache.entry_path(tmp_path, version(number)) for number in range(1, 6)]
    model_cache.store(entries[0], {"model": 1})
    for entry in entries[1:]:
        model_cache.load(entries[0])  # the champion, used on every run
        model_cache.store(entry, {"model": entry.name})

    kept = sorted(path.name for path in entries[0].parent.glob("*.pkl"))
    assert kept == sorted(entry.name for entry in [entries[0], *entries[-2:]])
    assert model_cache.load(entries[0]) == {"model": 1}
