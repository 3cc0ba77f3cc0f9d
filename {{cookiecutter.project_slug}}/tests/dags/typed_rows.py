"""Rows typed by hand for the batch DAG's tests on real data, and what they share.

Every text is typed here; the tests compare the scored rows with them one by
one, so invented rows could not pass.
"""

from __future__ import annotations

import pandas as pd

from {{ cookiecutter.package_name }}.data import storage
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.tracking import runs
from {{ cookiecutter.package_name }}.tracking.client import connect

GOOD = {
    "m-1": "Arrived on time and works perfectly, I love it",
    "m-2": "Stopped charging after a week, what a waste of money",
    "m-3": "Not bad at all, I would buy it again",
    "m-4": "The worst support I have dealt with, never again",
}
BAD = [("m-5", "   ", "empty text"), ("m-1", "a second m-1", "duplicate id")]
TRUTH = {"m-1": "positive", "m-2": "negative", "m-3": "positive", "m-4": "positive"}


def configure(monkeypatch, source: str, **settings: str) -> None:
    for name, value in {
        "DATA_SOURCE": source,
        "MIN_LABELED_ROWS": "3",
        "BATCH_POKE_SECONDS": "1",
        "BATCH_WAIT_SECONDS": "3",
        **settings,
    }.items():
        monkeypatch.setenv(f"{ENV_PREFIX}{name}", value)


def predictions(settings, day: str) -> pd.DataFrame:
    path = storage.partition_dir(settings.data.data_dir, storage.PREDICTIONS, day)
    return storage.read_parts(path)


def inference_metrics(settings, day: str) -> dict[str, float]:
    name = runs.run_name(runs.INFERENCE, day)
    return runs.find_run(connect(settings), settings.inference_experiment, name).data.metrics
