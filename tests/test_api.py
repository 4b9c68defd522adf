"""The public API (``ftppose_cli/__init__.py``): every name resolves, type checkers see the same names, and
importing the package stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ftppose_cli

ROOT = Path(ftppose_cli.__file__).resolve().parents[1]


def _type_checking_imports() -> dict[str, str]:
    """Name -> module of the imports under ``if TYPE_CHECKING:`` in ``ftppose_cli/__init__.py``."""
    tree = ast.parse(Path(ftppose_cli.__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") ==
                 "TYPE_CHECKING")
    return {alias.asname or alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom)
            for alias in node.names}


def test_every_public_name_resolves_to_its_module_object() -> None:
    import importlib

    seen = _type_checking_imports()
    assert len(ftppose_cli.__all__) == len(set(ftppose_cli.__all__))
    assert set(ftppose_cli.__all__) == set(seen) == set(ftppose_cli._EXPORTS)
    for name in ftppose_cli.__all__:
        assert seen[name] == ftppose_cli._EXPORTS[name], name
        assert getattr(ftppose_cli, name) is getattr(importlib.import_module(seen[name]), name), name
    assert set(ftppose_cli.__all__) <= set(dir(ftppose_cli))


def test_the_api_example_uses_only_public_names() -> None:
    tree = ast.parse((ROOT / "examples" / "api_example.py").read_text(encoding="utf-8"))
    imported = [(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names]
    ours = [(module, name) for module, name in imported if module and module.split(".")[0] == "ftppose_cli"]
    assert ours and all(module == "ftppose_cli" and name in ftppose_cli.__all__ for module, name in ours), ours
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Import)
                and any(alias.name.startswith("ftppose_cli") for alias in node.names)]


def test_importing_the_package_does_not_import_torch() -> None:
    code = "import sys, ftppose_cli\nsys.exit('torch' in sys.modules)\n"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, timeout=120).returncode == 0
