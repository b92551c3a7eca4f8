"""CSV reader: encodings, delimiters, quoting, ragged rows and bad input, with exact outcomes."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from pseudodesk.core import errors
from pseudodesk.core.read.dispatch import read_table


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows(table) -> list[list[str]]:
    return [r for _, r in table.iter_rows()]


TEXT = "NHS No,Name,Town\r\n9434765919,Zoë Brontë,Hawes\r\n4505577104,Seán Ó Briain,Bath\r\n"


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("cp1252", b"", "cp1252"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
    ],
)
def test_encodings_are_detected_and_text_is_exact(tmp_path, encoding, prefix, expected):
    path = write(tmp_path, "people.csv", prefix + TEXT.encode(encoding))
    table = read_table(path)
    assert table.encoding == expected
    assert table.header == ("NHS No", "Name", "Town")  # no BOM left on the first header
    assert rows(table) == [["9434765919", "Zoë Brontë", "Hawes"], ["4505577104", "Seán Ó Briain", "Bath"]]


def test_cp1252_is_reported_as_an_assumption(tmp_path):
    table = read_table(write(tmp_path, "p.csv", "a,b\r\n£5,é\r\n".encode("cp1252")))
    assert rows(table) == [["£5", "é"]]
    assert any(i.kind == "assumption" and "Windows-1252" in i.message for i in table.issues)


def test_mixed_utf8_and_cp1252_is_refused_with_line_numbers(tmp_path):
    data = "a,b\n1,Zoë\n".encode() + "2,Brontë\n".encode("cp1252")
    with pytest.raises(errors.EncodingProblem) as info:
        read_table(write(tmp_path, "mixed.csv", data))
    assert "line 2 is UTF-8" in str(info.value) and "line 3 is not" in str(info.value)
    assert "mixed.csv" in str(info.value)


def test_bytes_undefined_in_cp1252_are_refused(tmp_path):
    with pytest.raises(errors.EncodingProblem, match="line 2 is neither UTF-8 nor Windows-1252"):
        read_table(write(tmp_path, "odd.csv", b"a,b\n1,\x81\x8d\n"))


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path, delimiter):
    text = delimiter.join(["NHS No", "DOB", "Notes"]) + "\n"
    text += delimiter.join(["9434765919", "29/11/1973", '"a, b; c | d"']) + "\n"
    text += delimiter.join(["4505577104", "01/02/2003", "plain"]) + "\n"
    table = read_table(write(tmp_path, "d.csv", text.encode()))
    assert table.delimiter == delimiter
    assert rows(table) == [["9434765919", "29/11/1973", "a, b; c | d"], ["4505577104", "01/02/2003", "plain"]]


@pytest.mark.parametrize(
    ("data", "header_row", "delimiter"),
    [
        (b"Patient list, November\nName;NHS;DOB\nSmith;1;2\nJones;3;4\n", 2, ";"),
        (b"Patient list\n\nName;NHS;DOB\nSmith;1;2\n", 3, ";"),
        (b"Export, all sites\nName\tNHS\tDOB\nSmith, J\t1\t2\n", 2, "\t"),
    ],
)
def test_the_delimiter_is_sniffed_from_the_header_row_down(tmp_path, data, header_row, delimiter):
    """A title line above the header decided it: 'Patient list' split on commas and the file
    came out one column wide."""
    table = read_table(write(tmp_path, "t.csv", data), header_row=header_row)
    assert table.delimiter == delimiter
    assert table.header == ("Name", "NHS", "DOB")


def test_decimal_commas_in_a_semicolon_file_do_not_win_a_tie(tmp_path):
    """Both delimiters split every line in two; the comma won by coming first."""
    table = read_table(write(tmp_path, "w.csv", b"Patient;Weight, kg\nSmith;70,5\nJones;81,2\n"))
    assert table.delimiter == ";"
    assert rows(table) == [["Smith", "70,5"], ["Jones", "81,2"]]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_excels_sep_line_sets_the_delimiter_and_is_not_a_row(tmp_path, bom):
    """Excel writes 'sep=;' as the first line for other locales and reads it as an instruction.
    It was read as the header, and the file refused as ragged."""
    data = bom + b'sep=;\r\nName;NHS;Town\r\nSmith;9434765919;"Hull, East"\r\nJones;4505577104;York\r\n'
    table = read_table(write(tmp_path, "sep.csv", data))
    assert table.delimiter == ";"
    assert table.header == ("Name", "NHS", "Town")
    assert list(table.iter_rows()) == [(3, ["Smith", "9434765919", "Hull, East"]), (4, ["Jones", "4505577104", "York"])]
    assert table.row_count == 2
    (note,) = table.issues
    assert note.kind == "assumption" and "sep=;" in note.message and "semicolon" in note.message
    assert read_table(write(tmp_path, "sep2.csv", data), header_row=2).header == ("Smith", "9434765919", "Hull, East")


def test_line_numbers_after_a_sep_line_are_the_files(tmp_path):
    data = b'sep=,\nName,NHS\nSmith,1\nJones,"2\nBrown,3\n'
    with pytest.raises(errors.NotASpreadsheet, match="line 4"):
        rows(read_table(write(tmp_path, "q.csv", data)))


def test_quoted_fields_with_commas_quotes_and_newlines(tmp_path):
    data = b'id,address,note\n1,"1 High St, Lincoln","He said ""hi"""\n2,"Flat 2\r\nMill Lane","x"\n3,last,row'
    table = read_table(write(tmp_path, "q.csv", data))
    assert rows(table) == [
        ["1", "1 High St, Lincoln", 'He said "hi"'],
        ["2", "Flat 2\r\nMill Lane", "x"],
        ["3", "last", "row"],  # no final newline: the last row is kept
    ]
    # line numbers are where each record starts, counting the embedded line break
    assert [line for line, _ in table.iter_rows()] == [2, 3, 5]
    assert table.row_count == 3


