"""Benchmark, not a test: does asking for the uncertain rows' labels pay, and what share should be random?

Replays a labelled dataset day by day with the project's own code. Each seed
shuffles the rows into a fixed hold-out (a fifth), a labelled start and
``--days`` daily batches of the rest. Each day the current model scores the
batch (`model/scoring.py`), `select_requests` (`steps/label_requests.py`)
asks for ``--budget`` labels, a ``label_random_share`` of them at random and
the rest by smallest margin, the labels arrive, and the model is trained again
(`model/pipeline.py`, the configured estimator) on the start and every label
that share asked for. Every share has the same budget, so their hold-out
accuracies after each day compare like for like: 1.0 is random sampling
alone, 0.0 uncertainty alone. Two starts: a few labels (a new project) and
many (a trained model that the daily labels improve).

It also checks what monitoring concludes each day: the accuracy of the day's
model on its whole batch (what monitoring wants to know), on the random
requests (its unbiased estimate, `monitoring/live_accuracy.py`) and on every
requested label (the biased one).

Datasets: the project's bundled sample reviews, and the Sentiment Labelled
Sentences of amazon, imdb and yelp in benchmarks/data/ (see its README).

    uv run python benchmarks/label_strategies.py [--days 5] [--budget 40] [--seeds 20]
"""

from __future__ import annotations

import argparse
import functools
import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sentiment_pipeline.data.schema import ID, LABEL, MARGIN, TEXT, bundled_dataset_path
from sentiment_pipeline.model.pipeline import build_pipeline, fit
from sentiment_pipeline.model.scoring import available_cores, score_chunk, texts_input
from sentiment_pipeline.monitoring.live_accuracy import wilson_interval
from sentiment_pipeline.settings import ModelSettings, load_settings
from sentiment_pipeline.steps.label_requests import RANDOM, REASON, select_requests

DATASETS = {
    "bundled sample reviews": bundled_dataset_path(),
    "Sentiment Labelled Sentences (amazon, imdb, yelp)": (
        Path(__file__).resolve().parent / "data" / "sentiment_labelled_sentences.csv"
    ),
}
HOLDOUT_SHARE = 0.2
FIRST_DAY = date(2026, 1, 1)
RANDOM_ONLY = 1.0
# The accuracy at which the interval of one day's random labels is shown.
TYPICAL_ACCURACY = 0.85


@dataclass(frozen=True)
class Replay:
    path: Path
    start_rows: int
    days: int
    budget: int
    shares: tuple[float, ...]


@dataclass
class Curve:
    """One share's replay of one seed: hold-out accuracy after each day, and monitoring's view."""

    accuracy: list[float]
    batch_accuracy: list[float] = field(default_factory=list)  # the day's model on its whole batch
    random_correct: list[int] = field(default_factory=list)  # ... on the day's random requests
    random_rows: list[int] = field(default_factory=list)
    requested_correct: list[int] = field(default_factory=list)  # ... on every request
    requested_rows: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class SeedRun:
    curves: dict[float, Curve]
    all_labels_accuracy: float  # trained on every row but the hold-out
    batch_rows: int


@functools.cache
def read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, usecols=[TEXT, LABEL], dtype="string")
    return frame.assign(**{ID: [f"row-{position}" for position in range(len(frame))]})


@functools.cache
def model_settings() -> ModelSettings:
    return load_settings().model


def train(rows: pd.DataFrame) -> Any:
    texts = texts_input(rows[TEXT].to_numpy(dtype=object))
    return fit(build_pipeline(model_settings()), texts, rows[LABEL])


