"""The host's model cache serves a checked version again, and nothing another user plants runs."""

from __future__ import annotations

import logging
import os
import pickle
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }}.data.schema import TEXT
from {{ cookiecutter.package_name }}.tracking import model_cache, registry
from {{ cookiecutter.package_name }}.tracking.client import connect

REVIEWS = pd.DataFrame({TEXT: ["not good at all", "works great, love it", "it is ok"]})
ENV_PREFIX = "{{ cookiecutter.package_name.upper() }}_"
NOBODY = 65534


class Marker:
    """Unpickled, it creates the file ``path``: the code an attacker's entry would run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


@pytest.fixture
def cached(champion_store, tmp_path):
    """The session's champion in a store of this test's own, loaded once into an empty cache."""
    settings = champion_store.with_overrides(model_cache_dir=str(tmp_path / "model-cache"))
    registry.load_champion(settings)
    assert champion_entry(settings).is_file()
    return settings


@pytest.fixture
def marker(tmp_path) -> Path:
    """Where an attacker's code would leave its mark; it must never appear."""
    return tmp_path / "attacker-code-ran"


def cache_root(settings) -> Path:
    return Path(settings.platform.model_cache_dir)


def project_dir(settings) -> Path:
    name = model_cache.project_directory_name(
        settings.platform.tracking_uri, settings.model.registered_model_name
    )
    return cache_root(settings) / name


def champion_entry(settings) -> Path:
    version = registry.champion_version(connect(settings), settings)
    return project_dir(settings) / model_cache.entry_name(version)


def secret_key(settings) -> bytes:
    return (cache_root(settings) / model_cache.KEY_FILE).read_bytes()


def armed(marker: Path) -> bytes:
    """A pickle that creates ``marker`` when loaded, proven to do so before a probe uses it."""
    payload = pickle.dumps(Marker(marker))
    pickle.loads(payload)
    assert marker.exists()
    marker.unlink()
    return payload


def forged(settings, entry: Path, payload: bytes) -> bytes:
    """``payload`` signed with the user's real key, as if the attacker had stolen it."""
    return model_cache.seal(secret_key(settings), entry.name, payload)


def unsigned(payload: bytes) -> bytes:
    """``payload`` in the entry format, with the MAC an attacker without the key can only guess."""
    return model_cache.MAGIC + bytes(model_cache.MAC_BYTES) + payload


def flip_a_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def cache_warnings(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == model_cache.__name__ and record.levelno == logging.WARNING
    ]


def load_falls_back(settings, caplog, expected: str) -> registry.Champion:
    """Load the champion: one cache warning containing ``expected``, a working model."""
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        champion = registry.load_champion(settings)
    warnings = cache_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert expected in warnings[0]
    assert "loading from the registry" in warnings[0]
    assert type(champion.model) is Pipeline
    assert champion.model.predict_proba(REVIEWS).shape == (len(REVIEWS), 2)
    return champion


def test_a_checked_version_is_cached_private_to_this_user(cached, caplog):
    """The entry, its folder and the cache are the user's alone; the next load is a hit.

    That a fresh process loads it without skops or MLflow: test_shards.py.
    """
    entry = champion_entry(cached)
    assert entry.read_bytes().startswith(model_cache.MAGIC)
    for place in (entry, entry.parent, cache_root(cached)):
        assert place.stat().st_mode & 0o077 == 0, place
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        champion = registry.load_champion(cached)
    assert cache_warnings(caplog) == []
    expected = registry.load_champion(cached.with_overrides(model_cache_dir="")).model
    assert np.allclose(champion.model.predict_proba(REVIEWS), expected.predict_proba(REVIEWS))


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda entry, payload: entry.write_bytes(payload), id="bare pickle"),
        pytest.param(
            lambda entry, payload: entry.write_bytes(unsigned(payload)),
            id="pickle with a made-up MAC",
        ),
        pytest.param(
            lambda entry, _: entry.write_bytes(flip_a_byte(entry.read_bytes())),
            id="a byte of the payload flipped",
        ),
        pytest.param(lambda entry, _: entry.write_bytes(b"not a pickle"), id="garbage"),
    ],
)
def test_a_tampered_entry_falls_back_to_the_registry(cached, caplog, marker, tamper):
    entry = champion_entry(cached)
    tamper(entry, armed(marker))

    load_falls_back(cached, caplog, "failed its integrity check")

    assert not marker.exists()
    # The registry load wrote a good entry in its place.
    assert model_cache.unseal(secret_key(cached), entry.name, entry.read_bytes()) is not None


def test_a_symlinked_entry_is_not_followed(cached, caplog, marker, tmp_path):
    entry = champion_entry(cached)
    # Signed with the real key: only the refusal to follow the link stops it.
    planted = tmp_path / "planted.pkl"
    planted.write_bytes(forged(cached, entry, armed(marker)))
    entry.unlink()
    entry.symlink_to(planted)

    load_falls_back(cached, caplog, "is a symbolic link")

    assert not marker.exists()
    assert not entry.is_symlink()


