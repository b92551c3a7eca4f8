"""pseudodesk.core and pseudodesk.cli never import Qt (ARCHITECTURE.md rule 1).

import-linter checks the static import graph (pyproject.toml [tool.importlinter]);
this test checks what actually happens at run time, in a fresh interpreter where any
attempt to import PySide6 or shiboken6 fails loudly.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pseudodesk.cli
import pseudodesk.core

PROBE = """
import importlib, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6'):
            raise ImportError('Qt import attempted: ' + name)
sys.meta_path.insert(0, Block())
for name in sys.argv[1:]:
    importlib.import_module(name)
from pseudodesk.cli.main import main
try:
    main(['--help'])
except SystemExit:
    pass
bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pseudodesk.gui')]
print('LOADED', bad)
sys.exit(1 if bad else 0)
"""


def all_modules() -> list[str]:
    names = []
    for package in (pseudodesk.core, pseudodesk.cli):
        names.append(package.__name__)
        names += [
            m.name
            for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
            if not m.name.endswith("__main__")
        ]
    return names


def test_core_and_cli_import_without_qt():
    modules = all_modules()
    assert "pseudodesk.core.run.export" in modules and "pseudodesk.cli.main" in modules
    result = subprocess.run([sys.executable, "-c", PROBE, *modules], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "LOADED []" in result.stdout


def test_probe_would_catch_a_qt_import():
    result = subprocess.run([sys.executable, "-c", PROBE, "pseudodesk.core", "PySide6"], capture_output=True, text=True)
    assert result.returncode != 0 and "Qt import attempted: PySide6" in result.stderr
