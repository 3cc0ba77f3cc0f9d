"""The labelling queue's choice: least confident rows and a seeded random sample, in chunks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.steps.label_requests import select_requests

DAY = "2026-05-04"


def scored(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    margin = rng.random(rows)
    return pd.DataFrame(
        {
            "id": [f"r{index}" for index in range(rows)],
            "text": [f"review {index}" for index in range(rows)],
            "prediction": rng.choice(["negative", "positive"], rows),
            "confidence": (1 + margin) / 2,
            "margin": margin,
        }
    )


def chunks(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[start : start + size] for start in range(0, len(frame), size)]


def test_requests_are_the_least_confident_rows_and_a_uniform_sample():
    batch = scored(1000)
    requests = select_requests(chunks(batch, 128), DAY, 50, 0.2, seed=42)

    assert list(requests.columns) == ["ds", "id", "text", "prediction", "confidence", "reason"]
    assert len(requests) == 50 and requests["id"].is_unique
    assert (requests["ds"] == DAY).all()
    assert requests["reason"].value_counts().to_dict() == {"uncertain": 40, "random": 10}
    # Uncertain: the smallest margins of the rows the sample left.
    drawn = set(requests.loc[requests["reason"] == "random", "id"])
    rest = batch[~batch["id"].isin(drawn)].nsmallest(40, "margin")
    assert set(requests.loc[requests["reason"] == "uncertain", "id"]) == set(rest["id"])
    # Each row carries its text and the model's label and confidence.
    merged = requests.merge(batch, on="id", suffixes=("", "_scored"))
    assert (merged["text"] == merged["text_scored"]).all()
    assert (merged["confidence"] == merged["confidence_scored"]).all()


def test_the_same_date_gives_the_same_requests_however_the_batch_is_cut():
    batch = scored(1000)
    one = select_requests([batch], DAY, 30, 0.5, seed=42)
    many = select_requests(chunks(batch, 7), DAY, 30, 0.5, seed=42)
    pd.testing.assert_frame_equal(one, many)
    other_day = select_requests([batch], "2026-05-05", 30, 0.5, seed=42)
    drawn = one["reason"] == "random"
    assert set(one.loc[drawn, "id"]) != set(other_day.loc[other_day["reason"] == "random", "id"])


def test_the_random_sample_is_uniform_over_the_batch():
    # Over many dates every decile of margin is drawn about as often.
    batch = scored(1000)
    decile = pd.qcut(batch["margin"], 10, labels=False).set_axis(batch["id"])
    drawn = pd.concat(
        select_requests([batch], f"2026-01-{day:02d}", 100, 1.0, seed=42)["id"]
        for day in range(1, 31)
    )
    shares = decile[drawn].value_counts(normalize=True)
    assert shares.between(0.07, 0.13).all(), shares


def test_a_row_both_parts_pick_is_random_and_the_next_uncertain_takes_its_place():
    # Ten rows, ten requests: every sampled row is among the ten least confident too.
    batch = scored(10)
    requests = select_requests([batch], DAY, 10, 0.5, seed=42)
    assert sorted(requests["id"]) == sorted(batch["id"])
    assert requests["reason"].value_counts().to_dict() == {"uncertain": 5, "random": 5}


def test_a_small_batch_is_requested_whole_and_zero_requests_none():
    batch = scored(6)
    requests = select_requests([batch], DAY, 100, 0.2, seed=42)
    assert sorted(requests["id"]) == sorted(batch["id"])
    assert requests["reason"].value_counts().to_dict() == {"random": 6}
    assert select_requests([batch], DAY, 0, 0.2, seed=42).empty
    assert (select_requests([batch], DAY, 4, 0.0, seed=42)["reason"] == "uncertain").all()
