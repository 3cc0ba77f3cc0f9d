"""Remove what the answers switched off and print the next steps."""

from __future__ import annotations

import shutil
from pathlib import Path

CI = "{{ cookiecutter.ci }}"
SLUG = "{{ cookiecutter.project_slug }}"
PACKAGE = "{{ cookiecutter.package_name }}"

# Paths (relative to the generated project) that exist only for some answers.
OPTIONAL_PATHS = {
    ".github": CI == "github",
}


def prune(project: Path) -> None:
    for relative, wanted in OPTIONAL_PATHS.items():
        path = project / relative
        if wanted or not path.exists():
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def next_steps() -> str:
    return f"""
Created {SLUG}. Next steps:

  cd {SLUG}
  uv sync                              # Python 3.11+; installs everything into .venv
  uv run {SLUG} train      # train, register, promote a champion
  uv run {SLUG} run-dag    # run the batch-inference DAG once
  uv run pytest                        # unit, DAG integrity and end-to-end tests

  bash scripts/start_mlflow.sh         # MLflow UI on http://127.0.0.1:5000
  bash scripts/start_airflow.sh        # Airflow UI on http://127.0.0.1:8080

The DAG is {PACKAGE}_batch_inference; README.md explains the rest.
"""


if __name__ == "__main__":
    prune(Path.cwd())
    print(next_steps())
