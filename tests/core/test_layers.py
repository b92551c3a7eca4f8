"""The core's one-way layering (pyproject.toml's import-linter contracts) holds, and breaks on an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / ("lint-imports.exe" if os.name == "nt" else "lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, timeout=300
    )


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_an_upward_import_breaks_the_layers_contract(tmp_path):
    tree = _copy(tmp_path)
    kept = _lint(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "the core is layered one way" in kept.stdout and "BROKEN" not in kept.stdout

    # the reader (the lowest stage) reaching up to the export (the top one)
    table = tree / "src" / "pseudodesk" / "core" / "read" / "table.py"
    table.write_text(
        table.read_text(encoding="utf-8") + "\nimport pseudodesk.core.run.export  # noqa\n", encoding="utf-8"
    )
    broken = _lint(tree)
    assert broken.returncode != 0
    assert "the core is layered one way" in broken.stdout and "BROKEN" in broken.stdout
    assert "pseudodesk.core.read.table -> pseudodesk.core.run.export" in broken.stdout


def test_no_core_module_imports_a_project_module_inside_a_function():
    """Imports of pseudodesk inside functions hid import cycles; the layering makes them needless.
    (Heavy third-party libraries may still be imported where they are used.)"""
    import ast

    found = []
    for path in sorted((ROOT / "src" / "pseudodesk" / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        guarded = {
            n.lineno
            for top in tree.body
            if isinstance(top, ast.If) and "TYPE_CHECKING" in ast.unparse(top.test)
            for n in ast.walk(top)
            if hasattr(n, "lineno")
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.col_offset > 0
                and node.lineno not in guarded
                and (node.module or "").startswith("pseudodesk")
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_no_source_module_is_over_500_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "src").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}
