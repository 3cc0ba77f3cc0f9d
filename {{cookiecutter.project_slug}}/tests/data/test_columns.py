"""A team's own columns and label values, read as the pipeline's own; unknown labels never vanish.

The team here exports ``review_id``, ``review_body`` and ``star_rating`` (1 to
5), and ``label_map`` makes 1-2 stars the first label and 4-5 the last; a 3
is mapped to nothing. Every file and table is typed in the test.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
{%- if cookiecutter.data_source == "warehouse" %}
import sqlalchemy as sa
{%- endif %}

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.data import storage
{%- if cookiecutter.data_source != "warehouse" %}
from {{ cookiecutter.package_name }}.data.columns import Columns
{%- endif %}
from {{ cookiecutter.package_name }}.data.readers import read_table
from {{ cookiecutter.package_name }}.data.schema import bundled_dataset_path
{%- if cookiecutter.data_source == "warehouse" %}
from {{ cookiecutter.package_name }}.data.sources import source_for, training_source
{%- else %}
from {{ cookiecutter.package_name }}.data.sources import FeedbackFiles, source_for, training_source
{%- endif %}
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, PROJECT_SLUG, load_settings
from {{ cookiecutter.package_name }}.steps import training
from {{ cookiecutter.package_name }}.steps.publish import publish_predictions

DAY = "2026-04-02"
START, END = datetime(2026, 4, 2, tzinfo=UTC), datetime(2026, 4, 3, tzinfo=UTC)
# The suite's label set (tests/conftest.py pins it), whatever the project was generated with.
LOW, HIGH = load_settings().model.labels[0], load_settings().model.labels[-1]
STARS = {"1": LOW, "2": LOW, "4": HIGH, "5": HIGH}
SHAPE = {
    "text_column": "review_body",
    "label_column": "star_rating",
    "id_column": "review_id",
    "label_map": STARS,
}
{%- if cookiecutter.data_source == "warehouse" %}


@pytest.fixture
def team(isolated_data, tmp_path):
    """The team's settings: its own warehouse (no table yet), names and star ratings."""
    return isolated_data.with_overrides(warehouse_url=f"sqlite:///{tmp_path / 'team.db'}", **SHAPE)
{%- else %}


@pytest.fixture
def team(isolated_data):
    """The team's settings: its files as the source, its names and its star ratings."""
    return isolated_data.with_overrides(data_source="files", **SHAPE)
{%- endif %}


def star_reviews(stars: list[int]) -> pd.DataFrame:
    """The sample reviews, relabelled as stars: 1 or 2 for the first label, 4 or 5 for the last."""
    sample = read_table(bundled_dataset_path())
    rows = sample.iloc[: len(stars)]
    return pd.DataFrame(
        {
            "review_id": [f"r{i}" for i in range(len(stars))],
            "review_body": rows["text"].to_numpy(),
            "star_rating": stars,
        }
    )


def sample_stars(count: int) -> list[int]:
    """Stars that agree with the sample's labels."""
    labels = read_table(bundled_dataset_path())["sentiment"].iloc[:count]
    return [(1 + i % 2) if label == "negative" else (4 + i % 2) for i, label in enumerate(labels)]


def test_training_rows_come_from_the_team_s_columns_with_their_stars_mapped(team, tmp_path):
    path = tmp_path / "export.parquet"
    star_reviews([1, 2, 4, 5, 4]).to_parquet(path)  # an integer column, as exports have

    rows = training_source(team, path).read_training()

    assert list(rows.columns) == ["text", "sentiment"]
    assert list(rows["sentiment"]) == [LOW, LOW, HIGH, HIGH, HIGH]


def test_train_refuses_an_unmapped_star_in_one_line_naming_it_its_count_and_the_setting(
    team, tmp_path
):
    stars = sample_stars(300)
    stars[:7] = [3] * 7
    path = tmp_path / "export.csv"
    star_reviews(stars).to_csv(path, index=False)
    training.extract(team, DAY, training_path=path)

    with pytest.raises(DataValidationError) as raised:
        training.validate(team, DAY, source=str(path), refuse_unknown=True)

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: training data: 7 rows have a label that is not one of")
    assert "'3' (7)" in message and f"{ENV_PREFIX}LABEL_MAP=" in message
    partition = storage.partition_dir(team.data.data_dir, storage.TRAINING, DAY)
    assert not (partition / storage.TRAINING_VALID_FILE).exists()  # nothing to train on

    # Mapped, the same file trains: every row is used.
    mapped = team.with_overrides(label_map={**STARS, "3": HIGH})
    training.extract(mapped, DAY, training_path=path)
    assert training.validate(mapped, DAY, refuse_unknown=True)["rows"] == 300


