"""The benchmark's pseudodesk cases still run (benchmarks/cases.py), on a small file.

The benchmark itself is a script, run by ``bootstrap.py bench``, not part of the test suite;
this only keeps its cases from breaking unseen when the export's options change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("case", ["pseudodesk-cms", "pseudodesk-7z", "floor-csv"])
def test_a_benchmark_case_runs_on_a_small_file(case, tmp_path):
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.data import write_csv
    finally:
        sys.path.remove(str(ROOT))
    source = write_csv(tmp_path / "people-200.csv", 200)
    env = {**os.environ, "PSEUDODESK_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "cases.py"), case, str(source), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["rows"] == 200
