"""The column engine gives exactly what the row-by-row definitions give.

- Arrow's CSV reader vs the csv module: same rows, same line numbers, same shape findings;
  files Arrow cannot read exactly fall back to the csv module.
- Workbooks as text columns vs cell_text + ShapeScan row by row.
- Rule kernels (NHS number, postcode) vs the rule's own check, value by value.
- CSV joined column by column vs CsvEncoder; batch HMAC vs one HMAC per value.
- Whole exports: one batch, many batches, Arrow or csv-module reading: the same bytes and report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.model import KeyRef, Recipient
from pseudodesk.core.agreement.profile import load_profile
from pseudodesk.core.conventions import CONVENTIONS
from pseudodesk.core.conventions.base import STATUS_CODES
from pseudodesk.core.conventions.identifiers import check_nhs_number, check_nhs_numbers
from pseudodesk.core.conventions.places import check_postcode, check_postcodes
from pseudodesk.core.conventions.text import check_uk_phone, check_uk_phones
from pseudodesk.core.package.csv_output import CsvEncoder, OutputColumn, csv_bytes
from pseudodesk.core.read import csv_arrow
from pseudodesk.core.read.cells import cell_text
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.read.table import ShapeScan, shape_rows
from pseudodesk.core.resources import resource_path
from pseudodesk.core.run.check import check
from pseudodesk.core.transform.pseudonym import ProjectKey, Pseudonymiser
from tests.helpers import decrypt_cms, run

KEY = ProjectKey("k", bytes(range(32)))


def csv_module_table(path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs):
    """The same file read without Arrow (the reference path)."""
    with monkeypatch.context() as m:
        m.setattr(csv_arrow, "arrow_csv", lambda *a, **k: None)
        table = read_table(path, **kwargs)
    assert table.reader == "csv"  # the switch took: the csv module's path read it
    return table


def column_rows(table, batch_size: int = 3) -> list[tuple[int, list[str]]]:
    out = []
    for batch in table.iter_column_batches(batch_size):
        rows = batch.to_rows()
        out.extend(zip(rows.lines, rows.rows))
    return out


CLEAN_FILES = {
    "crlf": b'Name,NHS No,Note\r\n"Smith, J",943 476 5919,"said ""hi"""\r\nJones,9434765919,\r\n',
    "lf-no-final-newline": b"Name,NHS No,Note\nA,1,x\nB,2,y",
    "cr-only": b"Name,NHS No,Note\rA,1,x\rB,2,y\r",
    "bom": b"\xef\xbb\xbfName,NHS No,Note\r\nA,1,caf\xc3\xa9\r\n",
    "semicolons": b"Name;NHS No;Note\r\nA;1;x,y\r\nB;2;z\r\n",
    "trailing-empty-columns": b"Name,NHS No,Note,,\r\nA,1,x,,\r\nB,2,y,,\r\n",
    "quote-quirks": b'Name,NHS No,Note\r\nA,x"y,"a"b\r\nB, "q",\r\n',
    "crlf-and-lf": b"Name,NHS No,Note\r\nA,1,x\nB,2,y\r\n",
    "cp1252": "Name,NHS No,Note\r\nA,1,caf\u00e9 \u20ac\r\n".encode("cp1252"),
}
FALLBACK_FILES = {
    "value-spans-lines": b'Name,NHS No,Note\r\nA,1,"two\r\nlines"\r\nB,2,y\r\n',
    "blank-row": b"Name,NHS No,Note\r\nA,1,x\r\n,,\r\nB,2,y\r\n",
    "empty-line": b"Name,NHS No,Note\r\nA,1,x\r\n\r\nB,2,y\r\n",
    "short-row": b"Name,NHS No,Note\r\nA,1\r\nB,2,y\r\n",
    "lone-cr-and-lf": b"Name,NHS No,Note\rA,1,x\nB,2,y\r\n",
}


@pytest.mark.parametrize("name", sorted(CLEAN_FILES))
def test_arrow_reads_clean_files_exactly_as_the_csv_module(tmp_path, monkeypatch, name):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(CLEAN_FILES[name])
    fast = read_table(path)
    reference = csv_module_table(path, monkeypatch)
    assert fast._column_source is not None, "expected the Arrow path"
    assert (fast.header, fast.row_count, fast.encoding, fast.issues) == (
        reference.header,
        reference.row_count,
        reference.encoding,
        reference.issues,
    )
    assert column_rows(fast) == list(reference.iter_rows()) == list(fast.iter_rows())


