"""XLSX straight to Arrow text (fastexcel) gives exactly what the python-calamine path gives, or is not taken."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pseudodesk.core import errors
from pseudodesk.core.read import xlsx_arrow as xlsx_columns
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.read.xlsx_arrow import ArrowSheet, Refused, header_kinds

xlsxwriter = pytest.importorskip("xlsxwriter")


def calamine_table(path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs):
    """The same workbook read with python-calamine only (the reference path)."""
    with monkeypatch.context() as m:
        m.setattr(xlsx_columns, "read_columns", lambda *a, **k: None)
        table = read_table(path, **kwargs)
    assert table.reader == "calamine"  # the switch took: python-calamine read it
    return table


def everything(table):
    batches = []
    for batch in table.iter_column_batches(2):
        rows = batch.to_rows()
        batches.extend(zip(rows.lines, rows.rows))
    return table.header, table.row_count, table.issues, list(table.iter_rows()), batches


def fast_and_reference(path, monkeypatch, sheet="S", header_row=1):
    ArrowSheet(path.read_bytes(), sheet, header_row)  # raises Refused if the fast path is not taken
    return everything(read_table(path, header_row=header_row)), everything(
        calamine_table(path, monkeypatch, header_row=header_row)
    )


def refused(path, sheet="S", header_row=1) -> str:
    with pytest.raises(Refused) as info:
        ArrowSheet(path.read_bytes(), sheet, header_row)
    return str(info.value)


def book(path, write):
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("S")
    write(workbook, sheet)
    workbook.close()
    return path


def typed_sheet(workbook, sheet):
    dates = workbook.add_format({"num_format": "dd/mm/yyyy"})
    stamps = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
    hours = workbook.add_format({"num_format": "[h]:mm:ss"})
    sheet.write_row(2, 2, ["Name", "Score", "Born", "Seen", "Flag", "Waited", "", "Note", " Padded "])
    rows = [
        [
            "O'Brien, Se\u00e1n",
            9434765919,
            dt.date(1973, 11, 29),
            dt.datetime(2024, 5, 6, 7, 8, 9),
            True,
            1.25,
            None,
            '=HYPERLINK("x")',
            "  ",
        ],
        ["  lead", 0.1 + 0.2, dt.date(2000, 2, 29), dt.datetime(2024, 5, 6), False, 0.5, None, "", "x"],
        [None] * 9,
        ["Zo\u00eb\ttab", 1e15, None, None, None, None, None, None, None],
        ["caf\u00e9\r\nline", 1e16, dt.date(1900, 3, 1), None, True, 100.0, None, "\u00a0", None],
        ["", -0.0, None, None, None, None, None, None, None],
        ["x", 1234.25, None, None, None, None, None, None, None],
        ["y", -3.5e-7, None, None, None, None, None, None, None],
        ["z", 123456789012345.6, None, None, None, None, None, None, None],
    ]
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=2):
            if value is None:
                continue
            if c == 4 and isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, dates)
            elif c == 5:
                sheet.write_datetime(r, c, value, stamps)
            elif c == 7:
                sheet.write_number(r, c, value, hours)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write(r, c, value)
    sheet.write_formula(13, 2, "=1/0", None, "#DIV/0!")  # an error cell in the text column
    sheet.write_formula(14, 3, "=2", None, 2)


def test_typed_columns_read_as_the_calamine_path_reads_them(tmp_path, monkeypatch):
    path = book(tmp_path / "typed.xlsx", typed_sheet)
    fast, reference = fast_and_reference(path, monkeypatch, header_row=3)
    assert fast == reference
    header, rows, issues, lines, _ = fast
    assert header[:3] == ("Column A", "Column B", "Name")  # data from column C: A and B are there, blank
    assert lines[0] == (
        4,
        [
            "",
            "",
            "O'Brien, Se\u00e1n",
            "9434765919",
            "1973-11-29",
            "2024-05-06 07:08:09",
            "TRUE",
            "30:00:00",
            "",
            '=HYPERLINK("x")',
            "  ",
        ],
    )
    assert [row[3] for _, row in lines[:8]] == [
        "9434765919",
        "0.3",
        "1E+15",
        "1E+16",
        "0",
        "1234.25",
        "-3.5E-07",
        "123456789012346",
    ]
    assert [row[4] for _, row in lines[:4]] == ["1973-11-29", "2000-02-29", "", "1900-03-01"]
    assert ("blank_rows", (6, 13, 14)) in [(issue.kind, issue.lines) for issue in issues]


def test_text_sheet_with_blank_rows_and_a_late_header(tmp_path, monkeypatch):
    def write(workbook, sheet):
        sheet.write(0, 0, "Monthly extract")
        sheet.write_row(2, 0, ["NHS No", "Name", "", "Gap", "  "])
        for r in range(3, 40):
            if r % 7:
                sheet.write_row(r, 0, [f"943 476 {r:04d}", f"n{r}", "", "", ""])
        sheet.write(45, 1, "last")

    path = book(tmp_path / "text.xlsx", write)
    fast, reference = fast_and_reference(path, monkeypatch, header_row=3)
    assert fast == reference
    assert fast[0] == ("NHS No", "Name", "Column C", "Gap")
    assert fast[3][-1] == (46, ["", "last", "", ""])


def test_cells_beyond_the_header_are_ragged_rows_on_both_paths(tmp_path, monkeypatch):
    def write(workbook, sheet):
        sheet.write_row(0, 0, ["a", "b"])
        sheet.write_row(1, 0, ["1", "2"])
        sheet.write_row(2, 0, ["3", "4", "5"])
        sheet.write_row(3, 0, ["5", "6", "\u3000 "])  # blank to str.strip: not ragged

    path = book(tmp_path / "ragged.xlsx", write)
    ArrowSheet(path.read_bytes(), "S", 1)
    with pytest.raises(errors.RaggedRows) as fast:
        read_table(path)
    with pytest.raises(errors.RaggedRows) as reference:
        calamine_table(path, monkeypatch)
    assert fast.value.lines == reference.value.lines == [3]


@pytest.mark.parametrize(
    "case, why",
    [
        ("mixed", "mix text and other cells"),
        ("mixed after the sample", "column contains"),
        ("number header", "header cell is not text"),
        ("date header", "header cell is not text"),
        ("duplicate header", "duplicate"),
        ("time of day", "before 1 March 1900"),
        ("fraction of a second", "fraction of a second"),
        ("blank header row", "header row is blank"),
        ("whitespace header row", "header row is blank"),
        ("date past 9999", "past 31 December 9999"),
        ("serial fastexcel cannot convert", "could not convert 1 cell"),
    ],
)
def test_what_the_fast_path_refuses_the_calamine_path_reads(tmp_path, monkeypatch, case, why):
    def write(workbook, sheet):
        stamps = workbook.add_format({"num_format": "hh:mm:ss.000"})
        header = {
            "number header": ["a", 2024],
            "duplicate header": ["a", "a"],
            "blank header row": [],
            "whitespace header row": ["  ", ""],
        }.get(case, ["a", "b"])
        sheet.write_row(1, 0, header)
        if case == "date header":
            sheet.write_datetime(1, 1, dt.datetime(2024, 1, 1), stamps)
        sheet.write_row(2, 0, ["x", 1.5])
        sheet.write_row(3, 0, ["y", "text" if case == "mixed" else 2.5])
        if case == "mixed after the sample":
            sheet.write_row(2 + xlsx_columns.SAMPLE_ROWS, 0, ["z", "text"])
        if case == "time of day":
            sheet.write_datetime(2, 1, dt.datetime(2024, 1, 1), stamps)
            sheet.write_number(3, 1, 0.5, stamps)
        if case in ("date past 9999", "serial fastexcel cannot convert"):
            sheet.write_datetime(2, 1, dt.datetime(2024, 1, 1), stamps)
            sheet.write_number(3, 1, 2958466 if case == "date past 9999" else 1e10, stamps)
        if case == "fraction of a second":
            sheet.write_datetime(2, 1, dt.datetime(2024, 1, 1), stamps)
            sheet.write_datetime(3, 1, dt.datetime(2024, 1, 1, 1, 2, 3, 500_000), stamps)
        sheet.write(0, 0, "title")

    path = book(tmp_path / "refused.xlsx", write)
    assert why in refused(path, header_row=2)
    if case in ("blank header row", "whitespace header row"):
        with pytest.raises(errors.NoHeader):
            read_table(path, header_row=2)
        return
    table = read_table(path, header_row=2)
    assert everything(table) == everything(calamine_table(path, monkeypatch, header_row=2))


def test_header_kinds_reads_the_header_row_and_samples_the_rows_below(tmp_path):
    def write(workbook, sheet):
        sheet.write_row(0, 0, ["title"])
        sheet.write_row(3, 1, ["x", 1, True])
        sheet.write_formula(3, 5, '="y"', None, "y")
        sheet.write_row(4, 1, ["y", "text", 2, None, None, "=1/0"])
        sheet.write_row(5, 1, [1, "text", 3])

    path = book(tmp_path / "kinds.xlsx", write)
    assert header_kinds(path.read_bytes(), "S", 4) == ({1: "s", 2: "n", 3: "b", 5: "str"}, {1})
    assert header_kinds(path.read_bytes(), "S", 4, sample_rows=2) == ({1: "s", 2: "n", 3: "b", 5: "str"}, set())
    assert header_kinds(path.read_bytes(), "S", 2) == ({}, {1, 2})
    assert header_kinds(path.read_bytes(), "S", 99) == ({}, set())
    with pytest.raises(Refused):
        header_kinds(path.read_bytes(), "Nope", 1)


KINDS = {
    "text": st.text(
        alphabet=st.characters(blacklist_categories=["Cs", "Cc"]) | st.sampled_from("\t\r\n"), max_size=12
    ).filter(lambda s: not s.startswith("=")),
    "number": st.floats(allow_nan=False, allow_infinity=False, min_value=-1e20, max_value=1e20)
    | st.integers(-(10**16), 10**16).map(float),
    "bool": st.booleans(),
    "date": st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.sampled_from(sorted(KINDS)), st.integers(0, 2**32)), min_size=1, max_size=4),
    st.integers(1, 12),
    st.data(),
)
def test_generated_columns_of_one_kind_match_the_calamine_path(tmp_path, monkeypatch, kinds, rows, data):
    columns = [(kind, data.draw(st.lists(st.none() | KINDS[kind], min_size=rows, max_size=rows))) for kind, _ in kinds]

    def write(workbook, sheet):
        stamps = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        sheet.write_row(0, 0, [f"{kind} {i}" for i, (kind, _) in enumerate(columns)])
        for c, (kind, values) in enumerate(columns):
            for r, value in enumerate(values, start=1):
                if value is None:
                    continue
                if kind == "date":
                    sheet.write_datetime(r, c, value, stamps)
                elif kind == "text":
                    sheet.write_string(r, c, value)
                else:
                    sheet.write(r, c, value)

    path = book(tmp_path / "generated.xlsx", write)
    ArrowSheet(path.read_bytes(), "S", 1)  # one kind per column: the fast path is taken
    try:
        fast = everything(read_table(path))
    except errors.EmptyFile:
        return
    assert fast == everything(calamine_table(path, monkeypatch))