def test_short_rows_are_padded_and_reported_with_line_numbers(tmp_path):
    table = read_table(write(tmp_path, "s.csv", b"a,b,c\n1,2,3\n4,5\n6\n7,8,9\n"))
    assert rows(table) == [["1", "2", "3"], ["4", "5", ""], ["6", "", ""], ["7", "8", "9"]]
    issue = next(i for i in table.issues if i.kind == "short_rows")
    assert issue.lines == (3, 4)


def test_long_rows_with_data_are_refused_with_line_numbers(tmp_path):
    with pytest.raises(errors.RaggedRows) as info:
        read_table(write(tmp_path, "r.csv", b"a,b\n1,2\n3,4,5\n6,7\n8,9,10,11\n"))
    assert info.value.lines == [3, 5]
    assert "line(s) 3, 5" in str(info.value) and "r.csv" in str(info.value)


def test_trailing_empty_cells_are_not_ragged(tmp_path):
    table = read_table(write(tmp_path, "t.csv", b"a,b\n1,2,,\n3,4,\n"))
    assert rows(table) == [["1", "2"], ["3", "4"]]
    assert table.issues == []


def test_blank_rows_are_skipped_and_reported(tmp_path):
    table = read_table(write(tmp_path, "b.csv", b"a,b\n1,2\n\n,\n3,4\n"))
    assert rows(table) == [["1", "2"], ["3", "4"]]
    assert next(i for i in table.issues if i.kind == "blank_rows").lines == (3, 4)


def test_header_row_choice_and_renamed_headers(tmp_path):
    data = b"Extract for November\n\nNHS No,,Name,Name\n1,2,3,4\n"
    table = read_table(write(tmp_path, "h.csv", data), header_row=3)
    assert table.header == ("NHS No", "Column 2", "Name", "Name (2)")
    assert rows(table) == [["1", "2", "3", "4"]]
    assert {i.kind for i in table.issues} == {"renamed_headers"}


def test_identifiers_stay_as_written(tmp_path):
    table = read_table(write(tmp_path, "i.csv", b"nhs,zip,code\n9434765919,01234,007\n"))
    assert rows(table) == [["9434765919", "01234", "007"]]


