"""Generated projects follow the template with cruft: create, check, update.

Each test turns a copy of this checkout into a throwaway git repository, since
cruft clones its template with git, and drives cruft's own command line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CONTEXT, GIT_IDENTITY, TEMPLATE, TEMPLATE_PARTS, copy_template

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

LOCAL_EDIT = "## Our team's notes\n\nOn call: the data platform team.\n"
NEW_VERSION = "99.0.0"
NEW_DEPENDENCY = '"packaging>=24"'


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_IDENTITY}
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", message, cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo)


def cruft(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cruft", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **GIT_IDENTITY},
    )


@pytest.fixture
def template_repo(tmp_path) -> Path:
    """This checkout's template files, committed to a fresh git repository."""
    repo = copy_template(tmp_path / "template")
    git("init", "-q", "-b", "main", cwd=repo)
    commit_all(repo, "Template as in the checkout under test")
    return repo


def change_the_template(repo: Path) -> str:
    """What a template release does: a new option and file, edited files, new defaults."""
    context_file = repo / "cookiecutter.json"
    context = json.loads(context_file.read_text(encoding="utf-8"))
    context["low_confidence_threshold"] = "0.65"  # a new default: existing answers stay
    context["_template_version"] = NEW_VERSION
    prompts = context.pop("__prompts__")
    context["escalation_threshold"] = "0.95"  # a new option: existing projects get its default
    prompts["escalation_threshold"] = "Escalate above this share of alerts (0-1)"
    context["__prompts__"] = prompts
    context_file.write_text(json.dumps(context, indent=2) + "\n", encoding="utf-8")

    project = repo / "{{cookiecutter.project_slug}}"
    (project / "ESCALATION.md").write_text(
        "Escalate when {{ cookiecutter.escalation_threshold }} of alerts fire.\n", encoding="utf-8"
    )
    readme = project / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert "## Quick start\n" in text
    readme.write_text(
        text.replace("## Quick start\n", "## Quick start\n\nNew in this release: escalation.\n", 1),
        encoding="utf-8",
    )
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert "dependencies = [\n" in text
    pyproject.write_text(text.replace("dependencies = [\n", f"dependencies = [\n    {NEW_DEPENDENCY},\n", 1))
    return commit_all(repo, "New option escalation_threshold, a new file, a new default, a new dependency")


def test_cruft_create_update_and_check(tmp_path, template_repo):
    created = cruft(
        "create", "--no-input", "--output-dir", str(tmp_path / "out"), str(template_repo), cwd=tmp_path
    )
    assert created.returncode == 0, created.stdout + created.stderr
    project = tmp_path / "out" / "sentiment-pipeline"
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["commit"] == git("rev-parse", "HEAD", cwd=template_repo)
    assert state["context"]["cookiecutter"]["_template_version"] == CONTEXT["_template_version"]
    assert (project / "uv.lock").is_file(), "no uv.lock: the post-generation hook did not lock (uv on PATH?)"

    git("init", "-q", "-b", "main", cwd=project)
    commit_all(project, "Generated with cruft")
    current = cruft("check", cwd=project)
    assert current.returncode == 0, current.stdout + current.stderr

    readme = project / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\n" + LOCAL_EDIT, encoding="utf-8")
    commit_all(project, "A local edit the template does not know about")

    new_commit = change_the_template(template_repo)
    stale = cruft("check", cwd=project)
    assert stale.returncode != 0, "cruft check must report a template that moved on"
    assert "out of date" in stale.stdout

    lock = (project / "uv.lock").read_bytes()
    updated = cruft("update", "--skip-apply-ask", cwd=project)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert not list(project.rglob("*.rej")), "a template change did not apply cleanly"

    # The change arrived, with the new option at its default ...
    assert (project / "ESCALATION.md").read_text(encoding="utf-8") == "Escalate when 0.95 of alerts fire.\n"
    text = readme.read_text(encoding="utf-8")
    assert "New in this release: escalation." in text
    assert f"Generated from version {NEW_VERSION} of the" in text
    # ... the local edit survived ...
    assert text.endswith(LOCAL_EDIT)
    # ... uv.lock is left for `uv lock` (pyproject.toml's [tool.cruft] skip) ...
    assert NEW_DEPENDENCY in (project / "pyproject.toml").read_text(encoding="utf-8")
    assert (project / "uv.lock").read_bytes() == lock, "cruft update merged uv.lock instead of skipping it"
    # ... and the answer given at creation stands over the template's new default.
    settings = (project / "src/sentiment_pipeline/settings.py").read_text(encoding="utf-8")
    assert "low_confidence_threshold: float = 0.6\n" in settings
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["commit"] == new_commit
    assert state["context"]["cookiecutter"]["escalation_threshold"] == "0.95"
    assert state["context"]["cookiecutter"]["low_confidence_threshold"] == "0.6"

    after = cruft("check", cwd=project)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "up to date" in after.stdout


def test_cruft_refuses_an_unknown_choice(tmp_path, template_repo):
    # Under cruft the hook has no template directory to read choices from;
    # cookiecutter's own context check refuses the value before any file is written.
    refused = cruft(
        "create",
        "--no-input",
        "--output-dir",
        str(tmp_path / "out"),
        "--extra-context",
        json.dumps({"model": "random_forest"}),
        str(template_repo),
        cwd=tmp_path,
    )
    assert refused.returncode != 0
    assert "random_forest provided for choice variable model" in refused.stdout + refused.stderr
    assert not (tmp_path / "out" / "sentiment-pipeline").exists()


