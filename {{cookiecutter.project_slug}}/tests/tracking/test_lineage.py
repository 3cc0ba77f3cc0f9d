from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.steps import inference
from {{ cookiecutter.package_name }}.tracking.lineage import dataset_source, trace_predictions
from tests.conftest import invented_day

DAY = "2026-05-20"


def test_lineage_leads_from_predictions_to_training_data(session_settings, champion):
    invented_day(session_settings, DAY, 25)
    predicted = inference.batch_predict(session_settings, DAY)

    trace = trace_predictions(session_settings, DAY)

    assert trace["rows"] == 25
    assert trace["inference_run_id"] == predicted["run_id"]
    [model] = trace["models"]
    assert model["model_version"] == champion["model_version"]
    assert model["training_run_id"] == champion["run_id"]
    [dataset] = model["training_datasets"]
    assert model["tags"]["training_data_digest"] == dataset["digest"]


def test_lineage_of_a_day_without_predictions(session_settings):
    with pytest.raises(PipelineError, match="no predictions"):
        trace_predictions(session_settings, "1999-01-01")


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("/srv/reviews/training.csv", "local"),
        ("s3://reviews/incoming/ds=2026-05-20", "s3"),
        ("gs://reviews/training/*.csv", "gs"),
        # A filesystem MLflow has no source type for: still files, never a table.
        ("memory://reviews/incoming/ds=2026-05-20", "files"),
{%- if cookiecutter.data_source == "warehouse" %}
        ("sqlite:///warehouse.db#review_batches", "sql_table"),
        ("postgresql+psycopg://etl:***@db/reviews#training_reviews", "sql_table"),
{%- endif %}
    ],
)
def test_a_location_is_recorded_as_the_kind_of_place_it_is(location, kind):
    source = dataset_source(location)
    assert source._get_source_type() == kind
    assert location in str(source.to_dict().values())
