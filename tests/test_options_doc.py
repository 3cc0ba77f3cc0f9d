"""docs/options.md: every option documented, and the file what scripts/options_doc.py writes."""

from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import CONTEXT, TEMPLATE

SCRIPT = TEMPLATE / "scripts" / "options_doc.py"


@pytest.fixture(scope="module")
def options_doc():
    spec = importlib.util.spec_from_file_location("options_doc", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_options_is_what_the_script_writes():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_option_has_a_section(options_doc):
    text = (TEMPLATE / "docs" / "options.md").read_text(encoding="utf-8")
    options = [name for name in CONTEXT if not name.startswith("_")]
    assert options, "cookiecutter.json has no options"
    for name in options:
        assert f"\n### `{name}`\n" in text, name
    help_doc = options_doc.load()[1]
    for name in options:
        assert " ".join(help_doc[name]["changes"].split()) in text, name


def test_an_option_added_without_documentation_fails(options_doc):
    context, help_doc = options_doc.load()
    context = copy.deepcopy(context)
    prompts = context.pop("__prompts__")
    context["escalation_threshold"] = "0.95"
    context["__prompts__"] = {**prompts, "escalation_threshold": "Escalate above this share of alerts"}
    with pytest.raises(options_doc.OptionsDocError, match="no entry for escalation_threshold"):
        options_doc.render(context, help_doc)

    help_doc = {**help_doc, "escalation_threshold": {"group": "Monitoring", "changes": "Escalates."}}
    assert "### `escalation_threshold`" in options_doc.render(context, help_doc)


def test_documentation_of_a_removed_option_fails(options_doc):
    context, help_doc = options_doc.load()
    context = {name: value for name, value in context.items() if name != "retention_days"}
    with pytest.raises(options_doc.OptionsDocError, match=r"cookiecutter\.json lacks: retention_days"):
        options_doc.render(context, help_doc)


def test_a_stale_options_page_fails_the_check(options_doc, tmp_path, monkeypatch, capsys):
    stale = tmp_path / "options.md"
    stale.write_text((TEMPLATE / "docs" / "options.md").read_text(encoding="utf-8").replace("20000", "10000"))
    monkeypatch.setattr(options_doc, "OUTPUT", stale)
    monkeypatch.setattr(options_doc, "ROOT", tmp_path)
    assert options_doc.main(["--check"]) == 1
    assert "options.md is out of date" in capsys.readouterr().err
    assert options_doc.main([]) == 0
    assert options_doc.main(["--check"]) == 0


def test_the_readme_points_to_the_docs():
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    assert "(docs/options.md)" in readme
    assert "(docs/opinions.md)" in readme
    assert "(CHANGELOG.md)" in readme
