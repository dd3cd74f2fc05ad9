"""The house rules, checked on the source: no import cycle, and imports only go down the layers.

Layers, lowest first (docs/architecture.md draws them):

0. ``config``, ``phone``, ``model``, ``stats``, ``staffing``, ``i18n``: settings, pure declarations, maths, languages
1. ``storage``: the store behind one interface
2. ``ingest``, ``metrics``, ``qa``, ``simulate``: sources into the model, the metric registry, QA rules
3. ``queries``, ``analyses``: data access for listings, analyses over the registry
4. ``report``, ``cli``, ``web``: the surfaces

Every import inside a function counts too: a cycle hidden in a function is still a cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "callkpi"
LAYERS: dict[str, int] = {
    "config": 0, "phone": 0, "model": 0, "stats": 0, "staffing": 0,
    "storage": 1,
    "ingest": 2, "metrics": 2, "qa": 2, "speech": 2, "simulate": 2,
    "queries": 3, "analyses": 3,
    "report": 4, "cli": 4, "web": 4, "__main__": 4, "demo": 4, "mappings": 0, "i18n": 0,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in (SRC / PACKAGE).rglob("*.py")}


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the callkpi modules it imports (``from a import b`` counts a.b when b is a module)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, node, path.name == "__init__.py")
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
                ]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith(PACKAGE + ".") and target != name:
                    graph[name].add(target)
    return graph


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        for target in targets:
            a, b = source.split(".")[1], target.split(".")[1]
            if a != b:
                packages[a].add(b)
    return packages


GRAPH = _imports(_modules())


def test_every_package_has_a_layer() -> None:
    top = {name.split(".")[1] for name in _modules() if name.count(".") >= 1}
    assert top - set(LAYERS) == set(), "give each new top-level package a layer in LAYERS and docs/architecture.md"


def test_no_module_import_cycle() -> None:
    assert _cycles(GRAPH) == []


def test_no_package_import_cycle() -> None:
    assert _cycles(_package_graph(GRAPH)) == []


def test_imports_only_go_down_the_layers() -> None:
    upward = sorted(
        f"{source} -> {target}"
        for source, targets in GRAPH.items()
        for target in targets
        if (ls := _layer(source)) is not None and (lt := _layer(target)) is not None and lt > ls
    )
    assert upward == []


@pytest.mark.parametrize(
    ("graph", "cycles"),
    [({"a": {"b"}, "b": {"a"}}, [["a", "b"]]), ({"a": {"b"}, "b": set()}, [])],
)
def test_the_cycle_check_can_fail(graph: dict[str, set[str]], cycles: list[list[str]]) -> None:
    assert _cycles(graph) == cycles
