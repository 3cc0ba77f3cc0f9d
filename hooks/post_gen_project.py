"""Remove what the answers switched off and print the next steps."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CI = "{{ cookiecutter.ci }}"
DATA_SOURCE = "{{ cookiecutter.data_source }}"
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


def seed_training_files(project: Path) -> None:
    """The "files" source reads training_data/*.csv: start it with the sample reviews."""
    if DATA_SOURCE != "files":
        return
    target = project / "training_data" / "reviews.csv"
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(project / "src" / PACKAGE / "data" / "sample_data" / "reviews.csv", target)


def lock(project: Path) -> str:
    """Pin every dependency in uv.lock, so each checkout installs the same versions."""
    if shutil.which("uv") is None:
        return "uv was not found, so there is no uv.lock yet: run `uv lock` once uv is installed."
    result = subprocess.run(["uv", "lock", "--quiet"], cwd=project, capture_output=True, text=True)
    if result.returncode != 0:
        return f"`uv lock` failed ({result.stderr.strip()[-300:]}); run it again before `uv sync`."
    return "Dependencies are pinned in uv.lock."


def next_steps() -> str:
    """The README's quick start, so the first thing a user reads agrees with it."""
    return f"""
Created {SLUG}. Next steps (README.md, "Quick start"):

  cd {SLUG}
  uv sync --locked                     # Python 3.11+; installs everything into .venv
  uv run {SLUG} train                  # train, register, promote a champion
  uv run {SLUG} stack up               # MLflow on :5000, Airflow on :8080 (user admin)
  uv run {SLUG} trigger {PACKAGE}_batch_inference --wait
  uv run {SLUG} serve                  # POST /predict on http://127.0.0.1:8000

  uv run pytest                        # the inner loop, about two minutes on 2 cores
  uv run {SLUG} --help                 # every command, in the order you use them
"""


if __name__ == "__main__":
    project = Path.cwd()
    prune(project)
    seed_training_files(project)
    print(lock(project))
    print(next_steps())