@pytest.mark.parametrize("name", sorted(FALLBACK_FILES))
def test_files_arrow_cannot_read_exactly_go_through_the_csv_module(tmp_path, monkeypatch, name):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(FALLBACK_FILES[name])
    table = read_table(path)
    reference = csv_module_table(path, monkeypatch)
    assert table._column_source is None
    assert (table.row_count, table.issues) == (reference.row_count, reference.issues)
    assert column_rows(table) == list(reference.iter_rows())


def test_ragged_rows_are_still_refused_with_their_lines(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_bytes(b"Name,NHS No\r\nA,1\r\nB,2,extra\r\n")
    with pytest.raises(Exception) as caught:
        read_table(path)
    assert type(caught.value).__name__ == "RaggedRows" and "3" in str(caught.value)


def test_a_file_that_is_not_utf8_after_the_first_mebibyte_is_read_as_the_csv_module_reads_it(tmp_path, monkeypatch):
    path = tmp_path / "late.csv"
    body = b"".join(b"A%d,%d\r\n" % (i, i) for i in range(120_000))  # > 1 MiB of ASCII
    path.write_bytes(b"Name,Value\r\n" + body + "Caf\u00e9,1\r\n".encode("cp1252"))
    table = read_table(path)
    reference = csv_module_table(path, monkeypatch)
    assert table.encoding == reference.encoding == "cp1252"
    assert column_rows(table, 50_000)[-1] == (120_002, ["Caf\u00e9", "1"])


# --- workbooks -------------------------------------------------------------------------


def test_workbook_text_columns_match_cell_text_row_by_row(tmp_path):
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    path = tmp_path / "mixed.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("People")
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, ["Name", "NHS", "DOB", "Flag"])
    sheet.write_row(1, 0, ["Ann", 9434765919, None, True])
    sheet.write_datetime(1, 2, dt.datetime(2001, 2, 3), dates)
    sheet.write_row(3, 0, ["Bob", "0123", 1.5])  # row 3 is blank; row 4 short of the Flag cell
    sheet.write_row(4, 0, ["", "", "", ""])
    sheet.write_row(5, 0, ["Cy", 12.0, "x", False])
    book.close()
    table = read_table(path)
    cells = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    scan = ShapeScan()
    rows = [(i + 1, [cell_text(v) for v in row]) for i, row in enumerate(cells) if i]
    for line, row in rows:
        scan.feed(line, row, 4)
    expected = list(shape_rows(rows, 4))
    assert table.row_count == scan.rows == 3
    assert table.issues == scan.finish(path)
    assert list(table.iter_rows()) == expected
    assert column_rows(table, 2) == expected
    assert expected[0][1] == ["Ann", "9434765919", "2001-02-03", "TRUE"]


# --- kernels ---------------------------------------------------------------------------


def verdict_rows(kernel, values):
    verdicts = kernel(pa.array(values, pa.string()))
    codes = {code: status for status, code in STATUS_CODES.items()}
    handled = [v for v, ok in zip(values, verdicts.handled.tolist()) if ok]
    return {
        v: (value, codes[int(s)], reason, bool(p))
        for v, value, s, reason, p in zip(
            handled, list(verdicts.values), verdicts.status.tolist(), list(verdicts.reasons), verdicts.plain.tolist()
        )
    }


def as_row(checked):
    return checked.value, checked.status, checked.reason, checked.plain


NHS_TEXT = st.one_of(
    st.from_regex(r"\A[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}\Z"),
    st.from_regex(r"\A999[0-9]{7}\Z"),
    st.from_regex(r"\A([0-9])\1{9}\Z"),
    st.text(alphabet="0123456789 -\u0663\t", max_size=14),
)


def test_the_nhs_number_kernel_handles_the_usual_spellings_and_leaves_the_rest():
    found = verdict_rows(
        check_nhs_numbers,
        ["9434765919", "943 476 5919", "943-476-5919", "9434765918", "1111111111", " 9434765919", "94347659", ""],
    )
    assert set(found) == {"9434765919", "943 476 5919", "943-476-5919", "9434765918", "1111111111"}
    assert found["943 476 5919"][:2] == ("9434765919", CONVENTIONS["nhs_number"].rule().check("943 476 5919").status)
    assert found["9434765918"][1].value == "invalid"


