"""The package's shape: imports point one way between its folders, scoring needs no torch, modules stay small.

These read the source (``ast``), not the running program, so an import inside a
function counts as much as one at the top of a file: a lazy import still ties
two folders together.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ftppose_cli

PACKAGE = Path(ftppose_cli.__file__).resolve().parent
MAX_LINES = 400  # past this a module is doing more than one job: split it by job


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, not ``.__init__``)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _unit(module: str) -> str:
    """The top-level folder or module a dotted name belongs to: ``ftppose_cli.video.reader`` -> ``video``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imported(path: Path, module: str, modules: dict[str, Path]) -> set[str]:
    """The package modules ``path`` imports, at any depth of the file (relative imports resolved)."""
    found = set()
    package = (module if path.name == "__init__.py" else module.rpartition(".")[0]).split(".")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x / from ..video import reader
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            # ``from ftppose_cli.training import detector_data`` imports a module; ``from x import name`` the module x.
            found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names)
    return {name for name in found if name == "ftppose_cli" or name.startswith("ftppose_cli.")}


def _unit_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        for target in _imported(path, module, modules):
            if _unit(module) != _unit(target):
                graph.setdefault(_unit(module), set()).add(_unit(target))
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that starts and ends at the same node, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_loop_between_folders() -> None:
    graph = _unit_graph()
    assert graph["cli"] >= {"pipeline", "evaluation", "training"}  # the walk sees lazy imports too
    cycle = _cycle(graph)
    assert cycle is None, "import loop between folders: " + " -> ".join(cycle)


def test_only_the_cli_draws() -> None:
    """The library reports through callbacks; rich and typer (terminal drawing, arguments) are the CLI's."""
    drawing = {module for module, path in _modules().items() if _unit(module) != "cli"
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, (ast.Import, ast.ImportFrom))
               for name in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])
               if name.split(".")[0] in ("rich", "typer")}
    assert drawing == set()


def test_the_loop_finder_finds_loops() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}}) is None


def test_scoring_imports_no_torch() -> None:
    """Every module of ``evaluation/`` imports without torch: scoring files must not pay for the model."""
    names = sorted(name for name in _modules() if name.startswith("ftppose_cli.evaluation."))
    code = (f"import importlib, sys\nfor name in {names!r}:\n    importlib.import_module(name)\n"
            "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
            "sys.exit(f'torch imported: {loaded[:3]}' if loaded else 0)\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True,
                         timeout=120, check=False)
    assert len(names) >= 8 and run.returncode == 0, run.stderr or run.stdout


def test_no_module_is_over_400_lines() -> None:
    lengths = {path.relative_to(PACKAGE.parent): len(path.read_text(encoding="utf-8").splitlines())
               for path in _modules().values()}
    assert {str(path): n for path, n in lengths.items() if n > MAX_LINES} == {}
