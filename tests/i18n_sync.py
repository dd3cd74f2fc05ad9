"""Write the gettext catalogues from the string tables in the code: ``./dev i18n [extract|update|compile]``.

The string tables are the source of truth (key -> English, Russian); the catalogues are generated,
so that a string added in code with both texts reaches the catalogue by one command:

- every module-level ``dict`` named ``STRINGS`` or ``*_STRINGS`` of ``key: (english, russian)``
  in any ``callkpi`` module (``web/i18n.py``'s ``STRINGS``, ``QA_STRINGS``, ``CLI_STRINGS``, ...);
- every ``*_PLURALS`` table of ``key: {"en": (one, other), "ru": (one, few, many)}`` ("{n}" is the count);
- the named tables below (outcomes, directions, roles, dimensions, metric sections, parameters)
  under a prefix, and every metric's title and description from the registry.

``extract`` writes ``locale/callkpi.pot``, ``update`` the ``en`` and ``ru`` ``.po`` files, ``compile``
their ``.mo`` files (not committed; the ``.po`` is compiled in memory when a ``.mo`` is absent).
``tests/test_i18n.py`` fails when the committed ``.po`` files are not what this script writes.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

import callkpi
from callkpi.i18n import DOMAIN, LANGS, LOCALE_DIR, compile_po, po_path

ROOT = Path(__file__).resolve().parents[1]
FIXED_DATE = datetime(2026, 1, 1)  # the header's dates stay put, so a rerun changes nothing


@dataclass(frozen=True)
class Entry:
    key: str
    texts: dict[str, str | tuple[str, ...]]  # lang -> text (a tuple of plural forms for a plural entry)
    where: str = ""  # the source file, for the translator

    @property
    def plural(self) -> bool:
        return isinstance(self.texts["en"], tuple)


@dataclass
class Sources:
    entries: dict[str, Entry] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)

    def add(self, key: str, texts: dict[str, str | tuple[str, ...]], where: str) -> None:
        known = self.entries.get(key)
        if known is not None and known.texts != texts:
            self.conflicts.append(f"{key}: {known.where} says {known.texts}, {where} says {texts}")
            return
        if known is None:
            self.entries[key] = Entry(key, texts, where)


def _import_all() -> list[str]:
    failed = []
    for info in pkgutil.walk_packages(callkpi.__path__, "callkpi."):
        if info.name.rpartition(".")[2] == "__main__":  # running it would start the CLI
            continue
        try:
            importlib.import_module(info.name)
        except Exception as error:  # a module that cannot load here adds no strings; say so
            failed.append(f"{info.name}: {error}")
    return failed


def _where(module: object) -> str:
    path = Path(getattr(module, "__file__", "") or "")
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return path.name


def _defines(module: object, attr: str) -> bool:
    """Whether ``module`` assigns ``attr`` itself (an imported table is read where it is defined)."""
    if not (attr == "STRINGS" or attr.endswith(("_STRINGS", "_PLURALS"))):
        return False
    try:
        source = Path(module.__file__).read_text(encoding="utf-8")  # type: ignore[attr-defined]
    except (OSError, TypeError, AttributeError):
        return False
    return re.search(rf"^{re.escape(attr)}\s*[:=]", source, re.MULTILINE) is not None


def _pairs(table: object) -> bool:
    return isinstance(table, dict) and all(
        isinstance(k, str) and isinstance(v, tuple) and len(v) == 2 and all(isinstance(s, str) for s in v)
        for k, v in table.items()
    )


def _named_tables(sources: Sources) -> None:
    from callkpi.config import MetricParams
    from callkpi.metrics.catalogue import DIMENSIONS, REGISTRY
    from callkpi.web import i18n

    prefixed = {
        "outcome.": i18n.OUTCOMES, "direction.": i18n.DIRECTIONS, "role.": i18n.ROLE_NAMES,
        "dim.": DIMENSIONS, "section.": i18n.SECTIONS, "unit.": i18n.UNITS, "param.": i18n.PARAMETER_NAMES,
    }
    for prefix, table in prefixed.items():
        for key, (en, ru) in table.items():
            sources.add(prefix + key, {"en": en, "ru": ru}, _where(i18n))
    for name, field_info in MetricParams.model_fields.items():
        ru = i18n.PARAMETER_DESCRIPTIONS.get(name)
        if ru is not None:
            sources.add(f"param.{name}.description", {"en": field_info.description or "", "ru": ru}, _where(i18n))
    call_types, criteria = i18n.default_qa_titles()
    for prefix, table in (("qa.call_type.", call_types), ("qa.criterion.", criteria)):
        for key, (en, ru) in table.items():
            sources.add(prefix + key, {"en": en, "ru": ru}, "src/callkpi/qa/default_scorecards.yaml")
    for metric in REGISTRY.metrics.values():
        where = f"src/callkpi/metrics/catalogue (metric {metric.id})"
        sources.add(f"metric.{metric.id}", dict(metric.title), where)
        sources.add(f"metric.{metric.id}.description", dict(metric.description), where)


def collect() -> Sources:
    """Every string of the code, keyed as the catalogues key them."""
    failed = _import_all()
    if failed:
        print("modules not imported (their strings are missing):", *failed, sep="\n  ", file=sys.stderr)
    sources = Sources()
    tables = [
        (attr, table, module)
        for name, module in sorted(sys.modules.items())
        if name.startswith("callkpi.") and module is not None
        for attr, table in sorted(vars(module).items())
        if _defines(module, attr)
    ]
    tables.sort(key=lambda found: found[0] == "STRINGS")  # the small tables first: they name the file to edit
    for attr, table, module in tables:
        if attr.endswith("_PLURALS") and isinstance(table, dict):
            for key, forms in table.items():
                sources.add(key, {lang: tuple(forms[lang]) for lang in LANGS}, _where(module))
        elif _pairs(table):
            for key, (en, ru) in table.items():
                sources.add(key, {"en": en, "ru": ru}, _where(module))
    _named_tables(sources)
    return sources


def _catalog(lang: str | None) -> Catalog:
    language = {"en": "English", "ru": "Russian", None: "Template of the"}[lang]
    catalog = Catalog(
        header_comment=(
            f"# {language} catalogue of callkpi's interface.\n"
            "# Written by `./dev i18n` from the string tables in the code: edit the table named in each\n"
            "# entry's reference (#:) and run `./dev i18n` again (see CONTRIBUTING.md, Translations)."
        ),
        locale=lang, domain=DOMAIN, project="callkpi", version=callkpi.__version__,
        copyright_holder="callkpi contributors", msgid_bugs_address="",
        creation_date=FIXED_DATE, revision_date=FIXED_DATE, fuzzy=False,
    )
    catalog.language_team = f"{lang or 'LANG'} <>"
    catalog.last_translator = "generated by ./dev i18n from the string tables <>"
    return catalog


def build(sources: Sources, lang: str | None) -> Catalog:
    """The catalogue of ``lang`` (None: the template, with empty translations)."""
    catalog = _catalog(lang)
    for key in sorted(sources.entries):
        entry = sources.entries[key]
        english = entry.texts["en"]
        comments = [f"en: {' | '.join(english) if isinstance(english, tuple) else english}"]
        text: str | tuple[str, ...] = "" if lang is None else entry.texts[lang]
        msgid: str | tuple[str, str] = (key, key) if entry.plural else key
        if lang is None and entry.plural:
            text = ("", "")
        catalog.add(msgid, text, locations=[(entry.where, None)] if entry.where else (), auto_comments=comments)
    return catalog


def _write_po(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=120, sort_output=True, include_lineno=False)


def extract(sources: Sources) -> None:
    _write_po(build(sources, None), LOCALE_DIR / f"{DOMAIN}.pot")


def update(sources: Sources) -> None:
    for lang in LANGS:
        _write_po(build(sources, lang), po_path(lang))


def compile_all(sources: Sources) -> None:
    """``pybabel compile``: each ``.po`` as it is on disk to its ``.mo``."""
    for lang in LANGS:
        po_path(lang).with_suffix(".mo").write_bytes(compile_po(po_path(lang)))


def main(argv: list[str]) -> int:
    steps = argv or ["extract", "update", "compile"]
    if steps == ["compile"]:  # the committed .po files as they are: no need to read the code
        compile_all(Sources())
        return 0
    sources = collect()
    if sources.conflicts:
        print("one key, two texts (rename one key):", *sources.conflicts, sep="\n  ", file=sys.stderr)
        return 1
    missing = [k for k, e in sources.entries.items() if any(not e.texts.get(lang) for lang in LANGS)]
    if missing:
        print("strings without a text in every language:", *missing, sep="\n  ", file=sys.stderr)
    actions = {"extract": extract, "update": update, "compile": compile_all}
    for step in steps:
        if step not in actions:
            print(f"unknown step {step!r}: use extract, update or compile", file=sys.stderr)
            return 2
        actions[step](sources)
    print(f"{len(sources.entries)} strings; {', '.join(steps)} done for {', '.join(LANGS)} in {LOCALE_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
