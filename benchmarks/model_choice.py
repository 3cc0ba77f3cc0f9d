"""Benchmark, not a test: the estimators side by side on the bundled data, and one `tune` run.

For each estimator in model/estimators.py, `run_training` in a throwaway MLflow
store and data directory (the first model trained there, so nothing else is
scored): the hold-out's accuracy, macro F1, expected calibration error and
accuracy above the high-confidence threshold from the evaluation report, the
training time, and the part of it the evaluation took, with MLflow's
classifier evaluator on and off. Then `tune` with the configured estimator:
its best configuration and the gain in CV accuracy over the configuration it
started from.

    uv run python benchmarks/model_choice.py [--trials 20] [--budget-seconds 600]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

# Every store this benchmark writes is a throwaway one, set before the package reads settings.
WORK = Path(tempfile.mkdtemp(prefix="model-choice-"))
PREFIX = "SENTIMENT_PIPELINE_"
os.environ.update(
    {
        "MLFLOW_TRACKING_URI": f"sqlite:///{WORK / 'mlflow.db'}",
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
        f"{PREFIX}DATA_SOURCE": "demo",
        f"{PREFIX}TRAIN_ON_FEEDBACK": "false",
        f"{PREFIX}TUNED_SETTINGS_FILE": str(WORK / "tuned.toml"),
        f"{PREFIX}MODEL_CACHE_DIR": "",
    }
)

from sentiment_pipeline.model.estimators import ESTIMATORS  # noqa: E402
from sentiment_pipeline.settings import load_settings  # noqa: E402
from sentiment_pipeline.steps.training import run_training  # noqa: E402
from sentiment_pipeline.steps.tuning import tune  # noqa: E402
from sentiment_pipeline.tracking.client import connect  # noqa: E402


def train(name: str, mlflow_evaluator: bool) -> dict:
    """The first model of a fresh store and data directory: nothing else to compare with."""
    place = WORK / f"{name}-{mlflow_evaluator}"
    settings = load_settings(
        estimator=name,
        mlflow_evaluator=mlflow_evaluator,
        tracking_uri=f"sqlite:///{place / 'mlflow.db'}",
        data_dir=place / "data",
        artifact_root=place / "mlartifacts",
    )
    started = time.perf_counter()
    result = run_training(settings, "2026-01-01")
    seconds = time.perf_counter() - started
    metrics = connect(settings).get_run(result["run_id"]).data.metrics
    return {
        "accuracy": metrics["holdout_accuracy"],
        "macro_f1": metrics["holdout_macro_f1"],
        "ece": metrics["holdout_expected_calibration_error"],
        "high_confidence_accuracy": metrics.get("holdout_high_confidence_accuracy"),
        "high_confidence_share": metrics["holdout_high_confidence_share"],
        "train_seconds": seconds,
        "evaluation_seconds": metrics["evaluation_seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--budget-seconds", type=float, default=600)
    args = parser.parse_args()
    print(
        "estimator            accuracy  macro F1  ECE     acc>=high  share>=high  "
        "train s  eval s  eval s without MLflow's evaluator"
    )
    for name in ESTIMATORS:
        on, without = train(name, True), train(name, False)
        print(
            f"{name:<20} {on['accuracy']:.4f}    {on['macro_f1']:.4f}    "
            f"{on['ece']:.4f}  {on['high_confidence_accuracy']:.4f}     "
            f"{on['high_confidence_share']:.3f}        "
            f"{on['train_seconds']:5.1f}    {on['evaluation_seconds']:4.2f}    "
            f"{without['evaluation_seconds']:4.2f} (train {without['train_seconds']:.1f} s)",
            flush=True,
        )
    started = time.perf_counter()
    # Each training above pointed MLflow at its own store: name the benchmark's again.
    settings = load_settings(tracking_uri=f"sqlite:///{WORK / 'mlflow.db'}")
    tuned = tune(settings, trials=args.trials, budget_seconds=args.budget_seconds)
    summary = {key: value for key, value in tuned.items() if key != "trials"}
    summary["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
