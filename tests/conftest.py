"""Shared helpers for baking the template."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[1]
CONTEXT = json.loads((TEMPLATE / "cookiecutter.json").read_text())
# What cookiecutter and cruft need of the template: the answers, the hooks and the project tree.
TEMPLATE_PARTS = ["cookiecutter.json", "hooks", "{{cookiecutter.project_slug}}"]
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Test",
    "GIT_AUTHOR_EMAIL": "template-test@example.com",
    "GIT_COMMITTER_NAME": "Template Test",
    "GIT_COMMITTER_EMAIL": "template-test@example.com",
}


def copy_template(target: Path) -> Path:
    """This checkout's template files, copied to ``target`` (created)."""
    target.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in TEMPLATE_PARTS:
        source = TEMPLATE / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=ignore)
        else:
            shutil.copy2(source, target / part)
    return target


@pytest.fixture
def bare_path(tmp_path) -> str:
    """A PATH with git and nothing else: no uv, Chromium, node or docker-compose."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git = shutil.which("git")
    if git:
        (bin_dir / "git").symlink_to(git)
    return str(bin_dir)


@pytest.fixture
def bake(cookies):
    """Bake with the given answers and assert that it worked."""

    def _bake(**answers: str) -> Path:
        result = cookies.bake(extra_context=answers)
        assert result.exception is None, result.exception
        assert result.exit_code == 0
        return Path(result.project_path)

    return _bake
