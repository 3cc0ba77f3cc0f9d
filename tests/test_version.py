"""One template version, in cookiecutter.json, matched by the CHANGELOG and stated in every project."""

from __future__ import annotations

import re
from datetime import date

from tests.conftest import CONTEXT, TEMPLATE

VERSION = CONTEXT["_template_version"]
RELEASE = re.compile(r"^## \[(?P<version>[^\]]+)\] - (?P<date>\S+)$", re.MULTILINE)


def test_version_is_semantic():
    assert re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", VERSION), VERSION


def test_changelog_newest_release_is_the_template_version():
    changelog = (TEMPLATE / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = list(RELEASE.finditer(changelog))
    assert releases, "CHANGELOG.md has no '## [x.y.z] - YYYY-MM-DD' release heading"
    newest = releases[0]
    assert newest["version"] == VERSION, (
        f"CHANGELOG.md's newest release is {newest['version']} but cookiecutter.json's "
        f"_template_version is {VERSION}: bump one to match the other"
    )
    date.fromisoformat(newest["date"])
    assert "## [Unreleased]" in changelog[: newest.start()]


def test_generated_project_states_the_template_version(bake):
    readme = (bake() / "README.md").read_text(encoding="utf-8")
    assert f"Generated from version {VERSION} of the" in readme