def swap_project_dir(settings, prepared: Path) -> None:
    """Move the project's directory aside and put ``prepared`` in its place."""
    real = project_dir(settings)
    real.rename(real.with_name("moved-aside"))
    prepared.rename(real)


def make_others_writable(path: Path) -> None:
    path.chmod(0o777)


def give_to_nobody(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a directory to another user")
    os.chown(path, NOBODY, NOBODY)


@pytest.mark.parametrize(
    ("attack", "signed", "expected"),
    [
        # The attacker cannot sign: their own directory in its place is not enough.
        ("swap private", False, "failed its integrity check"),
        # Signed with the stolen key below: only the directory check stops these.
        ("swap writable", True, "must belong to this user"),
        ("swap owned by another user", True, "must belong to this user"),
        ("project dir others can write", True, "must belong to this user"),
        ("project dir of another user", True, "must belong to this user"),
        ("cache root others can write", True, "must belong to this user"),
        ("cache root swapped for a link", True, "is a symbolic link"),
    ],
)
def test_a_directory_someone_else_controls_is_refused(
    cached, caplog, marker, tmp_path, attack, signed, expected
):
    entry = champion_entry(cached)
    root, project = cache_root(cached), project_dir(cached)
    payload = forged(cached, entry, armed(marker)) if signed else unsigned(armed(marker))
    if attack.startswith("swap"):
        prepared = tmp_path / "prepared"
        prepared.mkdir(mode=0o700)
        (prepared / entry.name).write_bytes(payload)
        if attack == "swap writable":
            make_others_writable(prepared)
        elif attack == "swap owned by another user":
            give_to_nobody(prepared)
        swap_project_dir(cached, prepared)
    else:
        entry.write_bytes(payload)
    if attack == "project dir others can write":
        make_others_writable(project)
    elif attack == "project dir of another user":
        give_to_nobody(project)
    elif attack == "cache root others can write":
        make_others_writable(root)
    elif attack == "cache root swapped for a link":
        moved = root.rename(tmp_path / "real-cache")
        root.symlink_to(moved)

    load_falls_back(cached, caplog, expected)

    assert not marker.exists()


def test_a_directory_swapped_after_the_check_is_not_used(cached, marker, tmp_path):
    entry = champion_entry(cached)
    version = registry.champion_version(connect(cached), cached)
    prepared = tmp_path / "prepared"
    prepared.mkdir(mode=0o700)
    (prepared / entry.name).write_bytes(forged(cached, entry, armed(marker)))
    platform = cached.platform

    with model_cache.opened(platform.model_cache_dir, platform.tracking_uri, version.name) as cache:
        # Between the check and the read: the path now leads to the attacker's entry.
        swap_project_dir(cached, prepared)
        model = cache.load(version)

    assert type(model) is Pipeline
    assert not marker.exists()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (pickle.dumps({"classes_": [0, 1]}), "holds a dict, not a Pipeline"),
        (b"signed, but not a pickle", "unreadable"),
    ],
    ids=["a dict", "not a pickle"],
)
def test_a_signed_entry_that_is_not_a_pipeline_is_refused(cached, caplog, payload, expected):
    entry = champion_entry(cached)
    entry.write_bytes(forged(cached, entry, payload))

    load_falls_back(cached, caplog, expected)

    restored = model_cache.unseal(secret_key(cached), entry.name, entry.read_bytes())
    assert type(pickle.loads(restored)) is Pipeline


def test_a_valid_entry_under_another_name_is_refused(cached, caplog):
    entry = champion_entry(cached)
    # Signed for another version: moving a good entry to a new name does not make it this one.
    entry.write_bytes(forged(cached, entry.with_name("v99-other.pkl"), pickle.dumps(None)))

    load_falls_back(cached, caplog, "failed its integrity check")


def version(number: int, run_id: str = "run", name: str = "reviews") -> SimpleNamespace:
    return SimpleNamespace(
        name=name, version=str(number), run_id=run_id, creation_timestamp=1, source="models:/m-1"
    )


def test_entries_are_keyed_by_the_exact_version_environment_and_project(monkeypatch):
    first = model_cache.entry_name(version(1))
    assert model_cache.entry_name(version(1)) == first
    # A re-created model reuses version numbers, not run ids.
    assert model_cache.entry_name(version(1, run_id="other")) != first
    assert model_cache.entry_name(version(2)) != first
    monkeypatch.setattr(model_cache.sklearn, "__version__", "0.1.0")
    assert model_cache.entry_name(version(1)) != first

    project = model_cache.project_directory_name("sqlite:///a/mlflow.db", "reviews")
    assert project.startswith("reviews-")
    assert model_cache.project_directory_name("sqlite:///b/mlflow.db", "reviews") != project
    assert model_cache.project_directory_name("sqlite:///a/mlflow.db", "other") != project
    secret_uri = "http://user:hunter2@mlflow:5000"
    assert "hunter2" not in model_cache.project_directory_name(secret_uri, "a/b")
    assert model_cache.project_directory_name(secret_uri, "a/b").startswith("a_b-")


