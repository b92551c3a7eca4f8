"""Aggregate counts with small-number suppression: primary, complementary suppression audited by
linear programming, and NHS Digital rounding."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from pseudodesk.core.transform.aggregate import SUPPRESSED, audit, count, exposed, publish
from pseudodesk.core.transform.table_audit import audit_grid
from tests.helpers import KEY_A, PROFILE, ROWS, TEST_SIGNER, extract_7z, fixture, run


def table_of(grid: dict[tuple[str, str], int]) -> Counter[tuple[str, ...]]:
    return Counter({key: n for key, n in grid.items() if n})


def test_threshold_hides_one_to_ten_and_shows_zero_and_eleven():
    counts = table_of({("A", "x"): 11, ("A", "y"): 10, ("B", "x"): 25, ("B", "y"): 30, ("C", "x"): 40, ("C", "y"): 0})
    table = publish(counts, ["ward", "sex"], "threshold")
    # A/y (10) is primary. The cheapest rectangle that lets it shift by 10 is A/x, B/x, B/y
    # (11 + 25 + 30; the one through C would hide a published zero): along it A/y can go down
    # by min(10, 25) and up by min(11, 30).
    assert table.csv_rows() == [
        ["ward", "x", "y", "Total"],
        ["A", "*", "*", "21"],
        ["B", "*", "*", "55"],
        ["C", "40", "0", "40"],
        ["Total", "76", "40", "116"],
    ]
    assert (table.primary, table.secondary, table.protection_level) == (1, 3, 10)
    assert audit(table) == {
        ("cell", "A", ("x",)): (0, 21),
        ("cell", "A", ("y",)): (0, 21),
        ("cell", "B", ("x",)): (15, 36),
        ("cell", "B", ("y",)): (19, 40),
    }
    assert exposed(table) == []


# The hand-made 5 x 5 table: wards A-E by age groups 1-5.
WARDS = [[3, 4, 5, 20, 25], [5, 6, 30, 22, 18], [25, 30, 11, 12, 40], [35, 28, 14, 13, 30], [40, 33, 27, 24, 45]]


def ward_counts() -> Counter[tuple[str, ...]]:
    return Counter({(f"Ward {'ABCDE'[i]}", str(j + 1)): n for i, row in enumerate(WARDS) for j, n in enumerate(row)})


def line_check_pattern() -> list[list[str]]:
    """What a row/column-at-a-time secondary suppression publishes for WARDS: the five small cells
    (A/1-3, B/1-2), then, because column 3 had one hidden cell, C/3, which left row C with one,
    so C/4, then D/4 for column 4 and D/3 for row D. Every row, column and total has 0 or 2+
    hidden cells, so no single subtraction gives one away; all totals are published."""
    hidden = {(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3)}
    grid = [[SUPPRESSED if (i, j) in hidden else str(n) for j, n in enumerate(row)] for i, row in enumerate(WARDS)]
    for i, row in enumerate(WARDS):
        grid[i].append(str(sum(row)))
    grid.append([str(sum(row[j] for row in WARDS)) for j in range(5)] + [str(sum(map(sum, WARDS)))])
    return grid


def single_unknown_lines(grid: list[list[str]]) -> list[int]:
    """The old check: lines (rows, then columns, with their totals) with exactly one hidden entry."""
    lines = grid + [list(column) for column in zip(*grid)]
    return [n for n, line in enumerate(lines) if line.count(SUPPRESSED) == 1]


def test_the_5x5_example_leaks_under_the_line_check_and_the_audit_finds_it():
    """Ward A / 3 = 12 + 11 - 8 - 10 = 5, from published numbers only: what rows A and B leave
    hidden (A/1 + A/2 + A/3 = 57 - 20 - 25 = 12; B/1 + B/2 = 81 - 30 - 22 - 18 = 11) less what
    columns 1 and 2 leave hidden among rows A and B (A/1 + B/1 = 108 - 25 - 35 - 40 = 8;
    A/2 + B/2 = 101 - 30 - 28 - 33 = 10)."""
    grid = line_check_pattern()
    assert line_check_publish(ward_counts()) == grid
    assert single_unknown_lines(grid) == []  # the old check saw nothing to subtract
    hidden_row_a = int(grid[0][5]) - int(grid[0][3]) - int(grid[0][4])
    hidden_row_b = int(grid[1][5]) - sum(int(grid[1][j]) for j in (2, 3, 4))
    hidden_column_1 = int(grid[5][0]) - sum(int(grid[i][0]) for i in (2, 3, 4))
    hidden_column_2 = int(grid[5][1]) - sum(int(grid[i][1]) for i in (2, 3, 4))
    assert (hidden_row_a, hidden_row_b, hidden_column_1, hidden_column_2) == (12, 11, 8, 10)
    assert hidden_row_a + hidden_row_b - hidden_column_1 - hidden_column_2 == 5 == WARDS[0][2]
    ranges = audit_grid(grid, "threshold")
    assert ranges[(0, 2)] == (5, 5)  # the audit pins Ward A / 3 down exactly
    assert ranges == {
        (0, 0): (0, 7),
        (0, 1): (0, 7),
        (0, 2): (5, 5),
        (1, 0): (1, 8),
        (1, 1): (3, 10),
        (2, 2): (0, 23),
        (2, 3): (0, 23),
        (3, 2): (2, 25),
        (3, 3): (2, 25),
    }


def test_the_5x5_example_is_protected_now():
    table = publish(ward_counts(), ["ward", "age"], "threshold")
    assert table.csv_rows() == [
        ["ward", "1", "2", "3", "4", "5", "Total"],
        ["Ward A", "*", "*", "*", "*", "25", "57"],
        ["Ward B", "*", "*", "30", "22", "18", "81"],
        ["Ward C", "*", "30", "*", "*", "40", "118"],
        ["Ward D", "35", "28", "14", "13", "30", "120"],
        ["Ward E", "40", "33", "27", "24", "45", "169"],
        ["Total", "108", "101", "87", "91", "158", "545"],
    ]
    assert (table.primary, table.secondary) == (5, 4)
    ranges = audit(table)
    # Column 3 leaves 87 - 30 - 14 - 27 = 16 for A/3 and C/3 together; row C's hidden 48 lets C/3
    # take all of it, so A/3 can be anything from 0 to 16.
    assert ranges[("cell", "Ward A", ("3",))] == (0, 16)
    assert min(high - low for low, high in ranges.values()) == 10  # A/2 and B/2: 0-10
    assert exposed(table) == []


def random_tables(seed: int, n: int):
    rng = random.Random(seed)
    made = 0
    while made < n:
        rows, columns = rng.randint(1, 6), rng.randint(1, 6)
        counts: Counter[tuple[str, ...]] = Counter()
        for i in range(rows):
            for j in range(columns):
                if rng.random() < 0.5:
                    value = rng.choice([0, 0, 1, 2, 3, 5, 7, 8, 10, 11, 12, 15, 20, 30, 50])
                else:
                    value = rng.randint(0, 40)
                if value:
                    counts[(f"r{i}", f"c{j}")] = value
        if counts:
            made += 1
            yield counts


@pytest.mark.parametrize(("rule", "small", "starred"), [("threshold", 10, 284), ("nhs_digital", 7, 262)])
def test_no_suppressed_count_of_300_random_tables_can_be_narrowed_below_the_protection_level(rule, small, starred):
    checked = tables_with_stars = 0
    for counts in random_tables(2026, 300):
        table = publish(counts, ["a", "b"], rule)
        grid = table.grid()
        ranges = audit_grid(grid, rule)  # the intruder's view: the published text alone
        tables_with_stars += bool(ranges)
        for (i, j), (low, high) in ranges.items():
            assert high - low >= table.protection_level == small, (counts, grid, (i, j))
            checked += 1
        for (r, c), n in counts.items():
            if 1 <= n <= small:
                assert table.cells[(r, (c,))] == SUPPRESSED
    assert tables_with_stars == starred and checked > 4 * starred


def line_check_publish(counts: Counter[tuple[str, ...]]) -> list[list[str]]:
    """The threshold rule with row/column-at-a-time secondary suppression only: while a row or
    column of the extended grid has exactly one hidden entry, hide its smallest visible non-zero
    one (a zero, then the total, when nothing else is left)."""
    table = publish(counts, ["a", "b"], "threshold", protection_level=1)
    values = [[0] * (len(table.column_keys) + 1) for _ in range(len(table.row_keys) + 1)]
    for (r, c), n in counts.items():
        i, j = table.row_keys.index(r), table.column_keys.index((c,))
        for a, b in ((i, j), (i, -1), (-1, j), (-1, -1)):
            values[a][b] += n
    height, width = len(values), len(values[0])
    hidden = {(i, j) for i in range(height) for j in range(width) if 1 <= values[i][j] <= 10}
    lines = [[(i, j) for j in range(width)] for i in range(height)]
    lines += [[(i, j) for i in range(height)] for j in range(width)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(p in hidden for p in line) == 1:
                visible = [p for p in line[:-1] if p not in hidden]
                pick = [p for p in visible if values[p[0]][p[1]] > 0] or visible or [line[-1]]
                hidden.add(min(pick, key=lambda p: (values[p[0]][p[1]], p)))
                changed = True
    return [[SUPPRESSED if (i, j) in hidden else str(values[i][j]) for j in range(width)] for i in range(height)]


def test_the_line_check_leaks_in_some_of_the_300_random_tables():
    """The same tables published with the line check alone: the audit narrows cells in some."""
    leaking = exact = 0
    for counts in random_tables(2026, 300):
        grid = line_check_publish(counts)
        assert single_unknown_lines(grid) == []
        widths = [high - low for low, high in audit_grid(grid, "threshold").values()]
        leaking += any(w < 10 for w in widths)
        exact += any(w == 0 for w in widths)
    assert (leaking, exact) == (98, 3)


@pytest.mark.parametrize("level", [3, 15])
def test_the_protection_level_is_the_profile_s(level):
    table = publish(ward_counts(), ["ward", "age"], "threshold", protection_level=level)
    assert table.protection_level == level
    assert min(high - low for low, high in audit(table).values()) >= level
    assert exposed(table, level + 100) != []


def test_nhs_digital_stars_one_to_seven_and_rounds_the_rest_to_five():
    grid = {("A", "x"): 3, ("A", "y"): 3, ("A", "z"): 3, ("B", "x"): 8, ("B", "y"): 12, ("B", "z"): 13}
    table = publish(table_of(grid), ["ward", "sex"], "nhs_digital")
    # Row A's three stars and its total 9 -> 10 (7-11 as published)... each star could be only
    # 0 to 5 from column x (11 -> 10, B/x 8 -> 10), so B's cells are starred too: each of A's
    # is then 0 to 9.
    assert table.csv_rows() == [
        ["ward", "x", "y", "z", "Total"],
        ["A", "*", "*", "*", "10"],
        ["B", "*", "*", "*", "35"],
        ["Total", "10", "15", "15", "40"],
    ]
    assert (table.primary, table.secondary, table.protection_level) == (3, 3, 7)
    assert audit(table) == {
        ("cell", "A", ("x",)): (0, 9),
        ("cell", "A", ("y",)): (0, 9),
        ("cell", "A", ("z",)): (0, 9),
        ("cell", "B", ("x",)): (0, 12),
        ("cell", "B", ("y",)): (4, 17),
        ("cell", "B", ("z",)): (4, 17),
    }


def test_nhs_digital_rounding_alone_lets_a_star_be_narrowed_and_the_audit_protects_it():
    """A/x = 1 under the plain rule: row A's total 11 and A/y 10 both show as 10 (8-12), so A/x is
    0-4; with column x the same. The audit sees it and stars more."""
    plain = [["*", "10", "10"], ["10", "10", "20"], ["10", "20", "30"]]
    assert audit_grid(plain, "nhs_digital") == {(0, 0): (0, 4)}
    counts = table_of({("A", "x"): 1, ("A", "y"): 10, ("B", "x"): 10, ("B", "y"): 10})
    table = publish(counts, ["a", "b"], "nhs_digital")
    assert table.csv_rows() == [
        ["a", "x", "y", "Total"],
        ["A", "*", "*", "10"],
        ["B", "*", "*", "20"],
        ["Total", "10", "20", "30"],
    ]
    assert audit(table)[("cell", "A", ("x",))] == (0, 12)
    assert exposed(table) == []


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
    # Rows are counted (the fixture repeats four NHS numbers; tests/core/test_people.py counts people).
    profile = parse_profile((PROFILE.format(policy="blank", extra='person = ""') + aggregate).encode())
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
    assert manifest["aggregate"]["protection_level"] == 3 and manifest["aggregate"]["audit"] == "linear-programming"
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
        ('[aggregate]\ndimensions = ["SEX"]\nprotection_level = 0\n', "how wide the range"),
        ('[aggregate]\ndimensions = ["SEX"]\nprotection_level = "10"\n', "how wide the range"),
    ],
)
def test_aggregate_section_is_checked(section, message):
    from pseudodesk.core.agreement.profile import parse_profile
    from pseudodesk.core.errors import ProfileError

    with pytest.raises(ProfileError, match=message):
        parse_profile((PROFILE.format(policy="blank", extra="") + section).encode())


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads through /proc (Linux)")
def test_the_audit_leaves_no_solver_thread_running():
    """HiGHS's worker threads outlive a solve, and one still running when the interpreter exits
    can abort it ("terminate called without an active exception"): the audit runs single-threaded."""
    import numpy  # noqa: F401  (its own thread pool starts on import: counted before)

    from pseudodesk.core.transform.table_audit import TableAuditor

    before = len(list(Path("/proc/self/task").iterdir()))
    auditor = TableAuditor([["5", "6", "11"], ["7", "8", "15"], ["12", "14", "26"]], "threshold")
    for cell in ((0, 0), (0, 1), (1, 0), (1, 1)):
        auditor.hide(cell)
    assert auditor.range((0, 0)) == (0.0, 11.0)
    assert len(list(Path("/proc/self/task").iterdir())) == before
