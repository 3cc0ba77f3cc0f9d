"""The model registry: the champion alias, loading a version, promotion and rollback.

The registry is the hand-over between training and inference: inference loads
``models:/<name>@champion``, never a file path or "the latest version".
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import mlflow.artifacts
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.errors import (
    ChampionNotFoundError,
    ModelEnvironmentError,
    PipelineError,
    UsageError,
)
from {{ cookiecutter.package_name }}.model.estimators import every_skops_trusted_type
from {{ cookiecutter.package_name }}.redaction import redact
from {{ cookiecutter.package_name }}.settings import (
    CHALLENGER_ALIAS,
    CHAMPION_ALIAS,
    ENV_PREFIX,
    PROJECT_SLUG,
    Settings,
)
from {{ cookiecutter.package_name }}.tracking.client import connect
from {{ cookiecutter.package_name }}.tracking.pinned import PinnedVersion
from {{ cookiecutter.package_name }}.tracking.runs import PROFILE_ARTIFACT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    """The model behind the champion alias and where it came from."""

    model: Any
    version: str
    run_id: str | None


def champion_version(client: MlflowClient, settings: Settings) -> Any | None:
    """The model version carrying the champion alias, or None."""
    return alias_version(client, settings, CHAMPION_ALIAS)


def alias_version(client: MlflowClient, settings: Settings, alias: str) -> Any | None:
    """The model version carrying ``alias``, or None."""
    try:
        return client.get_model_version_by_alias(settings.model.registered_model_name, alias)
    except MlflowException as error:
        if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            return None
        raise


def model_version(client: MlflowClient, settings: Settings, version: str) -> Any:
    """A registered version of the project's model, or an error that says it does not exist."""
    name = settings.model.registered_model_name
    try:
        return client.get_model_version(name, version)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        raise UsageError(
            f"'{name}' has no version {version} in {redact(settings.platform.tracking_uri)}: "
            "pick one that the MLflow UI lists under Models."
        ) from None


def check_sklearn_version(settings: Settings, model_uri: str, requirements_file: Path) -> bool:
    """Whether the scikit-learn recorded with the model is the running one (major.minor).

    A mismatch raises ModelEnvironmentError, or with the "warn" policy logs and
    returns False.
    """
    import sklearn

    requirements = requirements_file.read_text() if requirements_file.is_file() else ""
    match = re.search(r"^scikit-learn==(\S+)", requirements, flags=re.MULTILINE)
    if match is None:
        return True
    recorded, running = match.group(1), sklearn.__version__
    if recorded.split(".")[:2] == running.split(".")[:2]:
        return True
    message = (
        f"{model_uri} was trained with scikit-learn {recorded} but this environment runs "
        f"scikit-learn {running}: install the locked environment (`uv sync --locked`) or retrain "
        f"(`{PROJECT_SLUG} train`); set {ENV_PREFIX}SKLEARN_VERSION_POLICY=warn to load it anyway."
    )
    if settings.model.sklearn_version_policy == "warn":
        log.warning(message)
        return False
    raise ModelEnvironmentError(message)


def load_version(settings: Settings, version: str) -> Any:
    """Load one registered version as a scikit-learn pipeline, after the version check."""
    client = connect(settings)
    return _load(settings, client.get_model_version(settings.model.registered_model_name, version))


def _load(settings: Settings, model_version: Any) -> Any:
    """The model of an MLflow ``ModelVersion``: from this host's cache, else the registry."""
    # Imported here, with scikit-learn: the MLflow sidecar of `predict --date` loads no model.
    from {{ cookiecutter.package_name }}.tracking import model_cache

    platform = settings.platform
    with model_cache.opened(
        platform.model_cache_dir, platform.tracking_uri, model_version.name
    ) as cache:
        model = cache.load(model_version) if cache is not None else None
        if model is not None:
            return model
        uri = f"models:/{model_version.name}/{model_version.version}"
        with tempfile.TemporaryDirectory(prefix="model-") as directory:
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=directory))
            matches = check_sklearn_version(settings, uri, local / "requirements.txt")
            model = load_skops_model(uri, local)
        # A model allowed in by the "warn" policy is not cached: its warning
        # must come again on every load.
        if cache is not None and matches:
            cache.store(model_version, model)
    return model


def load_skops_model(uri: str, local: Path) -> Any:
    """The pipeline of version ``uri``, downloaded to ``local``, loaded with the types we trust.

    ``mlflow.sklearn.load_model`` takes skops' trusted types from the model's
    own MLmodel file, so a crafted model could allow any type, and MLflow
    refuses it while MLFLOW_ALLOW_PICKLE_DESERIALIZATION is false. With our own
    list, every process of the project runs with that flag false.
    """
    from mlflow.models import Model
    from sklearn.pipeline import Pipeline

    import_skops()
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    refused = f"{uri} cannot be loaded safely"
    flavor = Model.load(local / "MLmodel").flavors.get("sklearn", {})
    saved = local / str(flavor.get("pickled_model", ""))
    if flavor.get("serialization_format") != "skops" or flavor.get("code"):
        raise ModelEnvironmentError(
            f"{refused}: it is not a scikit-learn model saved with skops and no code; "
            f"register it with `{PROJECT_SLUG} train`."
        )
    if saved.parent != local or not saved.is_file():
        raise ModelEnvironmentError(f"{refused}: its MLmodel names no model file beside it.")
    try:
        model = skops.io.load(saved, trusted=every_skops_trusted_type())
    except UntrustedTypesFoundException as error:
        raise ModelEnvironmentError(
            f"{refused}: it holds types this project does not trust ({error}); add them to "
            "an estimator's skops_trusted_types in model/estimators.py if you wrote them."
        ) from None
    if not isinstance(model, Pipeline):
        kind = type(model).__name__
        raise ModelEnvironmentError(f"{refused}: it holds a {kind}, not a Pipeline.")
    return model


