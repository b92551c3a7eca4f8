"""The risk report agrees with pycanon's k-anonymity on the same data.

pycanon (https://github.com/IFCA-Advanced-Computing/pycanon) pins exact old versions of
numpy, pandas and scipy, so it runs in its own environment, `.venv-pycanon`, which
`installer/bootstrap.py test` builds from tests/pycanon/requirements.lock on Python 3.11 and
3.12. The data pseudodesk would send (after checks and generalisation) goes to it as a CSV of
the quasi-identifier columns; pycanon's k must equal the smallest class pseudodesk counts,
for the raw values and for each generalisation the report previews.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pseudodesk.core.agreement.mapping import load_mapping
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.check.risk import analyse, default_generalisers
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.run.check import check

ROOT = Path(__file__).resolve().parents[2]
PYCANON_SCRIPT = """
import sys
import pandas as pd
from pycanon import anonymity
data = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
print(anonymity.k_anonymity(data, list(data.columns)))
"""


def pycanon_python() -> Path:
    python = ROOT / ".venv-pycanon" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if python.exists():
        return python
    message = "needs .venv-pycanon (python3 installer/bootstrap.py test builds it on Python 3.11 and 3.12)"
    if os.environ.get("CI") and sys.version_info < (3, 13):
        pytest.fail(message)
    pytest.skip(message)


def pycanon_k(rows: list[tuple[str, ...]], names: list[str], folder: Path) -> int:
    path = folder / "quasi.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        writer.writerows(rows)
    done = subprocess.run(
        [str(pycanon_python()), "-c", PYCANON_SCRIPT, str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def test_k_agrees_with_pycanon_on_the_demo_data_raw_and_generalised(tmp_path, demo_paths):
    import datetime as dt

    profile = load_profile(demo_paths["profile"])
    mapping = load_mapping(demo_paths["mapping"])
    table = read_table(demo_paths["spreadsheet"], sheet=mapping.sheet)
    names = profile.quasi_identifiers()
    positions = [profile.output_names.index(n) for n in names]
    rows: list[tuple[str, ...]] = []
    check(profile, table, mapping, on_rows=lambda batch: rows.extend(tuple(r[p] for p in positions) for r in batch))
    counts = Counter(rows)
    generalisers = default_generalisers({"DOB": "dob", "POST CODE": "postcode"}, reference=dt.date(2026, 9, 1))
    report = analyse(counts, names, 11, generalisers)
    assert pycanon_k(rows, names, tmp_path) == min(counts.values()) == min(report.class_sizes)
    assert report.measures.prosecutor_max == 1 / min(report.class_sizes)  # the prosecutor's highest: 1 / k
    # Each generalisation, and the coarsest pair together: the same k both ways.
    cases = [("DOB", "age_band"), ("POST CODE", "area")]
    for name, level in cases:
        position = names.index(name)
        changed = [tuple(generalisers[name][level](v) if i == position else v for i, v in enumerate(r)) for r in rows]
        ours = min(Counter(changed).values())
        assert pycanon_k(changed, names, tmp_path) == ours
    # Age band and gender alone, each record three times: real classes of 3 and more, so the two
    # must agree on a k that is not the trivial 1.
    i_dob, i_gender = names.index("DOB"), names.index("GENDER")
    pairs = [(generalisers["DOB"]["age_band"](r[i_dob]), r[i_gender]) for r in rows] * 3
    ours = min(analyse(Counter(pairs), ["DOB", "GENDER"], 11).class_sizes)
    assert ours >= 3
    assert pycanon_k(pairs, ["DOB", "GENDER"], tmp_path) == ours


PYCANON_L_SCRIPT = """
import sys
import pandas as pd
from pycanon import anonymity
data = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
columns = list(data.columns)
print(anonymity.l_diversity(data, columns[:-1], [columns[-1]]))
"""


def test_l_diversity_agrees_with_pycanon_on_the_demo_data(tmp_path, demo_paths):
    """ETHNICITY as the sensitive field, grouped by year of birth: pycanon's l (distinct
    l-diversity) is the fewest distinct ethnicities pseudodesk counts in a class."""
    import datetime as dt

    from pseudodesk.core.check.classes import ClassCounter
    from pseudodesk.core.check.measures import measure

    profile = load_profile(demo_paths["profile"])
    mapping = load_mapping(demo_paths["mapping"])
    table = read_table(demo_paths["spreadsheet"], sheet=mapping.sheet)
    at = {name: profile.output_names.index(name) for name in ("DOB", "ETHNICITY")}
    year = default_generalisers({"DOB": "dob"}, reference=dt.date(2026, 9, 1))["DOB"]["year"]
    rows: list[tuple[str, ...]] = []
    check(
        profile,
        table,
        mapping,
        on_rows=lambda batch: rows.extend((year(r[at["DOB"]]), r[at["ETHNICITY"]]) for r in batch),
    )
    classes = ClassCounter(sensitive=1)
    classes.add([r[:1] for r in rows], None, [[r[1] for r in rows]])
    ours = measure(classes, sensitive=("ETHNICITY",)).diversity[0].l
    assert ours == 3  # a real l, not the trivial 1
    path = tmp_path / "sensitive.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["DOB", "ETHNICITY"])
        writer.writerows(rows)
    done = subprocess.run(
        [str(pycanon_python()), "-c", PYCANON_L_SCRIPT, str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip().splitlines()[-1]) == ours