def test_the_train_command_exits_2_with_the_unknown_labels(isolated_data, tmp_path, capsys):
    # The case: a third class the project does not know, in the default columns.
    sample = read_table(bundled_dataset_path()).iloc[:300]
    extra = sample.iloc[:40].assign(sentiment="unheard-of")
    path = tmp_path / "three-classes.csv"
    pd.concat([sample, extra]).to_csv(path, index=False)

    assert cli.main(["train", "--data", str(path)]) == 2

    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert re.match(
        r"error: .*three-classes\.csv: training data: 40 rows have a label that is not one "
        r"of .*: 'unheard-of' \(40\); map each value to a label with the label_map setting",
        err,
    )
    # isolated_data fails the test if the store was opened: nothing was registered.


# The command as a person runs it: about 5 s of CPU (it imports MLflow), so a scenario.
@pytest.mark.scenario
def test_train_as_a_process_refuses_unknown_labels_in_one_line(isolated_data, tmp_path):
    sample = read_table(bundled_dataset_path())
    path = tmp_path / "three-classes.csv"
    pd.concat([sample, sample.iloc[:600].assign(sentiment="unheard-of")]).to_csv(path, index=False)
    script = Path(sys.executable).with_name(PROJECT_SLUG)

    done = subprocess.run(
        [str(script), "train", "--data", str(path)], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "training data: 600 rows have a label that is not one of" in done.stderr
    assert "'unheard-of' (600)" in done.stderr and f"{ENV_PREFIX}LABEL_MAP=" in done.stderr


{%- if cookiecutter.data_source != "warehouse" %}


def test_a_label_file_s_unmapped_stars_are_skipped_with_one_warning(team, tmp_path, caplog):
    feedback = tmp_path / "feedback"
    feedback.mkdir()
    pd.DataFrame(
        {
            "review_id": ["a", "b", "c", "d", "e"],
            "star_rating": [1.0, 3.0, 5.0, 3.0, None],  # a float column, as a sparse export has
            "comment": ["", "", "", "", ""],
        }
    ).to_parquet(feedback / "late.parquet")

    with caplog.at_level(logging.WARNING):
        labels = FeedbackFiles(str(feedback), Columns.of(team)).read_labels()

    assert labels.sort_values("id").to_dict("records") == [
        {"id": "a", "sentiment": LOW},
        {"id": "c", "sentiment": HIGH},
    ]
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "late.parquet: skipped: 3 label rows" in warnings[0]
    assert "'3' (2), (empty) (1)" in warnings[0] and "label_map" in warnings[0]


def test_batches_are_read_from_the_team_s_columns_and_predictions_go_out_under_its_id(team):
    folder = Path(team.data.incoming_dir) / f"ds={DAY}"
    folder.mkdir(parents=True)
    pd.DataFrame(
        {"review_id": ["007", "x"], "review_body": ["Works", "Broke"], "text": ["?", "?"]}
    ).to_csv(folder / "a.csv", index=False)

    batch = pd.concat(list(source_for(team).read_batch(DAY, START, END)))

    assert batch.to_dict("records") == [
        {"id": "007", "text": "Works"},
        {"id": "x", "text": "Broke"},
    ]
    partition = storage.partition_dir(team.data.data_dir, storage.PREDICTIONS, DAY)
    scored = pd.DataFrame(
        {"id": ["007"], "prediction": [HIGH], "confidence": [0.9], "model_version": ["1"]}
    )
    storage.write_parquet(scored, partition / storage.part_name(storage.PART_PREFIX, 0))
    publish_predictions(team, DAY, run_id="r1")
    delivered = pd.read_parquet(
        Path(team.data.outgoing_dir) / f"ds={DAY}" / storage.PREDICTIONS_FILE
    )
    assert delivered.columns[0] == "review_id" and list(delivered["review_id"]) == ["007"]
{%- endif %}


def test_a_file_without_the_configured_column_names_the_setting(team, tmp_path):
    path = tmp_path / "export.csv"
    star_reviews([1, 5]).drop(columns="star_rating").to_csv(path, index=False)
    with pytest.raises(DataValidationError) as raised:
        training_source(team, path).read_training()
    assert str(raised.value).startswith(
        f"{path}: training data lacks column(s) star_rating: it needs 'review_body' "
        "(text_column) and 'star_rating' (label_column)"
    )


{%- if cookiecutter.data_source == "warehouse" %}


def test_warehouse_tables_in_the_team_s_columns(team, caplog):
    warehouse = team
    source = source_for(warehouse)
    source.init()
    engine = sa.create_engine(warehouse.data.warehouse_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO training_reviews (review_body, star_rating) VALUES (:t, :s)"),
            [{"t": "Superb", "s": "5"}, {"t": "Awful", "s": "1"}, {"t": "Fine", "s": "3"}],
        )
        connection.execute(
            sa.text(
                "INSERT INTO review_batches (review_id, review_body, created_at) "
                "VALUES (:i, :t, :at)"
            ),
            [{"i": "b1", "t": "Lovely", "at": datetime(2026, 4, 2, 9)}],
        )
        connection.execute(
            sa.text("INSERT INTO review_labels (review_id, star_rating) VALUES (:i, :s)"),
            [{"i": "b1", "s": "4"}, {"i": "b2", "s": "3"}, {"i": "b3", "s": "3.0"}],
        )

    assert source.read_training().to_dict("records") == [
        {"text": "Superb", "sentiment": HIGH},
        {"text": "Awful", "sentiment": LOW},
        {"text": "Fine", "sentiment": "3"},  # left for validation to refuse
    ]
    batch = pd.concat(list(source.read_batch(DAY, START, END)))
    assert batch.to_dict("records") == [{"id": "b1", "text": "Lovely"}]
    with caplog.at_level(logging.WARNING):
        assert source.read_labels().to_dict("records") == [{"id": "b1", "sentiment": HIGH}]
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1 and "skipped: 2 label rows" in warnings[0]
    assert "'3' (2)" in warnings[0] and "label_map" in warnings[0]
    query = (
        "SELECT review_id, review_body FROM review_batches "
        "WHERE created_at >= :start AND created_at < :end"
    )
    queried = source_for(warehouse.with_overrides(batch_query=query))
    assert pd.concat(list(queried.read_batch(DAY, START, END)))["id"].tolist() == ["b1"]

    renamed = source_for(warehouse.with_overrides(label_column="stars"))
    with pytest.raises(DataValidationError, match=r"^table review_labels has no column stars "):
        renamed.read_labels()

    # The predictions go out under the team's id column.
    partition = storage.partition_dir(warehouse.data.data_dir, storage.PREDICTIONS, DAY)
    scored = pd.DataFrame(
        {"id": ["b1"], "prediction": [HIGH], "confidence": [0.9], "model_version": ["1"]}
    )
    storage.write_parquet(scored, partition / storage.part_name(storage.PART_PREFIX, 0))
    publish_predictions(warehouse, DAY, run_id="r1")
    with engine.connect() as connection:
        delivered = pd.read_sql(sa.text("SELECT * FROM review_predictions"), connection)
    assert list(delivered["review_id"]) == ["b1"] and list(delivered["run_id"]) == ["r1"]
    engine.dispose()
{%- endif %}


def test_predict_input_scores_the_team_s_text_column_and_keeps_every_column_s_name(
    champion_store, tmp_path
):
    from {{ cookiecutter.package_name }}.steps.inference import predict_file

    settings = champion_store.with_overrides(text_column="review_body")
    path = tmp_path / "export.csv"
    pd.DataFrame(
        {"review_id": ["1", "2"], "review_body": ["Wonderful, works great", ""], "text": ["a", "b"]}
    ).to_csv(path, index=False)

    result = predict_file(settings, path)

    scored = pd.read_csv(result["output"], dtype=str)
    assert list(scored.columns)[:3] == ["review_id", "review_body", "text"]
    assert scored[["review_id", "text"]].to_dict("records") == [{"review_id": "1", "text": "a"}]
    rejects = pd.read_csv(result["rejects"], dtype=str, keep_default_na=False)
    assert set(rejects.columns) >= {"review_id", "review_body", "text", "reason"}
    assert list(rejects["text"]) == ["b"]