def score(model: Any, rows: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Which rows the model labels right, and the scored rows as `select_requests` reads them."""
    # No row sampled for the unknown-token share: nothing here reads it.
    scores = score_chunk(model, rows[[TEXT]], np.zeros(len(rows), dtype=bool))
    predicted = np.asarray(model.classes_)[scores.best]
    scored = rows[[ID, TEXT]].assign(
        prediction=predicted, confidence=scores.confidence, **{MARGIN: scores.margin}
    )
    return predicted == rows[LABEL].to_numpy(dtype=str), scored


def accuracy(model: Any, rows: pd.DataFrame) -> float:
    return float(score(model, rows)[0].mean())


def replay_share(
    replay: Replay,
    seed: int,
    share: float,
    start: pd.DataFrame,
    start_model: Any,
    holdout: pd.DataFrame,
    batches: list[pd.DataFrame],
) -> Curve:
    """One share's days: score the batch, request, learn the labels, train again, test."""
    curve = Curve(accuracy=[accuracy(start_model, holdout)])
    labelled, model = start, start_model
    for day, batch in enumerate(batches):
        right, scored = score(model, batch)
        requests = select_requests([scored], FIRST_DAY + timedelta(days=day), replay.budget, share, seed)
        asked = batch[ID].isin(requests[ID]).to_numpy()
        drawn = batch[ID].isin(requests.loc[requests[REASON] == RANDOM, ID]).to_numpy()
        curve.batch_accuracy.append(float(right.mean()))
        curve.random_correct.append(int(right[drawn].sum()))
        curve.random_rows.append(int(drawn.sum()))
        curve.requested_correct.append(int(right[asked].sum()))
        curve.requested_rows.append(int(asked.sum()))
        labelled = pd.concat([labelled, batch[asked]])
        model = train(labelled)
        curve.accuracy.append(accuracy(model, holdout))
    return curve


def replay_seed(replay: Replay, seed: int) -> SeedRun:
    """Every share's replay of one shuffle of the data (the same hold-out, start and batches)."""
    data = read(replay.path)
    order = np.random.default_rng(seed).permutation(len(data))
    holdout_rows = round(len(data) * HOLDOUT_SHARE)
    holdout = data.iloc[order[:holdout_rows]]
    start = data.iloc[order[holdout_rows : holdout_rows + replay.start_rows]]
    if start[LABEL].nunique() < data[LABEL].nunique():
        raise SystemExit(f"seed {seed}: the labelled start lacks a label; raise --start-rows.")
    batches = [
        data.iloc[rows] for rows in np.array_split(order[holdout_rows + replay.start_rows :], replay.days)
    ]
    if len(batches[-1]) < replay.budget:
        raise SystemExit(f"batches of {len(batches[-1])} rows cannot give {replay.budget} labels a day.")
    start_model = train(start)
    curves = {
        share: replay_share(replay, seed, share, start, start_model, holdout, batches)
        for share in replay.shares
    }
    everything = train(data.drop(index=holdout.index))
    return SeedRun(curves, accuracy(everything, holdout), len(batches[0]))


def label(share: float) -> str:
    return {0.0: "0.0 (uncertain only)", RANDOM_ONLY: "1.0 (random only)"}.get(share, f"{share:g}")


def mean_interval(values: np.ndarray) -> tuple[float, float, float]:
    """The mean and a normal 95 % interval of it (paired differences across seeds)."""
    mean = float(values.mean())
    half = 1.96 * float(values.std(ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return mean, mean - half, mean + half


def report(name: str, replay: Replay, runs: list[SeedRun], min_rows: int) -> None:
    shares = replay.shares
    curves = {share: [run.curves[share] for run in runs] for share in shares}
    holdout = {share: np.array([curve.accuracy for curve in curves[share]]) for share in shares}
    seeds = len(runs)
    print(
        f"\n## {name}: {replay.start_rows} labelled to start\n\n"
        f"{len(read(replay.path)):,} rows: a fifth held out, {replay.start_rows} labelled to start, "
        f"{replay.days} days of {runs[0].batch_rows} rows, {replay.budget} labels a day; {seeds} seeds.\n"
        "Hold-out accuracy after each day, mean (std over seeds):\n"
    )
    print("| day | labelled | " + " | ".join(f"share {label(share)}" for share in shares) + " |")
    print("|" + " --- |" * (2 + len(shares)))
    for day in range(replay.days + 1):
        cells = [f"{values[:, day].mean():.3f} ({values[:, day].std():.3f})" for values in holdout.values()]
        print(f"| {day} | {replay.start_rows + day * replay.budget} | " + " | ".join(cells) + " |")
    every_row = np.mean([run.all_labels_accuracy for run in runs])
    print(
        f"\nEvery row but the hold-out labelled: {every_row:.3f}. Against random only, paired by "
        "seed: mean difference [95 % interval], seeds ahead:\n"
    )
    print("| share | last day | mean over days 1 to last |")
    print("| --- | --- | --- |")
    baseline = holdout[RANDOM_ONLY]
    for share in shares:
        if share == RANDOM_ONLY:
            continue
        last = holdout[share][:, -1] - baseline[:, -1]
        area = holdout[share][:, 1:].mean(axis=1) - baseline[:, 1:].mean(axis=1)
        cells = []
        for difference in (last, area):
            mean, low, high = mean_interval(difference)
            cells.append(f"{mean:+.3f} [{low:+.3f}, {high:+.3f}], {int((difference > 0).sum())}/{seeds}")
        print(f"| {label(share)} | " + " | ".join(cells) + " |")
    print(
        "\nWhat monitoring sees, every day of every seed pooled: the day's model on its whole batch "
        "(the truth), on the random requests (unbiased), on every request (biased), and how often "
        f"the 95 % interval of a day's random requests held the truth (days with {min_rows} of them):\n"
    )
    print(
        "| share | batch accuracy | random requests | every request | random labels a day | interval held |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for share in shares:
        days = [day for curve in curves[share] for day in monitoring_days(curve)]
        truth = np.mean([day[0] for day in days])
        drawn, hits = sum(day[2] for day in days), sum(day[1] for day in days)
        asked, asked_hits = sum(day[4] for day in days), sum(day[3] for day in days)
        unbiased = f"{hits / drawn:.3f}" if drawn else "none"
        print(
            f"| {label(share)} | {truth:.3f} | {unbiased} | {asked_hits / asked:.3f} "
            f"| {drawn / len(days):g} | {interval_coverage(days, min_rows)} |"
        )


def monitoring_days(curve: Curve):
    """(batch accuracy, random right, random rows, requested right, requested rows) of each day."""
    return zip(
        curve.batch_accuracy,
        curve.random_correct,
        curve.random_rows,
        curve.requested_correct,
        curve.requested_rows,
        strict=True,
    )


def interval_coverage(days: list[tuple], min_rows: int) -> str:
    """How often monitoring's interval from the random requests held the day's batch accuracy."""
    judged = [(truth, wilson_interval(hits, rows)) for truth, hits, rows, *_ in days if rows >= min_rows]
    held = sum(low <= truth <= high for truth, (low, high) in judged)
    return f"{held}/{len(judged)}" if judged else "no day"


def monitoring_at_defaults(shares: tuple[float, ...]) -> None:
    """How wide one day's unbiased interval is at the project's default request count."""
    data = load_settings().data
    print(
        "\n## One day's unbiased accuracy at the project's defaults\n\n"
        f"label_requests_per_day = {data.label_requests_per_day}, min_labeled_rows = "
        f"{data.min_labeled_rows}; Wilson 95 % interval at an accuracy of {TYPICAL_ACCURACY}:\n"
    )
    print("| share | random labels a day | interval |")
    print("| --- | --- | --- |")
    for share in shares:
        drawn = round(data.label_requests_per_day * share)
        if drawn < data.min_labeled_rows:
            interval = f"none (fewer than {data.min_labeled_rows})"
        else:
            low, high = wilson_interval(round(drawn * TYPICAL_ACCURACY), drawn)
            interval = f"{low:.3f} to {high:.3f} (width {high - low:.3f})"
        print(f"| {label(share)} | {drawn} | {interval} |")


def numbers(text: str, kind: type) -> list:
    return [kind(value) for value in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--start-rows", default="100,1000", help="labelled rows before day 1, one replay each"
    )
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--budget", type=int, default=40, help="labels asked for each day")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument(
        "--shares", default="0,0.2,0.3,0.5", help="label_random_share values besides 1 (random only)"
    )
    args = parser.parse_args()
    shares = tuple(sorted({*numbers(args.shares, float), RANDOM_ONLY}))
    started = time.perf_counter()
    print(f"estimator: {model_settings().estimator} (the project's configured model)")
    # Seeds run side by side: each fits its own models, one core each.
    with ProcessPoolExecutor(available_cores()) as pool:
        for name, path in DATASETS.items():
            for start_rows in numbers(args.start_rows, int):
                replay = Replay(path, start_rows, args.days, args.budget, shares)
                runs = list(pool.map(replay_seed, [replay] * args.seeds, range(args.seeds)))
                report(name, replay, runs, load_settings().data.min_labeled_rows)
    monitoring_at_defaults(shares)
    print(f"\n{time.perf_counter() - started:.0f} s on {available_cores()} cores")


if __name__ == "__main__":
    main()