def test_missing_file(tmp_path):
    with pytest.raises(errors.SourceNotFound, match="nope.csv: the file does not exist"):
        read_table(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    with pytest.raises(errors.EmptyFile, match="empty.csv: the file is empty"):
        read_table(write(tmp_path, "empty.csv", b""))


def test_only_blank_lines(tmp_path):
    with pytest.raises(errors.EmptyFile, match="only blank lines"):
        read_table(write(tmp_path, "blank.csv", b"\r\n\r\n  \r\n"))


def test_blank_header_row(tmp_path):
    with pytest.raises(errors.NoHeader, match="header row \\(line 1\\) is blank"):
        read_table(write(tmp_path, "nh.csv", b",,\n1,2,3\n"))


def test_header_row_past_the_end(tmp_path):
    with pytest.raises(errors.NoHeader, match="no row 5"):
        read_table(write(tmp_path, "short.csv", b"a,b\n1,2\n"), header_row=5)


def test_binary_junk_with_csv_extension(tmp_path):
    with pytest.raises(errors.NotASpreadsheet, match="binary data"):
        read_table(write(tmp_path, "junk.csv", b"\x00\x01\x02PK\x03\x04" * 50))


def test_unsupported_extension(tmp_path):
    with pytest.raises(errors.UnsupportedFormat, match="'.pdf' files are not supported"):
        read_table(write(tmp_path, "x.pdf", b"%PDF-1.4"))


def test_errors_are_distinct_reader_errors():
    kinds = [
        errors.SourceNotFound,
        errors.EmptyFile,
        errors.NoHeader,
        errors.NotASpreadsheet,
        errors.PasswordRequired,
        errors.WrongPassword,
        errors.RaggedRows,
        errors.EncodingProblem,
    ]
    assert len(set(kinds)) == len(kinds)
    assert all(issubclass(k, errors.ReaderError) for k in kinds)


def test_batches_cover_every_row_in_order(tmp_path):
    body = "".join(f"{i},{i * 2}\n" for i in range(1, 26))
    table = read_table(write(tmp_path, "n.csv", ("a,b\n" + body).encode()))
    batches = list(table.iter_batches(7))
    assert [len(b.rows) for b in batches] == [7, 7, 7, 4]
    assert [r[0] for b in batches for r in b.rows] == [str(i) for i in range(1, 26)]
    assert batches[1].lines[0] == 9


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_chunked_lines_are_the_lines_the_file_gives(tmp_path, newline, chunk):
    """text_lines must split exactly like iterating the file, whatever the chunk boundaries."""
    from pseudodesk.core.read.csv_text import text_lines

    body = newline.join(["a,b", '"x\r\ny",2', "", "last,\r", "tail"])
    path = tmp_path / "lines.csv"
    path.write_bytes(body.encode("utf-8"))
    with path.open("r", encoding="utf-8", newline="") as f:
        expected = list(f)
    with path.open("r", encoding="utf-8", newline="") as f:
        assert list(text_lines(f, chunk)) == expected


def test_preview_reads_the_first_rows_without_the_whole_file_pass(tmp_path):
    """A preview shows the first rows at once; only the whole read finds a ragged row far below,
    and the pipeline refuses to run on a preview."""
    from pseudodesk.core.agreement.mapping import suggest_mapping
    from pseudodesk.core.agreement.profile import parse_profile
    from pseudodesk.core.errors import RaggedRows, ReaderError
    from pseudodesk.core.run.check import check

    path = tmp_path / "big.csv"
    path.write_text("NHS Number,Sex\n" + "943 476 5919,F\n" * 50_000 + "4505577104,M,extra\n", encoding="utf-8")
    preview = read_table(path, preview_only=True)
    assert preview.row_count == -1 and preview.header == ("NHS Number", "Sex")
    assert preview.preview(3) == [["943 476 5919", "F"]] * 3
    with pytest.raises(RaggedRows):
        read_table(path)
    profile = parse_profile(b"""
format = "pseudodesk-profile/1"
[agreement]
name = "P"
version = "1"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
aliases = ["NHS Number"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs_number"
""")
    with pytest.raises(ReaderError, match="only the first rows were read"):
        check(profile, preview, suggest_mapping(profile, preview.header))


@pytest.mark.parametrize("preview_only", [False, True])
@pytest.mark.parametrize(
    ("data", "line"),
    [
        # a quote opens "Flat 3 and is never closed: every later line would become part of that value
        (b'id,address,town\n1,Mill Lane,Bath\n2,"Flat 3,Hull\n3,High St,York\n4,Low Rd,Ely\n', 3),
        (b'id,address,town\r\n1,Mill Lane,Bath\r\n2,"Flat 3,Hull\r\n', 3),  # on the last line
        (b'id,address,town\n1,Mill Lane,Bath\n2,"Flat 3,Hull', 3),  # and no final line break
        (b'"id,address,town\n1,Mill Lane,Bath\n', 1),  # in the header row
        (b'id,address,town\n1,"a ""quoted"" word,Bath\n2,x,y\n', 2),  # doubled quotes, still open
    ],
)
def test_a_quote_that_is_never_closed_is_refused_not_swallowing_the_rows_after_it(tmp_path, data, line, preview_only):
    """With the csv module's non-strict reading, a value whose opening quote is never closed runs
    to the end of the file: the rows after it silently became one cell of a short row."""
    with pytest.raises(errors.NotASpreadsheet) as info:
        table = read_table(write(tmp_path, "open.csv", data), preview_only=preview_only)
        rows(table)
    message = str(info.value)
    assert f"line {line}" in message and "never closed" in message and "open.csv" in message


def test_a_closed_quote_on_the_last_line_is_still_read(tmp_path):
    table = read_table(write(tmp_path, "ok.csv", b'id,address\n1,"Flat 3\nMill Lane"\n2,"last, row"'))
    assert rows(table) == [["1", "Flat 3\nMill Lane"], ["2", "last, row"]]


@pytest.mark.parametrize("line_break_inside", [False, True])  # Arrow's path, then the csv module's
def test_values_far_longer_than_the_csv_modules_default_limit_are_read_whole(tmp_path, line_break_inside):
    """The csv module refuses a field over 128 KiB by default; a database export's free-text
    column can hold more. Values up to csv_text.MAX_VALUE_CHARS are read exactly."""
    from pseudodesk.core.read.csv_text import MAX_VALUE_CHARS

    long = "case note " * 150_000 + ("\nsecond paragraph" if line_break_inside else "")
    assert 1 << 20 < len(long) < MAX_VALUE_CHARS
    text = f'NHS No,Notes,Town\n9434765919,"{long}",Hawes\n4505577104,short,Bath\n'
    table = read_table(write(tmp_path, "notes.csv", text.encode()))
    assert rows(table) == [["9434765919", long, "Hawes"], ["4505577104", "short", "Bath"]]
    assert table.row_count == 2


def test_a_value_past_the_limit_is_refused_with_its_line_and_the_likely_cause(tmp_path, monkeypatch):
    """Past the limit (usually a quote left open near the top of a large file) the error names
    the line the value starts on, not only the csv module's 'field larger than field limit'."""
    from pseudodesk.core.read import csv_text

    monkeypatch.setattr(csv_text, "MAX_VALUE_CHARS", 1000)
    body = "".join(f"{i},Mill Lane {i},Bath\n" for i in range(200))
    data = f'id,address,town\n1,x,y\n2,"Flat 3,Hull\n{body}'.encode()
    with pytest.raises(errors.NotASpreadsheet) as info:
        rows(read_table(write(tmp_path, "big.csv", data)))
    message = str(info.value)
    assert "line 3" in message and "longer than" in message and "quote" in message
    assert "field limit" not in message


def test_blank_and_short_rows_past_the_listed_thousand_are_all_counted(tmp_path):
    """The report lists the first 1,000 line numbers but must count every row (it said 1000)."""
    body = "1,2,3\n" + "\n" * 1500 + "4,5\n" * 1200 + "6,7,8\n"
    table = read_table(write(tmp_path, "gaps.csv", ("a,b,c\n" + body).encode()))
    assert table.row_count == 1202
    blank = next(i for i in table.issues if i.kind == "blank_rows")
    short = next(i for i in table.issues if i.kind == "short_rows")
    assert blank.message == "1,500 completely blank row(s) skipped (the first 1,000 listed)"
    assert blank.lines[:2] == (3, 4) and len(blank.lines) == 1000
    assert short.message.startswith("1,200 row(s) had fewer cells than the header")
    assert short.lines[0] == 1503 and len(short.lines) == 1000


@pytest.mark.parametrize("preview_only", [False, True])
@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"\xef\xbb\xbfa,b\n1,caf\xe9\n", 2),  # a UTF-8 mark, then Windows-1252 text
        (b"\xef\xbb\xbfPr\xe9nom,NHS\n1,2\n", 1),  # ... in the header row only
        ("a,b\r\n1,2\r\n".encode("utf-16") + b"x", 3),  # UTF-16 with an odd byte at the end
        ("a,b\r\n1,".encode("utf-16") + b"\x00\xd8" + "\r\n3,4\r\n".encode("utf-16-le"), 2),  # a lone surrogate
    ],
)
def test_text_that_is_not_what_its_byte_order_mark_says_is_refused_with_its_line(tmp_path, data, line, preview_only):
    """These raised UnicodeDecodeError (a traceback), or read a header with a replacement character."""
    with pytest.raises(errors.EncodingProblem) as info:
        table = read_table(write(tmp_path, "marked.csv", data), preview_only=preview_only)
        table.preview(10)
        rows(table)
    assert f"line {line}" in str(info.value) and "marked.csv" in str(info.value)


