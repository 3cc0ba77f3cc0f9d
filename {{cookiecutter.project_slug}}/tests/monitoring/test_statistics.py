"""Batch statistics: counts that add up across chunks and shards, and drift against a profile."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.monitoring.statistics import (
    BatchStats,
    batch_drift,
    confidence_histogram,
    population_stability_index,
)

CLASSES = ["negative", "positive"]


def counted(*chunks) -> BatchStats:
    stats = BatchStats(CLASSES, low_threshold=0.6, high_threshold=0.8)
    for best, confidence in chunks:
        stats.add(np.array(best), np.array(confidence), 3, 4)
    return stats


def test_summary_metrics_count_confidence_bands():
    stats = counted(([1, 0], [0.55, 0.7]), ([1, 1], [0.9, 0.8]))
    metrics = stats.metrics()
    assert metrics["low_confidence_predictions"] == 1
    assert metrics["high_confidence_predictions"] == 2
    assert metrics["low_confidence_percentage"] == 25.0
    assert metrics["predictions_positive"] == 3
    assert metrics["predictions_negative_percentage"] == 25.0
    assert metrics["average_confidence"] == pytest.approx(0.7375)
    assert stats.oov_rate == pytest.approx(0.25)


def test_stats_counted_apart_merge_into_the_stats_counted_together():
    parts = [([1, 0], [0.55, 0.7]), ([1, 1], [0.9, 0.8]), ([0], [0.99])]
    together = counted(*parts)
    merged = counted(parts[0]).merge(counted(parts[1])).merge(counted(parts[2]))
    assert merged.metrics() == together.metrics()
    assert merged.confidence_histogram() == together.confidence_histogram()
    assert (merged.oov_known, merged.oov_total) == (together.oov_known, together.oov_total)


def test_shards_in_any_order_of_addition_give_the_one_pass_figures_to_the_last_bit():
    # Sums of these floats depend on their order; the exact sums do not.
    rng = np.random.default_rng(7)
    confidence = rng.uniform(0.5, 1.0, 10_000)
    best = rng.integers(0, 2, 10_000)
    whole = counted((best, confidence))
    for cuts in ([3_333, 6_666], [1, 17, 9_999], list(range(500, 10_000, 500))):
        bounds = [0, *cuts, len(confidence)]
        shards = [
            counted((best[start:stop], confidence[start:stop]))
            for start, stop in itertools.pairwise(bounds)
        ]
        merged = shards[0]
        for shard in shards[1:]:
            merged = merged.merge(shard)
        assert merged.metrics() == whole.metrics()
    assert whole.average_confidence == float(sum(map(Fraction, confidence.tolist())) / 10_000)


def test_stats_survive_the_shard_file_round_trip():
    stats = counted(([1, 0], [0.55, 0.7]), ([1, 1], [0.9, 0.8]))
    again = BatchStats.from_dict(json.loads(json.dumps(stats.to_dict())))
    assert again.metrics() == stats.metrics()
    assert again.confidence_histogram() == stats.confidence_histogram()
    assert again.merge(stats).metrics() == stats.merge(stats).metrics()


def test_stats_with_other_thresholds_do_not_merge():
    other = BatchStats(CLASSES, low_threshold=0.5, high_threshold=0.8)
    with pytest.raises(ValueError, match="thresholds"):
        counted(([1], [0.9])).merge(other)


def test_psi_is_zero_for_the_same_distribution_and_grows_with_the_shift():
    reference = confidence_histogram(np.array([0.95, 0.9, 0.85, 0.99]))
    assert population_stability_index(reference, reference) == pytest.approx(0.0)
    shifted = confidence_histogram(np.array([0.55, 0.6, 0.62, 0.58]))
    assert population_stability_index(reference, shifted) > 0.25


def test_drift_of_a_batch_against_its_reference_profile():
    stats = counted(([1, 1, 1, 1], [0.55, 0.6, 0.62, 0.58]))
    profile = {
        "average_confidence": 0.9,
        "confidence_histogram": confidence_histogram(np.array([0.95, 0.9, 0.85, 0.99])),
        "oov_rate": 0.1,
        "predicted_class_shares": {"negative": 0.5, "positive": 0.5},
    }
    drift = batch_drift(profile, stats)
    assert drift["confidence_shift"] == pytest.approx(0.5875 - 0.9)
    assert drift["class_share_shift"] == pytest.approx(0.5)
    assert drift["oov_rate_increase"] == pytest.approx(0.25 - 0.1)
    assert drift["confidence_psi"] > 0.25