# The last commits of the earlier releases: 0.1.0 kept every module side by
# side; 0.2.0 had the folders but called the demo data source "bundled".
RELEASES = {
    "0.1.0": "bcb4cfd0e03406e46786e22a62ffe62ca67247db",
    "0.2.0": "a2266c0b0ec799c8be3afe9403ef6bbc22b2be60",
}


# The last commit of 0.5.0, the release before the `labels` answer.
BEFORE_LABELS = "210e037376e7c6b6a4c6d01c4235ad39cd36c9c4"


def generated_from(
    tmp_path: Path, previous: str, release: str, answers: dict[str, str] | None = None
) -> tuple[Path, Path]:
    """(template repository, project generated from it by cruft, with ``answers``) at ``previous``."""
    known = subprocess.run(["git", "cat-file", "-e", f"{previous}^{{commit}}"], cwd=TEMPLATE, check=False)
    if known.returncode != 0:
        pytest.skip(f"this checkout's history lacks {previous[:7]} (a shallow clone?)")
    repo = tmp_path / "template"
    repo.mkdir()
    archive = subprocess.run(
        ["git", "archive", previous, *TEMPLATE_PARTS],
        cwd=TEMPLATE,
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(repo)], input=archive.stdout, check=True)
    git("init", "-q", "-b", "main", cwd=repo)
    commit_all(repo, f"Template {release}")
    extra = ["--extra-context", json.dumps(answers)] if answers else []
    created = cruft(
        "create", "--no-input", "--output-dir", str(tmp_path / "out"), *extra, str(repo), cwd=tmp_path
    )
    assert created.returncode == 0, created.stdout + created.stderr
    project = tmp_path / "out" / "sentiment-pipeline"
    git("init", "-q", "-b", "main", cwd=project)
    commit_all(project, f"Generated from {release}")
    return repo, project


def template_now(repo: Path) -> None:
    """Commit this checkout's template over the older one in ``repo``."""
    for part in TEMPLATE_PARTS:
        target = repo / part
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        source = TEMPLATE / part
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)
    commit_all(repo, "Template as in the checkout under test")


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_a_project_of_an_earlier_release_updates_to_this_one(tmp_path, release):
    """`cruft update` moves 0.1.0's modules into the folders; both follow the CHANGELOG's rename."""
    repo, project = generated_from(tmp_path, RELEASES[release], release)
    package = project / "src" / "sentiment_pipeline"
    template_now(repo)

    # The old answer is refused before anything changes, naming the value.
    refused = cruft("update", "--skip-apply-ask", cwd=project)
    assert refused.returncode != 0
    assert "bundled provided for choice variable data_source" in refused.stdout + refused.stderr
    # The CHANGELOG's step: give the renamed answer for the new template only
    # (cruft renders the old template with the old answer to compute the diff).
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["context"]["cookiecutter"]["data_source"] == "bundled"
    renamed = json.dumps({"data_source": "demo"})
    updated = cruft("update", "--skip-apply-ask", "--variables-to-update", renamed, cwd=project)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert not list(project.rglob("*.rej")), "a moved file did not apply cleanly"
    assert not (package / "training.py").exists()
    for moved in ("steps/training.py", "model/estimators.py", "data/sample_data/reviews.csv"):
        assert (package / moved).is_file(), moved
    assert (package / "steps" / "extraction.py").is_file()
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["context"]["cookiecutter"]["_template_version"] == CONTEXT["_template_version"]
    assert state["context"]["cookiecutter"]["data_source"] == "demo"
    # What the update wrote is the project a fresh render gives: it lints clean.
    linted = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=project, capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.parametrize("data_source", ["demo", "files"])
def test_a_project_from_before_the_labels_answer_updates_and_stays_two_class(tmp_path, data_source):
    """0.5.0 had no `labels` answer: the update takes its default, negative,positive.

    It shipped every data source; the update removes the warehouse from a files
    project, and the demo too (its invented reviews move to the tests).
    """
    answers = {"data_source": data_source}
    repo, project = generated_from(tmp_path, BEFORE_LABELS, "0.5.0", answers)
    template_now(repo)

    updated = cruft("update", "--skip-apply-ask", cwd=project)

    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert not list(project.rglob("*.rej")), "a file did not apply cleanly"
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["context"]["cookiecutter"]["labels"] == "negative,positive"
    settings = (project / "src" / "sentiment_pipeline" / "settings.py").read_text(encoding="utf-8")
    assert 'DEFAULT_LABELS = (\n    "negative",\n    "positive",\n)' in settings
    assert 'SAMPLE_LABELS = ("negative", "positive")' in settings
    assert f'data_source: str = "{data_source}"' in settings
    assert "warehouse_url" not in settings
    assert not (project / "src" / "sentiment_pipeline" / "data" / "warehouse.py").exists()
    assert "WarehouseSource" not in (project / "src/sentiment_pipeline/data/sources.py").read_text()
    demo = data_source == "demo"
    assert (project / "src/sentiment_pipeline/steps/demo.py").exists() == demo
    assert (project / "src/sentiment_pipeline/data/synthetic.py").exists() == demo
    assert (project / "tests/synthetic.py").exists() != demo
    assert ("batch_size" in settings) == demo
    linted = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=project, capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