@pytest.mark.parametrize("whole_check", [True, False])
def test_text_past_the_first_mib_that_is_not_utf8_in_a_marked_file_is_refused(tmp_path, monkeypatch, whole_check):
    """The whole-file check refuses it; without that check (a file changed since), so does the
    csv module's strict decoding."""
    from pseudodesk.core.read import csv_arrow, encoding

    monkeypatch.setattr(csv_arrow, "arrow_csv", lambda *a, **k: None)  # the csv module's path
    calls = []
    if not whole_check:  # the looks before reading pass; the strict read fails and asks for the whole check
        checked = encoding._check_marked

        def passed_twice(path, codec, label, limit):
            calls.append(limit)
            return codec if len(calls) <= 2 else checked(path, codec, label, limit)

        monkeypatch.setattr(encoding, "_check_marked", passed_twice)
    body = "".join(f"{i},Mill Lane\n" for i in range(120_000))
    data = codecs.BOM_UTF8 + ("id,street\n" + body).encode() + b"120000,caf\xe9\n"
    assert len(data) > encoding.PREVIEW_BYTES
    with pytest.raises(errors.EncodingProblem, match="line 120002 is not UTF-8"):
        read_table(write(tmp_path, "late.csv", data))
    assert calls == ([] if whole_check else [encoding.PREVIEW_BYTES, None, None])


