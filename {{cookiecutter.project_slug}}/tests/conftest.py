"""Isolation for the whole test session.

Airflow reads its configuration once, at import, so the session's own Airflow
home, metadata database, MLflow store and data directory are set here, before
any test module imports airflow. Nothing touches the project's real stores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SESSION_DIR = Path(tempfile.mkdtemp(prefix="{{ cookiecutter.package_name }}-tests-"))
ENV_PREFIX = "{{ cookiecutter.package_name.upper() }}_"

AIRFLOW_HOME = SESSION_DIR / "airflow"

os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "MLFLOW_TRACKING_URI": f"sqlite:///{SESSION_DIR / 'mlflow.db'}",
        f"{ENV_PREFIX}DATA_DIR": str(SESSION_DIR / "data"),
        f"{ENV_PREFIX}ARTIFACT_ROOT": str(SESSION_DIR / "mlartifacts"),
    }
)
# A developer's own overrides must not leak into the tests.
KEEP = {f"{ENV_PREFIX}DATA_DIR", f"{ENV_PREFIX}ARTIFACT_ROOT"}
for name in [name for name in os.environ if name.startswith(ENV_PREFIX) and name not in KEEP]:
    del os.environ[name]


@pytest.fixture
def isolated_store(tmp_path, monkeypatch):
    """A fresh MLflow store and data directory for one test."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv(f"{ENV_PREFIX}DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(f"{ENV_PREFIX}ARTIFACT_ROOT", str(tmp_path / "mlartifacts"))
    from {{ cookiecutter.package_name }}.settings import load_settings

    return load_settings()


@pytest.fixture(scope="session")
def session_settings():
    """Settings pointing at the session-wide store (shared with the DAG runs)."""
    from {{ cookiecutter.package_name }}.settings import load_settings

    return load_settings()


@pytest.fixture(scope="session")
def champion(session_settings):
    """Train once per session on the bundled data; the result has the champion alias."""
    from {{ cookiecutter.package_name }}.training import train

    result = train(session_settings)
    assert result["promoted"], result["reason"]
    return result


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated Airflow metadata database in the session's AIRFLOW_HOME."""
    Path(os.environ["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        text=True,
    )
    return os.environ["AIRFLOW_HOME"]
