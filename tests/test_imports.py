"""The core packages stay light (no UI, file-watching or HTTP library is imported with them), and the layers import
each other one way only, through public names."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HEAVY = ("textual", "watchfiles", "httpx")


@pytest.mark.parametrize("package", ["llmcost", "pricing"])
def test_core_import_is_light(package: str) -> None:
    code = f"import sys, {package}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{package} imported {out.stdout.strip()}"


@pytest.mark.parametrize(
    "package",
    [
        "llmcost",
        "llmcost.alerts",
        "llmcost.cli",
        "llmcost.engine",
        "llmcost.importers",
        "llmcost.integrations",
        "llmcost.log",
        "llmcost.paths",
        "llmcost.recorder",
        "pricing",
        "tui",
    ],
)
def test_public_api_is_sorted_and_complete(package: str) -> None:
    module = importlib.import_module(package)
    names = list(module.__all__)
    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    assert names == sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert len(set(names)) == len(names)
    missing = [n for n in names if not hasattr(module, n)]
    assert missing == []


# -- layering: what each package may import --------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("llmcost", "pricing", "tui")


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, dotted name)`` of every absolute import in a file (``from a.b import c`` gives ``a.b.c``)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def _package_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1])


def _private_owner(name: str) -> str | None:
    """The package that owns the first private part of ``name`` (``llmcost.engine`` for ``llmcost.engine._scan.x``)."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def _sources() -> list[Path]:
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]


def test_no_package_imports_another_ones_private_modules() -> None:
    """A private module or name (``_x``) is imported only from inside the package that owns it; what packages share
    is in their public ``__init__``."""
    found = []
    for path in _sources():
        here = _package_of(path)
        for line, name in _imports(path):
            owner = _private_owner(name)
            if name.split(".")[0] in PACKAGES and owner is not None and not (here + ".").startswith(owner + "."):
                found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert found == []


def test_layers_point_one_way() -> None:
    """``pricing`` imports nothing of ``llmcost`` or ``tui``; ``llmcost`` nothing of ``tui``; the recorder nothing of
    the integrations, the engine, the alerts or the command line."""
    rules = {
        "pricing": ("llmcost", "tui"),
        "llmcost": ("tui",),
        "llmcost.recorder": ("llmcost.integrations", "llmcost.engine", "llmcost.alerts", "llmcost.cli", "llmcost.demo"),
        "llmcost.log": ("llmcost.recorder", "llmcost.integrations", "llmcost.engine", "llmcost.alerts", "llmcost.cli"),
        "llmcost.engine": ("llmcost.recorder", "llmcost.integrations", "llmcost.alerts", "llmcost.cli"),
    }
    found = []
    for path in _sources():
        here = _package_of(path)
        for line, name in _imports(path):
            for layer, forbidden in rules.items():
                if (here + ".").startswith(layer + ".") and any((name + ".").startswith(f + ".") for f in forbidden):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert found == []


def _recorder_graph(directory: Path) -> dict[str, set[str]]:
    """Which of the recorder's modules each one imports, type-checking imports included (``__init__`` stands for
    ``llmcost.recorder`` itself, which imports them all)."""
    modules = {p.stem for p in directory.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for name in modules:
        found = set()
        for _line, dotted in _imports(directory / f"{name}.py"):
            parts = dotted.split(".")
            if parts[:2] != ["llmcost", "recorder"]:
                continue
            target = parts[2] if len(parts) > 2 and parts[2] in modules else "__init__"
            if target != name:
                found.add(target)
        graph[name] = found
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` (``[]`` when there is none)."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str]:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        for nxt in sorted(graph.get(node, ())):
            found = visit(nxt, [*path, node])
            if found:
                return found
        done.add(node)
        return []

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return []


def test_the_recorders_modules_form_no_import_cycle() -> None:
    """Each module of ``llmcost.recorder`` imports only modules below it, also under ``TYPE_CHECKING``: a module
    needing something from above (a call its tracker, a chunk reader its call) names it with a ``Protocol``."""
    graph = _recorder_graph(ROOT / "llmcost" / "recorder")
    assert "_call" in graph
    assert _cycle(graph) == []


def test_the_cycle_check_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
    assert _cycle({"_x": {"__init__"}, "__init__": {"_x"}}) == ["__init__", "_x", "__init__"]