POSTCODE_TEXT = st.one_of(
    st.from_regex(r"\A[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}\Z"),
    st.from_regex(r"\A[A-Za-z0-9]{2,4} ?[0-9][A-Za-z]{2}\Z"),
    st.sampled_from(["GIR 0AA", "BFPO 1AB", "bfpo1ab", "ASCN 1ZZ", "SW1A 2AA", "sw1a2aa", "QA1 1AA", "  LN1 1AA"]),
    st.text(alphabet="ABCLNQSWZ019 \u00a0", max_size=9),
)


PHONE_TEXT = st.one_of(
    st.from_regex(r"\A0[1-9][0-9]{8,9}\Z"),
    st.from_regex(r"\A0[1-9][0-9]{2,4} [0-9]{3,4} ?[0-9]{0,4}\Z"),
    st.from_regex(r"\A0(1[0-9]{3}|7[0-9]{3}|20|11[0-9]|1[0-9]1|1534|1481|1624|800|300) ?[0-9]{5,7}\Z"),
    st.sampled_from(["07911 123456", "01522 55222", "07700 900123", "0800 1111", "01624 123456", "016977 2345"]),
    st.text(alphabet="0123456789 +()", max_size=14),
)


@pytest.mark.parametrize(
    "kernel, rule_check, text",
    [
        (check_nhs_numbers, check_nhs_number, NHS_TEXT),
        (check_postcodes, check_postcode, POSTCODE_TEXT),
        (check_uk_phones, check_uk_phone, PHONE_TEXT),
    ],
    ids=["nhs_number", "postcode", "uk_phone"],
)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_each_kernel_gives_what_its_rule_check_gives(kernel, rule_check, text, data):
    values = data.draw(st.lists(text, max_size=40))
    found = verdict_rows(kernel, values)
    for value, row in found.items():
        assert row == as_row(rule_check(value)), value


def test_the_postcode_kernel_handles_the_usual_spellings():
    found = verdict_rows(check_postcodes, ["LN1 1AA", "ln11aa", "SW1A 2AA", "QA1 1AA", "LN1  1AA", "LN1 1AA "])
    assert set(found) == {"LN1 1AA", "ln11aa", "SW1A 2AA", "QA1 1AA"}
    assert found["ln11aa"][:2] == ("LN1 1AA", check_postcode("ln11aa").status)
    assert found["QA1 1AA"][1].value == "invalid"


# --- CSV by column, HMAC in batches ---------------------------------------------------

CELL = st.one_of(st.text(max_size=8), st.sampled_from(["", "=1+1", "-5", "@x", '"q"', "a,b", "x\r\ny", "\t1"]))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda width: st.lists(st.lists(st.tuples(CELL, st.booleans()), min_size=width, max_size=width), max_size=12)
    )
)
def test_csv_joined_by_column_is_what_csv_encoder_writes(rows):
    width = len(rows[0]) if rows else 1
    columns = [OutputColumn([row[j][0] for row in rows], [row[j][1] for row in rows], None) for j in range(width)]
    encoder = CsvEncoder([f"H{j}" for j in range(width)])
    header = encoder.encode([])
    expected = encoder.encode([[c for c, _ in row] for row in rows], [[p for _, p in row] for row in rows])
    assert header + csv_bytes(columns, len(rows)) == header + expected


def test_csv_by_column_follows_the_codes():
    column = OutputColumn(["a", "b,c"], [False, False], np.array([1, 0, 1], dtype=np.int32))
    assert csv_bytes([column], 3) == b'"b,c"\r\na\r\n"b,c"\r\n'


TEXT_CHARACTERS = st.characters(blacklist_characters="\x1f", blacklist_categories=("Cs",))  # files decode strictly


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.text(alphabet=TEXT_CHARACTERS, max_size=6), min_size=1, max_size=3), max_size=10).filter(
        lambda xs: len({len(x) for x in xs}) <= 1
    )
)
def test_batch_pseudonyms_equal_one_hmac_per_value(items):
    pseudonymiser = Pseudonymiser(KEY, "PERSON_ID")
    assert pseudonymiser.many(items) == [pseudonymiser(values) for values in items]


def test_batch_pseudonyms_meet_the_known_answer_and_refuse_the_separator():
    pseudonymiser = Pseudonymiser(KEY, "PERSON_ID")
    assert pseudonymiser.many([["9434765919"]]) == ["67C1932687588B9CF156532654908FECACA4464BFAD7D9DD31F97B2650B611BC"]
    with pytest.raises(ValueError):
        pseudonymiser.many([["a\x1fb"]])


