"""Build, evaluate, log and register the classifier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import mlflow.data
import mlflow.sklearn
import numpy as np
import pandas as pd
import scipy
import sklearn
from mlflow.models import infer_signature
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from {{ cookiecutter.package_name }} import registry
from {{ cookiecutter.package_name }}.data import LABEL, TEXT, bundled_dataset_path, load_training_data
from {{ cookiecutter.package_name }}.settings import Settings

TEST_SIZE = 0.2
CV_FOLDS = 5
# MLflow saves scikit-learn models with skops, which refuses on load any type
# not on its safe list unless the model was logged with it as trusted.
SKOPS_TRUSTED_TYPES = [
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
]


def build_classifier(model: str, seed: int) -> Any:
    """The estimator behind the TF-IDF step; every choice has ``predict_proba``."""
    if model == "logistic_regression":
        return LogisticRegression(C=10.0, max_iter=2000, random_state=seed)
    if model == "linear_svc":
        # LinearSVC has no probabilities: calibrate its decision function.
        return CalibratedClassifierCV(LinearSVC(C=1.0, random_state=seed), cv=3, method="sigmoid")
    if model == "complement_nb":
        return ComplementNB(alpha=1.0)
    if model == "sgd":
        return SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=2000, random_state=seed)
    raise ValueError(f"model={model!r} is not valid: expected one of the template's model choices.")


def build_pipeline(settings: Settings) -> Pipeline:
    """TF-IDF on the ``text`` column, then the chosen classifier.

    English stop words are kept on purpose: the usual lists delete "not",
    "no" and "never", which carry much of a review's sentiment.
    """
    vectorizer = TfidfVectorizer(
        max_features=settings.max_features,
        ngram_range=(1, settings.ngram_max),
        sublinear_tf=True,
        strip_accents="unicode",
    )
    return Pipeline(
        [
            # Selecting the column by name lets the model take the same
            # DataFrame shape everywhere: training, batch inference, serving.
            ("features", ColumnTransformer([("tfidf", vectorizer, TEXT)])),
            ("classifier", build_classifier(settings.model, settings.random_seed)),
        ]
    )


def _requirements() -> list[str]:
    """Pin what unpickling the pipeline needs, not the whole project environment."""
    return [
        f"scikit-learn=={sklearn.__version__}",
        f"numpy=={np.__version__}",
        f"scipy=={scipy.__version__}",
        f"pandas=={pd.__version__}",
    ]


def train(
    settings: Settings, data_path: Path | str | None = None, *, tags: dict[str, str] | None = None
) -> dict:
    """Train on labeled data, log to MLflow, register, and promote if good enough.

    Returns the metrics, the registered version and whether it became champion.
    """
    source = Path(data_path) if data_path else bundled_dataset_path()
    data = load_training_data(source)
    features, labels = data.valid[[TEXT]], data.valid[LABEL]
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        labels,
        test_size=TEST_SIZE,
        stratify=labels,
        random_state=settings.random_seed,
    )
    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=settings.random_seed)
    cv_scores = cross_val_score(build_pipeline(settings), x_train, y_train, cv=folds)
    pipeline = build_pipeline(settings).fit(x_train, y_train)
    predicted = pipeline.predict(x_test)
    metrics = {
        "training_accuracy": accuracy_score(y_train, pipeline.predict(x_train)),
        "cv_mean_accuracy": float(np.mean(cv_scores)),
        "cv_std_accuracy": float(np.std(cv_scores)),
        "test_accuracy": accuracy_score(y_test, predicted),
        # Macro F1 weighs both classes equally whatever the class balance.
        "test_f1": f1_score(y_test, predicted, average="macro"),
        "rejected_rows": float(len(data.rejected)),
    }

    client = registry.connect(settings)
    experiment_id = registry.ensure_experiment(client, settings, settings.training_experiment)
    with mlflow.start_run(experiment_id=experiment_id, tags=tags or {}) as run:
        mlflow.log_params(
            {
                "model": settings.model,
                "max_features": settings.max_features,
                "ngram_max": settings.ngram_max,
                "test_size": TEST_SIZE,
                "cv_folds": CV_FOLDS,
                "random_seed": settings.random_seed,
                "train_rows": len(x_train),
                "test_rows": len(x_test),
            }
        )
        mlflow.log_metrics(metrics)
        mlflow.log_input(
            mlflow.data.from_pandas(data.valid, source=str(source), name=source.name),
            context="training",
        )
        model_info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(x_train.head(20), pipeline.predict(x_train.head(20))),
            input_example=x_train.head(3),
            pip_requirements=_requirements(),
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
            registered_model_name=settings.registered_model_name,
        )
        version = str(model_info.registered_model_version)
        promoted, reason = registry.promote_if_qualified(
            client, settings, version, metrics["test_accuracy"]
        )
        mlflow.set_tags({"model_version": version, "promoted": str(promoted).lower()})
    return {
        "run_id": run.info.run_id,
        "model_version": version,
        "promoted": promoted,
        "reason": reason,
        "metrics": metrics,
        "rows": len(data.valid),
        "rejected_rows": len(data.rejected),
    }
