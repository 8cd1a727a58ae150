"""The layout of ``toolkit/`` shows the pipeline, and imports only go down it.

Layers, lowest first; a module may import its own package and any lower layer, never a peer
or a higher one. Imports inside functions and under ``TYPE_CHECKING`` count too: a cycle
hidden behind a late import is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "toolkit"

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"_infra"}),
    frozenset({"spec"}),
    frozenset({"check"}),
    frozenset({"read", "write", "history"}),
    frozenset({"report", "author"}),
    frozenset({"mail"}),
    frozenset({"pipeline", "testing"}),
    frozenset({"workspace"}),
    frozenset({"web"}),
    frozenset({"api", "cli"}),
)
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}
TOP_LEVEL_MODULES = {"__init__.py", "pipeline.py", "testing.py"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _stage(module: str) -> str:
    """``toolkit.read.book`` → ``read``; ``toolkit`` itself (the public API) → ``api``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "api"


def _imports(path: Path) -> set[str]:
    """Every ``toolkit`` module that ``path`` imports, wherever the import statement is."""
    name = _module_name(path)
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "toolkit"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "toolkit":
                continue
            out.add(target)
            for alias in node.names:  # ``from toolkit.read import limits`` imports a module
                if (PACKAGE.parent / (target + "." + alias.name).replace(".", "/")).with_suffix(
                        ".py").exists():
                    out.add(f"{target}.{alias.name}")
    return out


def _graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    known = {_module_name(p) for p in files}
    graph = {}
    for path in files:
        name = _module_name(path)
        graph[name] = {m for m in _imports(path) if m in known and m != name}
    return graph


GRAPH = _graph()


def test_the_graph_sees_the_packages_imports():
    # the walk itself must work, or every assertion below passes vacuously
    assert "toolkit.spec.campaign" in GRAPH["toolkit.pipeline"] or any(
        m.startswith("toolkit.spec") for m in GRAPH["toolkit.pipeline"])
    assert any(m.startswith("toolkit.read") for m in GRAPH["toolkit.pipeline"])
    assert len(GRAPH) > 30


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_only_go_down(module):
    stage = _stage(module)
    assert stage in RANK, f"{module}: stage {stage!r} has no place in LAYERS"
    wrong = sorted(m for m in GRAPH[module]
                   if _stage(m) != stage and RANK[_stage(m)] >= RANK[stage])
    assert not wrong, f"{module} ({stage}) imports a peer or higher layer: {wrong}"


def test_no_import_cycles():
    seen: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(GRAPH[node]):
            # a package's __init__ importing its own submodules is the package's own business
            if node == nxt.rsplit(".", 1)[0] and nxt.startswith(node + "."):
                continue
            if seen.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt] if nxt in path else [node, nxt])
            elif nxt not in seen:
                visit(nxt, [*path, nxt])
        seen[node] = 2

    for node in sorted(GRAPH):
        if node not in seen:
            visit(node, [node])
    assert not cycles, f"import cycles: {cycles}"


def test_top_level_holds_only_stages_and_entry_points():
    entries = {p.name for p in PACKAGE.iterdir() if not p.name.startswith((".", "__pycache__"))}
    modules = {e for e in entries if e.endswith(".py")}
    packages = {e for e in entries if (PACKAGE / e).is_dir() and e != "_data"}
    assert modules <= TOP_LEVEL_MODULES, f"loose modules: {sorted(modules - TOP_LEVEL_MODULES)}"
    assert packages <= set(RANK), f"packages without a layer: {sorted(packages - set(RANK))}"


@pytest.mark.parametrize("package", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_every_subpackage_says_what_it_owns_and_may_import(package):
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text("utf-8")))
    assert doc and len(doc.split()) >= 15, f"toolkit/{package}/__init__.py needs a docstring"
    assert "May import" in doc or "may import" in doc, f"{package}: say what it may import"
