"""A tracking store that fails while the server runs: the champion held keeps serving."""

from __future__ import annotations

from pathlib import Path

from tests.serving.test_outage import assert_predicts_fast, wait_for_status


def test_a_broken_store_degrades_health_and_predictions_go_on(champion_store, champion, serve):
    base = serve(champion_store, refresh_seconds=0.2)
    version = champion["model_version"]
    assert wait_for_status(base, "ok", 5)["model_version"] == version

    database = Path(champion_store.platform.tracking_uri.removeprefix("sqlite:///"))
    intact = database.read_bytes()
    # Overwritten in place, so connections MLflow already holds read it too.
    with database.open("r+b") as handle:
        handle.write(b"not a database" * 100)
    try:
        degraded = wait_for_status(base, "degraded", 10)
        assert degraded["model_version"] == version
        assert degraded["model_age_seconds"] >= degraded["refreshed_seconds_ago"] >= 0
        assert "\n" not in degraded["reason"]
        for _ in range(3):
            assert_predicts_fast(base, version)
    finally:
        database.write_bytes(intact)
    assert wait_for_status(base, "ok", 10)["model_version"] == version


def test_a_deleted_store_degrades_health(champion_store, champion, serve):
    """Connections MLflow already holds still read the deleted file: health must not trust them."""
    base = serve(champion_store, refresh_seconds=0.2)
    version = champion["model_version"]
    assert wait_for_status(base, "ok", 5)["model_version"] == version

    database = Path(champion_store.platform.tracking_uri.removeprefix("sqlite:///"))
    intact = database.read_bytes()
    database.unlink()
    try:
        degraded = wait_for_status(base, "degraded", 10)
        assert "cannot be read" in degraded["reason"] and str(database) in degraded["reason"]
        assert_predicts_fast(base, version)
    finally:
        database.write_bytes(intact)
    assert wait_for_status(base, "ok", 10)["model_version"] == version
