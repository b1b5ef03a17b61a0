"""The import graph of the project: no circle, and imports flow ui -> assistant -> ingest only.

Every import counts: module level, inside functions, and under ``TYPE_CHECKING``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ingest", "assistant", "ui")
# a package may import only the packages after it here
LAYERS = {"ui": {"assistant", "ingest"}, "assistant": {"ingest"}, "ingest": set()}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The project modules ``path`` imports (the deepest module each import names)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) for p in paths}


def test_no_back_edges() -> None:
    bad = [f"{a} -> {b}" for a, targets in import_graph().items() for b in targets
           if b.split(".")[0] != a.split(".")[0]
           and b.split(".")[0] not in LAYERS[a.split(".")[0]]]
    assert not bad, bad


def test_no_import_cycles() -> None:
    graph = import_graph()
    # a package's __init__ re-exporting its modules is not a dependency of those modules on it
    edges = {a: {b for b in targets if not a.startswith(b + ".")} for a, targets in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, [" -> ".join(c) for c in cycles]


def test_the_walk_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    module = ROOT / "assistant" / "api.py"
    found = imports_of(module, set(import_graph()))
    assert "assistant.evaluation.runner" in found  # imported inside evaluate()
    assert "ingest.pipeline" in found  # imported under TYPE_CHECKING (and lazily)


def test_only_the_index_touches_chroma_collections() -> None:
    """``ingest/store.py`` (``NewsStore``) owns the collections; the rest use its typed reads."""
    import re

    raw = re.compile(r"\.(passages|articles)\.(get|query|upsert|delete|count|add|peek)\(")
    paths = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in paths
                 if p != ROOT / "ingest" / "store.py"
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
                 if raw.search(line)]
    assert not offenders, offenders