@pytest.mark.parametrize("end", ["", "\n"])
def test_a_line_break_in_a_value_gives_the_line_numbers_the_file_has_with_or_without_a_final_break(tmp_path, end):
    """Arrow's path took a file with one line break inside a value and none at the end (the
    line counts agreed by one) and numbered the row after it one line short."""
    table = read_table(write(tmp_path, "m.csv", f'a,b\n"x\ny",1\n2,3{end}'.encode()))
    assert [line for line, _ in table.iter_rows()] == [2, 4]
    batches = list(table.iter_column_batches(10, None))
    assert [int(n) for b in batches for n in b.lines] == [2, 4]


@pytest.mark.parametrize(
    ("header", "names"),
    [
        ("a,a,a (2)", ("a", "a (3)", "a (2)")),  # 'a (2)' was given twice: a mapping took the last
        ("A,a,b", ("A", "a (2)", "b")),
        ("x,,Column 2", ("x", "Column 2", "Column 2 (2)")),  # a blank cell's name that a header already has
        ("n,n,n", ("n", "n (2)", "n (3)")),
    ],
)
def test_renamed_headers_never_repeat_a_name(tmp_path, header, names):
    table = read_table(write(tmp_path, "h.csv", f"{header}\n1,2,3\n".encode()))
    assert table.header == names
    assert len({n.casefold() for n in table.header}) == 3


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        # closed by the next quoted value: text after the closing quote ("W) is not valid CSV
        (b'name,nhs,town,sex\n"Jones,1,Hull,F\nBrown,2,York,M\n"White",3,Ely,F\nGreen,4,Bath,M\n', "lines 2 to 4"),
        # closed cleanly further down: the lines inside the value are whole rows (3 delimiters each)
        (b'name,nhs,town,sex\n"Jones,1,Hull,F\nBrown,2,York,M\nWhite 12",3,Ely,F\nGreen,4,Bath,M\n', "lines 2 to 4"),
        (b'name,nhs,town,sex\nAnn,0,Leeds,F\n"Jones,1,Hull,F\nBrown",2,York,M\n', "lines 3 to 4"),
    ],
)
def test_a_stray_quote_closed_further_down_is_refused_not_merging_the_rows(tmp_path, data, lines):
    """The people on the swallowed lines silently vanished and the merged row carried the
    next person's NHS number."""
    with pytest.raises(errors.NotASpreadsheet) as info:
        rows(read_table(write(tmp_path, "stray.csv", data)))
    assert lines in str(info.value) and "typed by mistake" in str(info.value)


