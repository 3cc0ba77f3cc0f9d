"""The scikit-learn version recorded with a model is checked when it is loaded."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import mlflow.sklearn
import pytest
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }}.errors import ModelEnvironmentError
from {{ cookiecutter.package_name }}.steps.training import run_training
from {{ cookiecutter.package_name }}.tracking import registry
from {{ cookiecutter.package_name }}.tracking.client import connect, ensure_experiment


def recorded_requirements(settings, version) -> Path:
    client = connect(settings)
    model_version = client.get_model_version(settings.model.registered_model_name, version)
    # MLflow 3 registers a logged model: its source is models:/<model id>.
    logged = client.get_logged_model(model_version.source.removeprefix("models:/"))
    return Path(urlparse(logged.artifact_location).path) / "requirements.txt"


def test_the_model_records_its_scikit_learn_version(session_settings, champion):
    text = recorded_requirements(session_settings, champion["model_version"]).read_text()
    assert f"scikit-learn=={sklearn.__version__}" in text


def test_a_minor_version_mismatch_is_refused_or_warned(isolated_store, caplog):
    # Without the host's model cache: training cached this version after it
    # passed the check, and the requirements are edited only afterwards.
    # A small model of the test's own: its recorded requirements get edited.
    isolated_store = isolated_store.with_overrides(
        model_cache_dir="", max_features=200, ngram_max=1, min_accuracy=0.5
    )
    result = run_training(isolated_store, "2026-03-20")
    requirements = recorded_requirements(isolated_store, result["model_version"])
    requirements.write_text(
        requirements.read_text().replace(
            f"scikit-learn=={sklearn.__version__}", "scikit-learn==1.0.2"
        )
    )

    with pytest.raises(ModelEnvironmentError) as error:
        registry.load_champion(isolated_store)
    assert "1.0.2" in str(error.value)
    assert sklearn.__version__ in str(error.value)

    lenient = isolated_store.with_overrides(sklearn_version_policy="warn")
    with caplog.at_level(logging.WARNING):
        champion = registry.load_champion(lenient)
    assert champion.version == result["model_version"]
    assert "1.0.2" in caplog.text


class Shouting(BaseEstimator, TransformerMixin):
    """A type that nothing in the project trusts."""

    def fit(self, texts, labels=None):
        return self

    def transform(self, texts):
        return [text.upper() for text in texts]


def test_a_version_that_trusts_types_of_its_own_is_refused(isolated_store):
    """A model's MLmodel cannot widen what loading trusts: only model/estimators.py does."""
    pipeline = Pipeline(
        [("shout", Shouting()), ("tfidf", TfidfVectorizer()), ("classifier", LogisticRegression())]
    ).fit(["good", "great", "bad", "awful"], ["positive", "positive", "negative", "negative"])
    name = isolated_store.model.registered_model_name
    client = connect(isolated_store)
    experiment = ensure_experiment(client, isolated_store, "crafted")
    with mlflow.start_run(experiment_id=experiment):
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            serialization_format="skops",
            skops_trusted_types=[f"{__name__}.Shouting"],
            registered_model_name=name,
        )
    client.set_registered_model_alias(name, "champion", info.registered_model_version)

    with pytest.raises(ModelEnvironmentError, match="Shouting"):
        registry.load_champion(isolated_store.with_overrides(model_cache_dir=""))


# A whole interpreter importing Airflow and skops (5 s): with the scenarios, outside the inner loop.
@pytest.mark.scenario
def test_loading_a_model_in_an_airflow_task_logs_no_airflow_deprecations():
    """skops' first import looks up every module's attributes: not Airflow's deprecated ones."""
    code = (
        "import warnings; warnings.simplefilter('always')\n"
        "import airflow.sdk, airflow.utils.timezone\n"
        "from {{ cookiecutter.package_name }}.tracking.registry import import_skops\n"
        "import_skops()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "is deprecated" not in done.stderr, done.stderr[:500]