# --- whole exports ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    from benchmarks.data import write_csv

    return write_csv(tmp_path_factory.mktemp("extract") / "people.csv", 3000, seed=7)


def lcp_profile(mode: str = "cms"):
    from pseudodesk.core.resources import DEMO_CERTIFICATE

    profile = replace(load_profile(resource_path("profiles", "lincolnshire-lcp-scorecard.toml")), key=KeyRef())
    if mode == "7z":
        return replace(profile, recipient=Recipient("passphrase"))
    return replace(profile, recipient=Recipient("certificate", (resource_path(*DEMO_CERTIFICATE),)))


def report_facts(report):
    return (
        report.rows,
        report.rows_written,
        report.truncated,
        report.blank_outputs,
        report.rejects,
        {f: (s.counts, s.decision, s.problems, s.notices) for f, s in report.fields.items()},
    )


def test_batched_export_equals_the_single_batch_export_byte_for_byte(tmp_path, extract, monkeypatch):
    """Arrow reading in batches of 1,000 (and 7) rows, and the csv module in one batch: same CSV, same report.

    Arrow's blocks are made 16 KiB here (about 150 rows), so a batch of 1,000 rows is put
    together from several blocks and a batch of 7 is cut from one, as in a real run."""
    profile = lcp_profile()
    monkeypatch.setattr(csv_arrow, "ARROW_BLOCK_BYTES", 16 << 10)
    table = read_table(extract)
    sizes = [b.num_rows for b in table.iter_column_batches(1000, [0])]
    assert sizes[:-1] == [1000] * (len(sizes) - 1) and sum(sizes) == table.row_count  # across blocks
    assert table._column_source is not None
    mapping = suggest_mapping(profile, table.header, table.preview(200))
    common = dict(allow_demo_recipient=True, accept_expired=True, name="x")
    batched = run(profile, table, mapping, KEY, tmp_path / "a", batch_size=1000, **common)
    tiny = run(profile, table, mapping, KEY, tmp_path / "b", batch_size=7, **common)
    reference = csv_module_table(extract, monkeypatch)
    single = run(profile, reference, mapping, KEY, tmp_path / "c", batch_size=10_000_000, **common)
    assert batched.csv_sha256 == tiny.csv_sha256 == single.csv_sha256
    assert report_facts(batched.report) == report_facts(tiny.report) == report_facts(single.report)
    assert single.report.fields["nhs_number"].counts["invalid"] > 0  # the extract has work for the checks


def test_column_engine_output_is_the_row_by_row_definition(tmp_path, extract):
    """Every written cell is the rule's own check of the source cell (or its pseudonym)."""
    import csv
    import io

    from pseudodesk.core.resources import DEMO_PRIVATE_KEY

    profile = lcp_profile()
    table = read_table(extract)
    mapping = suggest_mapping(profile, table.header, table.preview(200))
    result = run(profile, table, mapping, KEY, tmp_path, allow_demo_recipient=True, accept_expired=True, name="x")
    written = list(csv.reader(io.StringIO(decrypt_cms(result.output, resource_path(*DEMO_PRIVATE_KEY)).decode())))
    source = list(csv.reader(io.StringIO(extract.read_text(encoding="utf-8"))))
    header = source[0]
    nhs, postcode = header.index("NHS No"), header.index("Postcode")
    rule = CONVENTIONS["postcode"].rule()
    pseudonymiser = Pseudonymiser(KEY, "PERSON_ID")
    assert written[0] == profile.output_names
    for row, out in zip(source[1:], written[1:]):
        checked = check_nhs_number(row[nhs])
        assert out[0] == (pseudonymiser([checked.value]) if checked.value else "")
        assert out[profile.output_names.index("POST CODE")] == rule.check(row[postcode]).value
    assert len(written) == len(source) and hashlib.sha256(b"").hexdigest() != result.csv_sha256


def test_check_follows_the_same_engine(extract, monkeypatch):
    profile = lcp_profile()
    table = read_table(extract)
    mapping = suggest_mapping(profile, table.header, table.preview(200))
    seen: list[list[str]] = []
    report = check(profile, table, mapping, batch_size=500, on_rows=seen.extend)
    reference = check(profile, csv_module_table(extract, monkeypatch), mapping, batch_size=10_000)
    assert report_facts(report) == report_facts(reference)
    assert len(seen) == report.rows_written == 3000
