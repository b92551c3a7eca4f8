"""Aggregate counts with small-number suppression: primary, secondary, and NHS Digital rounding."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pseudodesk.core.transform.aggregate import SUPPRESSED, count, derivable_cells, publish
from tests.helpers import KEY_A, PROFILE, ROWS, TEST_SIGNER, extract_7z, fixture, run


def table_of(grid: dict[tuple[str, str], int]) -> Counter[tuple[str, ...]]:
    return Counter({key: n for key, n in grid.items() if n})


def test_threshold_hides_one_to_ten_and_shows_zero_and_eleven():
    counts = table_of({("A", "x"): 11, ("A", "y"): 10, ("B", "x"): 25, ("B", "y"): 30, ("C", "x"): 40, ("C", "y"): 0})
    table = publish(counts, ["ward", "sex"], "threshold")
    assert table.cells[("A", ("x",))] == SUPPRESSED  # secondary: A's row would give 10 away (21 - 11)
    assert table.cells[("A", ("y",))] == SUPPRESSED  # primary
    assert table.cells[("C", ("y",))] == "0"
    assert table.primary == 1
    assert derivable_cells(table) == []


def test_secondary_suppression_leaves_nothing_to_subtract():
    """A 3 x 3 table with one small cell: its row and its column each get a second hidden cell,
    and the cell hidden for the row needs a partner in its own column, and so on."""
    grid = {
        ("A", "x"): 5,
        ("A", "y"): 20,
        ("A", "z"): 30,
        ("B", "x"): 40,
        ("B", "y"): 50,
        ("B", "z"): 60,
        ("C", "x"): 70,
        ("C", "y"): 80,
        ("C", "z"): 90,
    }
    table = publish(table_of(grid), ["ward", "age"], "threshold")
    assert table.cells[("A", ("x",))] == SUPPRESSED
    assert table.primary == 1 and table.secondary >= 3
    assert derivable_cells(table) == []
    assert table.row_totals["A"] == "55" and table.grand_total == "445"  # totals are published in full
    for r in table.row_keys:  # no published line is left with exactly one unknown
        assert sum(table.cells[(r, c)] == SUPPRESSED for c in table.column_keys) != 1
    for c in table.column_keys:
        assert sum(table.cells[(r, c)] == SUPPRESSED for r in table.row_keys) != 1


def test_without_secondary_suppression_the_check_finds_the_leak():
    """The check itself can fail: a table with only the primary cell hidden gives it away."""
    grid = {("A", "x"): 5, ("A", "y"): 20, ("B", "x"): 40, ("B", "y"): 50}
    table = publish(table_of(grid), ["ward", "age"], "threshold")
    table.cells = {
        key: (SUPPRESSED if key == ("A", ("x",)) else value if value != SUPPRESSED else "20")
        for key, value in table.cells.items()
    }
    assert derivable_cells(table) == [("A", ("x",))]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=5), min_size=1, max_size=5).filter(
        lambda rows: len({len(r) for r in rows}) == 1
    )
)
def test_no_suppressed_cell_can_ever_be_derived(rows):
    grid = {(f"r{i}", f"c{j}"): n for i, row in enumerate(rows) for j, n in enumerate(row)}
    counts = table_of(grid)
    if not counts:
        return
    table = publish(counts, ["a", "b"], "threshold")
    assert derivable_cells(table) == []
    for (r, c), n in grid.items():
        if (r, (c,)) in table.cells and 1 <= n <= 10:
            assert table.cells[(r, (c,))] == SUPPRESSED


def test_nhs_digital_stars_one_to_seven_and_rounds_the_rest_to_five():
    grid = {("A", "x"): 3, ("A", "y"): 3, ("A", "z"): 3, ("B", "x"): 8, ("B", "y"): 12, ("B", "z"): 13}
    table = publish(table_of(grid), ["ward", "sex"], "nhs_digital")
    assert [table.cells[("A", (c,))] for c in "xyz"] == [SUPPRESSED] * 3
    assert [table.cells[("B", (c,))] for c in "xyz"] == ["10", "10", "15"]
    assert table.row_totals == {"A": "10", "B": "35"}  # 9 and 33 before rounding
    assert table.column_totals[("x",)] == "10" and table.grand_total == "40"  # 11 -> 10; 42 -> 40


def test_more_than_two_dimensions_publish_as_first_by_the_rest():
    counts = count([("W1", "0-4", "F")] * 12 + [("W1", "0-4", "M")] * 15 + [("W2", "5-10", "F")] * 20)
    table = publish(counts, ["ward", "age band", "sex"], "threshold")
    rows = table.csv_rows()
    assert rows[0] == ["ward", "0-4 / F", "0-4 / M", "5-10 / F", "Total"]
    assert rows[1] == ["W1", "12", "15", "0", "27"]
    assert rows[-1] == ["Total", "12", "15", "20", "47"]


def test_aggregate_export_is_counts_suppressed_encrypted_and_manifested(tmp_path):
    """[aggregate]: the rows never leave; the published table does, like any export."""
    import csv
    import io
    import json

    from pseudodesk.core.agreement.profile import parse_profile
    from pseudodesk.core.package.inspection import inspect_package

    _, table, mapping = fixture(tmp_path, ROWS * 2)
    aggregate = '[aggregate]\ndimensions = ["SEX", "POSTCODE"]\nrule = "threshold"\nthreshold = 3\n'
    profile = parse_profile((PROFILE.format(policy="blank", extra="") + aggregate).encode())
    result = run(profile, table, mapping, KEY_A, tmp_path / "out", name="counts")
    rows = list(
        csv.reader(io.StringIO(extract_7z(result.output, result.passphrase, tmp_path / "x").decode(), newline=""))
    )
    # Doubled fixture: F at LN1 1AA 8, LN1 9ZZ 2, LN2 2BB 4, LN2 3DD 2; M at PE1 1AA 6.
    assert rows[0] == ["SEX", "LN1 1AA", "LN1 9ZZ", "LN2 2BB", "LN2 3DD", "PE1 1AA", "Total"]
    assert rows[1][0] == "F" and rows[1][1] == "8" and rows[1][2] == "*" and rows[1][-1] == "16"
    assert rows[-1][0] == "Total" and rows[-1][-1] == "22"
    assert result.columns == rows[0] and result.rows_written == 3
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))["manifest"]
    assert manifest["output"]["kind"] == "aggregate"
    assert manifest["aggregate"]["rule"] == "threshold" and manifest["aggregate"]["cells_suppressed"] >= 2
    inspection = inspect_package(
        result.output, pinned_fingerprint=TEST_SIGNER.fingerprint, passphrase=result.passphrase
    )
    assert inspection.ok, [c for c in inspection.checks if not c.ok]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('[aggregate]\ndimensions = ["PERSON_ID"]\n', "not a kept output field"),
        ("[aggregate]\ndimensions = []\n", "must list the output fields"),
        ('[aggregate]\ndimensions = ["SEX"]\nrule = "round"\n', 'must be "threshold" or "nhs_digital"'),
        ('[aggregate]\ndimensions = ["SEX"]\nthreshold = 0\n', "1 or more"),
    ],
)
def test_aggregate_section_is_checked(section, message):
    from pseudodesk.core.agreement.profile import parse_profile
    from pseudodesk.core.errors import ProfileError

    with pytest.raises(ProfileError, match=message):
        parse_profile((PROFILE.format(policy="blank", extra="") + section).encode())