def test_values_over_several_lines_that_do_not_look_like_rows_are_read(tmp_path):
    data = (
        b'id,address,town,note\n1,"Flat 2, Mill Lane\r\nBracebridge",Lincoln,"said ""hi""\nthen left"\n'
        b'2,"x\ny",York,ok\n'
    )
    assert rows(read_table(write(tmp_path, "ok.csv", data))) == [
        ["1", "Flat 2, Mill Lane\r\nBracebridge", "Lincoln", 'said "hi"\nthen left'],
        ["2", "x\ny", "York", "ok"],
    ]


@pytest.mark.parametrize("arrow", [True, False])
def test_rows_of_only_whitespace_are_blank_rows(tmp_path, monkeypatch, arrow):
    """A row of spaces looks blank to anyone, and was exported as an all-empty record (Arrow's
    path), or read as a short row of one blank value (the csv module's)."""
    from pseudodesk.core.read import csv_arrow

    if not arrow:
        monkeypatch.setattr(csv_arrow, "arrow_csv", lambda *a, **k: None)
    data = "id,name,town\r\n1,Ann,Hull\r\n , \t,\u00a0\r\n   \r\n\u3000,Bob ,York\r\n".encode()
    table = read_table(write(tmp_path, "spaces.csv", data))
    assert table.reader == "csv"  # Arrow's reader declines a file with blank rows either way
    assert rows(table) == [["1", "Ann", "Hull"], ["\u3000", "Bob ", "York"]]  # values keep their spaces
    assert table.row_count == 2
    assert [(i.kind, i.lines) for i in table.issues] == [("blank_rows", (3, 4))]
    batches = list(table.iter_column_batches(columns=[0, 1, 2]))
    assert [line for b in batches for line in b.lines.tolist()] == [2, 5]


def test_whitespace_in_some_cells_of_a_row_is_not_a_blank_row(tmp_path, monkeypatch):
    """Arrow's path still takes a file whose rows have blank-looking cells but no blank row."""
    from pseudodesk.core.read import csv_arrow

    taken = []
    real = csv_arrow._arrow_scan
    monkeypatch.setattr(csv_arrow, "_arrow_scan", lambda *a: taken.append(real(*a)) or taken[-1])
    table = read_table(write(tmp_path, "ok.csv", "a,b\r\n ,x\r\ny, \r\n\u3000,\u00a0z\r\n".encode()))
    assert rows(table) == [[" ", "x"], ["y", " "], ["\u3000", "\u00a0z"]]
    assert taken == [3]
    read_table(write(tmp_path, "blank.csv", "a,b\r\n ,x\r\n\u3000,\u00a0\r\n".encode()))
    assert taken[-1] is None  # a blank row sends the file to the csv module, which reports it


def test_blank_text_is_exactly_what_str_strip_removes():
    """Arrow's test of a blank cell (an RE2 class) must agree with the csv-module path's
    ``str.strip`` on every code point, or the two paths would keep different rows."""
    import sys

    import pyarrow as pa
    import pyarrow.compute as pc

    from pseudodesk.core.read.table import BLANK_TEXT

    chars = [chr(i) for i in range(sys.maxunicode + 1) if not 0xD800 <= i < 0xE000]
    matched = pc.match_substring_regex(pa.array(chars), BLANK_TEXT).to_pylist()
    assert [c for c, m in zip(chars, matched) if m != (not c.strip())] == []
    assert pc.match_substring_regex(pa.array(["", " \u3000\t", " x ", "x"]), BLANK_TEXT).to_pylist() == [
        True,
        True,
        False,
        False,
    ]


def test_blank_rows_of_arrow_columns_agree_with_is_blank():
    import random

    import pyarrow as pa

    from pseudodesk.core.read.table import blank_rows, is_blank

    rng = random.Random(7)
    cells = ["", " ", "\u00a0", "\t ", "a", " b", None]
    table = [[rng.choice(cells) for _ in range(3)] for _ in range(2000)]
    columns = [pa.array([row[j] for row in table], pa.string()) for j in range(3)]
    expected = [is_blank([c or "" for c in row]) for row in table]
    assert blank_rows(columns, len(table)).tolist() == expected
    assert 100 < sum(expected) < 1900
    assert blank_rows([], 3).tolist() == [True, True, True]


@pytest.mark.parametrize("arrow", [True, False])
def test_values_under_a_trailing_blank_header_cell_get_a_named_column(tmp_path, monkeypatch, arrow):
    """A blank header cell above data is named; a trailing one was trimmed and its values
    refused as ragged. Past the header row's last cell, blank or not, a row is still ragged."""
    from pseudodesk.core.read import csv_arrow

    if not arrow:
        monkeypatch.setattr(csv_arrow, "arrow_csv", lambda *a, **k: None)
    table = read_table(write(tmp_path, "t.csv", b"id,name,,\r\n1,Ann,seen,\r\n2,Bob\r\n3,Cy,,\r\n"))
    assert table.header == ("id", "name", "Column 3")
    assert rows(table) == [["1", "Ann", "seen"], ["2", "Bob", ""], ["3", "Cy", ""]]
    assert [i.kind for i in table.issues] == ["renamed_headers", "short_rows"]
    assert "Column 3" in table.issues[0].message and table.issues[1].lines == (3,)
    with pytest.raises(errors.RaggedRows) as info:
        read_table(write(tmp_path, "r.csv", b"id,name,\r\n1,Ann,seen,x\r\n2,Bob\r\n"))
    assert info.value.lines == [2]


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE), ("utf-16-be", codecs.BOM_UTF16_BE)],
)
def test_utf32_and_big_endian_marks_are_read_as_marked(tmp_path, encoding, prefix):
    """UTF-32 little-endian starts with UTF-16's mark and was read as UTF-16 (every other
    character a NUL); big-endian was refused as binary data."""
    table = read_table(write(tmp_path, "wide.csv", prefix + TEXT.encode(encoding)))
    assert table.encoding == encoding[:6]
    assert table.header == ("NHS No", "Name", "Town")
    assert rows(table) == [["9434765919", "Zoë Brontë", "Hawes"], ["4505577104", "Seán Ó Briain", "Bath"]]
