"""Every bad input is one line and an exit code, and the champion never moves.

Exit codes: 2 when the input was wrong, 3 when the gate refused the model,
1 when the pipeline failed. The broken files are built here, in the test.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.data.readers import read_table
from {{ cookiecutter.package_name }}.data.schema import bundled_dataset_path
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect


def sample() -> pd.DataFrame:
    return read_table(bundled_dataset_path())


def inverted() -> pd.DataFrame:
    frame = sample()
    swap = {"positive": "negative", "negative": "positive"}
    return frame.assign(sentiment=frame["sentiment"].map(swap))


def shuffled() -> pd.DataFrame:
    frame = sample()
    labels = np.random.default_rng(7).permutation(frame["sentiment"].to_numpy())
    return frame.assign(sentiment=labels)


def one_negative() -> pd.DataFrame:
    frame = sample()
    positives = frame[frame["sentiment"] == "positive"].head(150)
    return pd.concat([positives, frame[frame["sentiment"] == "negative"].head(1)])


def numbers() -> pd.DataFrame:
    return pd.DataFrame({"text": range(200), "sentiment": [0, 1] * 100})


# name, how to write it (bytes, or a frame written by its suffix), exit code, first line
TRAINING_FILES = [
    ("latin1.csv", "text,sentiment\ncaf\xe9 au lait,positive\n".encode("latin-1"), 2,
     r"cannot read .*latin1\.csv as csv: .*utf-8"),
    ("quoting.csv", b'text,sentiment\n"never closed,positive\nok,negative\n', 2,
     r"cannot read .*quoting\.csv as csv"),
    ("corrupt.parquet", b"PAR1 this is not a parquet file", 2,
     r"cannot read .*corrupt\.parquet as parquet"),
    ("header-only.csv", b"text,sentiment\n", 2, r".*header-only\.csv has no rows"),
    ("no-label.csv", b"text\nlovely\n", 2, r".*no-label\.csv: training data lacks column"),
    ("reviews.txt", b"text,sentiment\nfine,positive\n", 2, r".*reviews\.txt is not \.csv"),
    ("one-negative.csv", one_negative, 2, r".*one-negative\.csv: the label 'negative' has only 1"),
    ("numbers.parquet", numbers, 2, r".*numbers\.parquet: only 0 usable training rows"),
    ("inverted.csv", inverted, 3, r"the new labels disagree with the reference set"),
    ("shuffled.csv", shuffled, 3, r"the new labels disagree with the reference set"),
]  # fmt: skip


@pytest.fixture(autouse=True)
def quiet_stale_log_handlers(monkeypatch):
    # A handler an earlier test bound to its own captured stderr would print
    # "--- Logging error ---" into this test's stderr; real runs have no such handler.
    monkeypatch.setattr(logging, "raiseExceptions", False)


def versions(settings) -> set[str]:
    name = settings.model.registered_model_name
    return {v.version for v in connect(settings).search_model_versions(f"name = '{name}'")}


def first_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err and "Traceback" not in err, err
    return err.splitlines()[0]


def write(path, content) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif path.suffix == ".parquet":
        content().to_parquet(path)
    else:
        content().to_csv(path, index=False)


UNREADABLE = [row for row in TRAINING_FILES if row[2] == 2]
CONTRADICTING = [row for row in TRAINING_FILES if row[2] == 3]


@pytest.mark.parametrize(
    ("name", "content", "code", "message"), UNREADABLE, ids=[row[0] for row in UNREADABLE]
)
def test_a_bad_training_file_is_one_line_and_never_reaches_the_registry(
    isolated_data, tmp_path, capsys, name, content, code, message
):
    path = tmp_path / name
    write(path, content)

    assert cli.main(["train", "--data", str(path)]) == code

    assert re.match(f"error: {message}", first_error_line(capsys))
    # isolated_data fails the test if the store was opened: nothing can have been registered.


@pytest.mark.parametrize(
    ("name", "content", "code", "message"), CONTRADICTING, ids=[row[0] for row in CONTRADICTING]
)
def test_contradicting_labels_are_one_line_and_never_move_the_champion(
    champion_store, tmp_path, capsys, name, content, code, message
):
    path = tmp_path / name
    write(path, content)
    client = connect(champion_store)
    champion = registry.champion_version(client, champion_store).version
    before = versions(champion_store)

    assert cli.main(["train", "--data", str(path)]) == code

    assert re.match(f"error: {message}", first_error_line(capsys))
    assert registry.champion_version(client, champion_store).version == champion
    assert versions(champion_store) == before  # refused before anything was registered


def exit_code(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as exit_:  # argparse refuses before any command runs
        return exit_.code


# Refused while parsing the arguments or the settings, or reading the file
# named: before any command opens the tracking store (isolated_data checks it).
REFUSED_BEFORE_THE_STORE = [
    (["train", "--data", "nowhere.csv"], {}, r"error: nowhere\.csv does not exist"),
    (["cleanup", "--date", "2026-01-06garbage"], {}, r".*--date: '2026-01-06garbage' is not"),
    (["cleanup", "--date", "20260106"], {}, r".*--date: '20260106' is not a date"),
    (["cleanup", "--retention-days", "0"], {}, r".*--retention-days: '0' is not a number"),
    (["cleanup", "--date", "2099-01-01"], {}, r"error: the cleanup date 2099-01-01 is in"),
    (["model", "promote", "abc", "--reason", "x"], {}, r".*'abc' is not a model version"),
    (["model", "promote", "1", "--reason", " "], {}, r".*--reason: the reason is empty"),
    (["model", "rollback", "--reason", ""], {}, r".*--reason: the reason is empty"),
    (["evaluate", "--version", "x"], {}, r".*--version: 'x' is not a model version"),
    (["evaluate", "--data", "missing.csv"], {}, r"error: missing\.csv does not exist"),
    (["tune", "--trials", "0"], {}, r".*--trials: '0' is not a whole number"),
    (["tune", "--budget-seconds", "-5"], {}, r".*--budget-seconds: '-5' is not a number"),
    (["tune", "--model", "forest"], {}, r".*--model: invalid choice: 'forest'"),
{%- if cookiecutter.serving == "http" %}
    (["serve", "--refresh-seconds", "0"], {}, r".*--refresh-seconds: '0' is not a refresh"),
{%- endif %}
    (["predict", "--output", "x.csv"], {}, r"error: --output goes with --input"),
    # Before the champion loads: no store is opened.
    (["predict", "--input", "missing.jsonl"], {}, r"error: missing\.jsonl does not exist"),
    (["train"], {"ESTIMATOR_PARAMS": "C"}, r"error: .*ESTIMATOR_PARAMS='C' is not valid"),
{%- if cookiecutter.data_source == "demo" %}
    (["train"], {"DRIFT_START": "2026-02-30"}, r"error: .*DRIFT_START='2026-02-30'"),
{%- endif %}
    (["train"], {"TRAIN_ON_FEEDBACK": "flase"}, r"error: .*TRAIN_ON_FEEDBACK='flase'"),
    (["monitor"], {"DRIFT_PSI_THRESHOLD": "nan"}, r"error: .*DRIFT_PSI_THRESHOLD=nan"),
    (["predict"], {"INFERENCE_WORKERS": "4000"}, r"error: .*INFERENCE_WORKERS=4000"),
{%- if cookiecutter.serving == "http" %}
    (["serve"], {"SERVE_INFLIGHT_BODY_MIB": "8"}, r"error: .*SERVE_INFLIGHT_BODY_MIB=8 is"),
{%- endif %}
]
# Refused by what the registry holds: these need the champion's store.
REFUSED_BY_THE_REGISTRY = [
    (["model", "promote", "999", "--reason", "x"], r"error: .* has no version 999"),
    (["evaluate", "--version", "999"], r"error: .* has no version 999"),
    (["evaluate", "--alias", "nobody"], r"error: no version of .* has the alias 'nobody'"),
]


def argv_id(value):
    return " ".join(value) if isinstance(value, list) else None


@pytest.mark.parametrize(("argv", "env", "message"), REFUSED_BEFORE_THE_STORE, ids=argv_id)
def test_a_bad_argument_or_setting_is_one_line_with_exit_code_2(
    isolated_data, monkeypatch, capsys, argv, env, message
):
    for name, value in env.items():
        monkeypatch.setenv(f"{ENV_PREFIX}{name}", value)

    assert exit_code(argv) == 2

    assert re.match(message, first_error_line(capsys))
    assert not isolated_data.data.data_dir.exists()  # nothing written


def test_estimator_params_the_estimator_does_not_take_are_one_line_with_exit_code_2(
    isolated_store, monkeypatch, capsys
):
    monkeypatch.setenv(f"{ENV_PREFIX}ESTIMATOR_PARAMS", "gamma=1")

    assert exit_code(["train"]) == 2

    assert re.match(r"error: estimator_params names gamma", first_error_line(capsys))
    assert versions(isolated_store) == set()


@pytest.mark.parametrize(
    ("argv", "message"),
    REFUSED_BY_THE_REGISTRY,
    ids=[argv_id(argv) for argv, _ in REFUSED_BY_THE_REGISTRY],
)
def test_a_version_or_file_the_registry_cannot_serve_is_one_line_and_moves_nothing(
    champion_store, capsys, argv, message
):
    client = connect(champion_store)
    champion = registry.champion_version(client, champion_store).version

    assert exit_code(argv) == 2

    assert re.match(message, first_error_line(capsys))
    assert registry.champion_version(client, champion_store).version == champion


def test_evaluate_on_a_bad_file_is_one_line_with_exit_code_2(isolated_data, tmp_path, capsys):
    path = tmp_path / "no-label.csv"
    path.write_text("text\nlovely\n")

    assert cli.main(["evaluate", "--data", str(path)]) == 2
    assert re.match(r"error: .*no-label\.csv: .*lacks column", first_error_line(capsys))


def test_an_unexpected_error_is_still_one_line(isolated_data, monkeypatch, capsys):
    from {{ cookiecutter.package_name }}.steps import summary

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(summary, "write_summary", broken)
    assert cli.main(["summarize"]) == 1
    assert first_error_line(capsys).startswith("error: unexpected KeyError: 'a bug' (set ")