def import_skops() -> None:
    """Import skops without the thousand warnings it draws from Airflow in a task.

    To list the types it trusts, skops looks each NumPy and SciPy ufunc up in
    every module imported. In an Airflow task that reads each deprecated alias
    Airflow keeps: 1,160 FutureWarnings, 360 KB in the task's log.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"The `airflow\.", category=FutureWarning)
        import skops.io  # noqa: F401


def _champion_or_error(settings: Settings) -> Any:
    version = champion_version(connect(settings), settings)
    if version is None:
        raise ChampionNotFoundError(
            f"no model version of '{settings.model.registered_model_name}' has the alias "
            f"'{CHAMPION_ALIAS}' in {redact(settings.platform.tracking_uri)}: "
            f"run `{PROJECT_SLUG} train` first."
        )
    return version


def pinned_champion(settings: Settings) -> PinnedVersion:
    """The version the champion alias names now, by value, for shards to load."""
    return PinnedVersion.of(_champion_or_error(settings))


def pinned_shadow(settings: Settings, champion: str) -> PinnedVersion | None:
    """The challenger, by value, when it is not the champion (version ``champion``); else None.

    Training gives every new version the challenger alias: after a promotion
    both aliases name one version, and there is nothing to score in the shadow.
    """
    version = alias_version(connect(settings), settings, CHALLENGER_ALIAS)
    if version is None or str(version.version) == str(champion):
        return None
    return PinnedVersion.of(version)


def load_champion(settings: Settings) -> Champion:
    """Load the champion as a scikit-learn pipeline (for ``predict_proba``)."""
    version = _champion_or_error(settings)
    # Resolve the alias once, then load that exact version: a promotion
    # between the two calls cannot mix two models.
    model = _load(settings, version)
    return Champion(model=model, version=str(version.version), run_id=version.run_id)


def reference_profile(champion: Champion) -> dict | None:
    """The drift reference logged with the model's training run, if it has one."""
    try:
        return mlflow.artifacts.load_dict(f"runs:/{champion.run_id}/{PROFILE_ARTIFACT}")
    except (MlflowException, OSError):
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def promote(
    client: MlflowClient,
    settings: Settings,
    version: str,
    *,
    reason: str,
    actor: str,
    record_previous: bool = True,
) -> None:
    """Move the champion alias to ``version`` and record who, why and what it replaced.

    A version the gate refused keeps the gate's reason, as ``gate_refused_reason``,
    beside the reason it is promoted for.
    """
    name = settings.model.registered_model_name
    previous = champion_version(client, settings)
    tags = {
        "promotion": "promoted",
        "promotion_reason": reason,
        "promoted_by": actor,
        "promoted_at": _now(),
    }
    gate_reason = refused_by_gate(client.get_model_version(name, version))
    if gate_reason is not None:
        tags[GATE_REFUSED_TAG] = gate_reason
    if previous is not None and str(previous.version) != str(version) and record_previous:
        tags["previous_champion"] = str(previous.version)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    client.set_registered_model_alias(name, CHAMPION_ALIAS, version)


GATE_REFUSED_TAG = "gate_refused_reason"
# On a champion that a rollback replaced: who rolled it back.
ROLLED_BACK_TAG = "rolled_back_by"


def refused_by_gate(version: Any) -> str | None:
    """The reason the gate gave for refusing ``version`` (a ModelVersion), or None if it did not."""
    tags = version.tags or {}
    if tags.get("promotion") == "rejected":
        return tags.get("promotion_reason") or "no reason recorded"
    return tags.get(GATE_REFUSED_TAG)


def reject(
    client: MlflowClient,
    settings: Settings,
    version: str,
    *,
    reason: str,
    challenger: float,
    champion: float | None,
) -> None:
    """Leave the champion alone and tag the rejected version with the reason and both scores."""
    name = settings.model.registered_model_name
    tags = {
        "promotion": "rejected",
        "promotion_reason": reason,
        "challenger_holdout_accuracy": f"{challenger:.4f}",
        "champion_holdout_accuracy": "none" if champion is None else f"{champion:.4f}",
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def protected_training_days(settings: Settings) -> dict[str, str]:
    """Logical dates whose training partition the champion or challenger was trained on.

    Cleanup keeps them whatever their age: they are what explains, and
    what can reproduce, the models in use.
    """
    client = connect(settings)
    name = settings.model.registered_model_name
    protected: dict[str, str] = {}
    for alias in (CHAMPION_ALIAS, CHALLENGER_ALIAS):
        try:
            version = client.get_model_version_by_alias(name, alias)
        except MlflowException as error:
            if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
                continue
            raise
        day = version.tags.get("logical_date")
        if day:
            why = f"the training data of {alias} version {version.version}"
            protected[day] = f"{protected[day]}; {why}" if day in protected else why
    return protected


def rollback(client: MlflowClient, settings: Settings, *, reason: str, actor: str) -> str:
    """Give the champion alias back to the version the current champion replaced."""
    current = champion_version(client, settings)
    if current is None:
        raise ChampionNotFoundError(
            f"there is no champion to roll back: run `{PROJECT_SLUG} train`."
        )
    previous = current.tags.get("previous_champion")
    if not previous:
        raise PipelineError(
            f"version {current.version} records no earlier champion: "
            f"use `{PROJECT_SLUG} model promote <version>` to choose one."
        )
    client.set_model_version_tag(
        settings.model.registered_model_name, str(current.version), ROLLED_BACK_TAG, actor
    )
    promote(
        client,
        settings,
        previous,
        reason=f"rollback from version {current.version}: {reason}",
        actor=actor,
        record_previous=False,
    )
    return previous