def test_projects_do_not_evict_each_other(cached, tmp_path):
    model = registry.load_champion(cached).model
    shared = str(tmp_path / "shared-cache")
    with model_cache.opened(shared, "sqlite:///one/mlflow.db", "reviews") as first:
        for number in range(1, 4):
            first.store(version(number), model)
    with model_cache.opened(shared, "sqlite:///two/mlflow.db", "reviews") as second:
        for number in range(1, 7):
            second.store(version(number), model)
        assert [second.load(version(number)) is not None for number in range(1, 7)] == [
            False, False, False, True, True, True,
        ]  # fmt: skip

    with model_cache.opened(shared, "sqlite:///one/mlflow.db", "reviews") as first:
        assert all(type(first.load(version(number))) is Pipeline for number in range(1, 4))


def test_only_the_most_recently_used_entries_are_kept(cached, tmp_path):
    model = registry.load_champion(cached).model
    with model_cache.opened(str(tmp_path / "cache"), "sqlite:///mlflow.db", "reviews") as cache:
        cache.store(version(1), model)
        for number in range(2, 6):
            cache.load(version(1))  # the champion, used on every run
            cache.store(version(number), model)
        kept = [number for number in range(1, 6) if cache.load(version(number)) is not None]
    assert kept == [1, 4, 5]


def test_only_a_pipeline_is_written(tmp_path, caplog):
    with (
        caplog.at_level(logging.WARNING),
        model_cache.opened(str(tmp_path / "cache"), "sqlite:///mlflow.db", "reviews") as cache,
    ):
        cache.store(version(1), {"not": "a pipeline"})
        assert cache.load(version(1)) is None
    assert "not written" in caplog.text
    assert not list((tmp_path / "cache").glob("*/*.pkl"))


def test_the_secret_key_is_private_from_its_first_byte(tmp_path):
    root = tmp_path / "cache"
    previous = os.umask(0)  # no help from the umask
    try:
        with model_cache.opened(str(root), "sqlite:///mlflow.db", "reviews") as cache:
            assert cache is not None
    finally:
        os.umask(previous)
    key = root / model_cache.KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.stat().st_size == model_cache.KEY_BYTES
    assert root.stat().st_mode & 0o777 == 0o700
    assert [path.name for path in root.iterdir() if path.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("replace_key", "expected"),
    [
        (lambda key, elsewhere: key.chmod(0o644), "only this user can read"),
        (lambda key, elsewhere: key.unlink() or key.symlink_to(elsewhere), "is a symbolic link"),
    ],
    ids=["readable by others", "a link to a key someone else knows"],
)
def test_a_key_others_may_know_is_not_used(tmp_path, caplog, replace_key, expected):
    root = tmp_path / "cache"
    with model_cache.opened(str(root), "sqlite:///mlflow.db", "reviews"):
        pass
    known = tmp_path / "known.key"
    known.write_bytes(bytes(model_cache.KEY_BYTES))
    known.chmod(0o600)
    replace_key(root / model_cache.KEY_FILE, known)

    with (
        caplog.at_level(logging.WARNING),
        model_cache.opened(str(root), "sqlite:///mlflow.db", "reviews") as cache,
    ):
        assert cache is None
    assert expected in caplog.text


def test_writers_racing_to_make_the_key_agree_on_one(tmp_path):
    # The loser of a race: the key that is already there wins.
    root = tmp_path / "existing"
    with model_cache.opened(str(root), "sqlite:///mlflow.db", "reviews"):
        pass
    key = (root / model_cache.KEY_FILE).read_bytes()
    descriptor = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        model_cache._create_key(descriptor)
    finally:
        os.close(descriptor)
    assert (root / model_cache.KEY_FILE).read_bytes() == key

    # Real races: eight threads open each fresh cache at once and write an entry.
    trivial = Pipeline([("identity", "passthrough")])
    for attempt in range(10):
        root = tmp_path / f"race-{attempt}"
        barrier = threading.Barrier(8)

        def store(project: str, root=root, barrier=barrier) -> None:
            barrier.wait()
            with model_cache.opened(str(root), "sqlite:///mlflow.db", project) as cache:
                cache.store(version(1), trivial)

        threads = [threading.Thread(target=store, args=(f"p{number}",)) for number in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Signed with the key that stayed: every entry is valid.
        for number in range(8):
            with model_cache.opened(str(root), "sqlite:///mlflow.db", f"p{number}") as cache:
                assert type(cache.load(version(1))) is Pipeline, (attempt, number)
