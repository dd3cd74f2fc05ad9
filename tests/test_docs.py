"""Every CLI command and every setting is documented, and the references are up to date."""

from __future__ import annotations

import re

import pytest

from docs_reference import (
    CLI_DOC,
    ENGINES_DOC,
    ROOT,
    SETTINGS_DOC,
    commands,
    render_cli,
    render_engines,
    render_settings,
    settings_keys,
)

DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_cli_reference_is_up_to_date() -> None:
    assert CLI_DOC.read_text(encoding="utf-8") == render_cli(), "run ./dev docs"


def test_settings_reference_is_up_to_date() -> None:
    assert SETTINGS_DOC.read_text(encoding="utf-8") == render_settings(), "run ./dev docs"


def test_engines_support_table_is_what_the_code_says() -> None:
    """docs/engines.md's tables are callkpi.metrics.backends' data (which engine runs what)."""
    text = ENGINES_DOC.read_text(encoding="utf-8")
    assert text == render_engines(text), "run ./dev docs"
    assert "| kpi | yes | yes |" in text and "| ingest | yes | yes |" in text


@pytest.mark.parametrize("path", [path for path, _ in commands()])
def test_every_command_has_a_help_text(path: str) -> None:
    command = dict(commands())[path]
    assert (command.help or "").strip(), f"{path} has no help text"


def test_every_top_level_command_is_named_in_the_readme_or_guides() -> None:
    prose = "\n".join(p.read_text(encoding="utf-8") for p in DOCS if p not in (CLI_DOC, SETTINGS_DOC))
    top = {path.split()[1] for path, _ in commands() if path.count(" ") == 1}
    missing = sorted(name for name in top if not re.search(rf"callkpi {re.escape(name)}\b", prose))
    assert missing == []


def test_every_setting_is_in_the_settings_reference() -> None:
    text = SETTINGS_DOC.read_text(encoding="utf-8")
    missing = [key for key, _ in settings_keys() if f"| `{key.rpartition('.')[2]}` |" not in text]
    assert missing == []


def test_no_doc_links_outside_the_repo() -> None:
    broken = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+://", target):
                continue
            resolved = (doc.parent / target).resolve()
            if (ROOT not in resolved.parents and resolved != ROOT) or not resolved.exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []
