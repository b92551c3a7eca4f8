"""Partner extracts in the shapes councils, trusts and schools send, through pseudodesk-cli as
partner staff would run it: no run exits 0 with a field over the invalid share or a guess from
values nobody confirmed, the header row is found whenever there is one, and no cell text ever
appears in a manifest or the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pseudodesk.cli.main import main

PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Partner trial"
version = "1"
[key]
id = "{key_id}"
fingerprint = "{fingerprint}"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
aliases = ["NHS No", "NHS Number"]
[[source_fields]]
id = "dob"
convention = "dob"
aliases = ["DOB", "Date of Birth"]
[[source_fields]]
id = "gender"
convention = "gender"
aliases = ["Sex", "Gender"]
[[source_fields]]
id = "ethnicity"
convention = "ethnicity"
aliases = ["Ethnicity", "Ethnicity Code"]
[[source_fields]]
id = "postcode"
convention = "postcode"
aliases = ["Postcode"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs_number"
[[output_fields]]
name = "DOB"
role = "keep"
from = "dob"
[[output_fields]]
name = "GENDER"
role = "keep"
from = "gender"
[[output_fields]]
name = "ETHNICITY"
role = "keep"
from = "ethnicity"
[[output_fields]]
name = "POSTCODE"
role = "keep"
from = "postcode"
"""

NHS = ["9434765919", "4505577104", "9995522950", "9992499559", "9990000018", "9990000026"]
POSTCODES = ["LN1 1AA", "PE21 6XX", "NG31 6TT", "DN15 7AB", "SW1A 2AA", "M59 5DA"]
NAMES = ["Ann Smithson", "Bob Jonesby", "Cat Brownlow", "Dan Greenway", "Eve Whitmore", "Fay Blackett"]


def people(count: int = 36, *, sexes=None, ethnicity=None) -> list[dict[str, str]]:
    out = []
    for i in range(count):
        out.append(
            {
                "Name": NAMES[i % 6] + f" {i}",
                "NHS No": NHS[i % 6],
                "Date of Birth": f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1980 + i % 30}",
                "Sex": (sexes or ["F", "M"])[i % len(sexes or ["F", "M"])],
                "Ethnicity": (ethnicity or ["1", "3", "17"])[i % len(ethnicity or ["1", "3", "17"])],
                "Postcode": POSTCODES[i % 6],
                "Year Group": str(7 + i % 5),
            }
        )
    return out


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str], *, above=(), header=True) -> Path:
    lines = list(above) + ([",".join(columns)] if header else [])
    lines += [",".join(f'"{r[c]}"' for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[dict[str, str]], columns: list[str], *, above=()) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Extract")
    for i, line in enumerate(above):
        sheet.write_row(i, 0, [line] if line else [])
    sheet.write_row(len(above), 0, columns)
    for i, row in enumerate(rows, start=len(above) + 1):
        sheet.write_row(i, 0, [row[c] for c in columns])
    book.close()
    return path


@pytest.fixture
def trial(tmp_path, memory_keyring, private_data_dir, capsys):
    assert main(["keys", "create", "--name", "Trial"]) == 0
    key_id = capsys.readouterr().out.strip()
    from pseudodesk.core.keys.store import list_keys

    (tmp_path / "profile.toml").write_text(PROFILE.format(key_id=key_id, fingerprint=list_keys()[0].fingerprint))
    return tmp_path


def run(tmp: Path, source: Path, *extra: str) -> int:
    args = [
        "run",
        "--accept-unapproved-profile",
        "--profile",
        str(tmp / "profile.toml"),
        "--input",
        str(source),
        "--out",
        str(tmp / "out"),
    ]
    return main([*args, "--name", source.stem, "--overwrite", *extra])


def no_cell_text_recorded(tmp: Path, data_dir: Path, rows: list[dict[str, str]]) -> None:
    """Grep every manifest and the audit log for every data value of the input."""
    recorded = (
        "".join(p.read_text(encoding="utf-8") for p in (tmp / "out").glob("*.manifest.json"))
        if (tmp / "out").exists()
        else ""
    )
    log = data_dir / "audit.jsonl"
    recorded += log.read_text(encoding="utf-8") if log.exists() else ""
    for row in rows:
        for column, value in row.items():
            if len(value) >= 4 and column != "Year Group":
                assert value not in recorded, f"{column} value found in a manifest or the audit log"
                assert json.dumps(value)[1:-1] not in recorded


COLUMNS = ["Name", "NHS No", "Date of Birth", "Sex", "Ethnicity", "Postcode"]
TITLES = ["Referrals to Early Help, November 2026", "", "Extracted 01/11/2026 by the data team", "Team: North", ""]


@pytest.mark.parametrize("above", [0, 1, 3, 5, 10])
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_titles_and_blank_rows_above_the_header(trial, private_data_dir, capsys, above, kind):
    rows = people()
    top = [TITLES[i % len(TITLES)] for i in range(above)]
    writer = write_csv if kind == "csv" else write_xlsx
    source = writer(trial / f"titles{above}.{kind}", rows, COLUMNS, above=top)
    assert run(trial, source) == 0, capsys.readouterr().err
    assert f"header row: {above + 1} (" in capsys.readouterr().err
    no_cell_text_recorded(trial, private_data_dir, rows)


def test_a_headerless_csv_never_exports(trial, private_data_dir, capsys):
    rows = people()
    assert run(trial, write_csv(trial / "headerless.csv", rows, COLUMNS, header=False)) == 3
    assert run(trial, write_csv(trial / "headerless.csv", rows, COLUMNS, header=False), "--header-row", "1") == 3
    no_cell_text_recorded(trial, private_data_dir, rows)


def test_a_header_row_set_one_too_low_never_exports(trial, private_data_dir, capsys):
    rows = people()
    assert run(trial, write_xlsx(trial / "low.xlsx", rows, COLUMNS, above=["Referrals"]), "--header-row", "3") == 3
    out = capsys.readouterr()
    assert "row 3 looks like a person's data" in out.err
    no_cell_text_recorded(trial, private_data_dir, rows)
    for value in rows[1].values():  # the person on row 3 is not printed either
        if len(value) >= 4 and value not in ("Year Group",):
            assert value not in out.err + out.out


def test_an_nhs_coded_sex_column_never_exports(trial, private_data_dir, capsys):
    rows = people(sexes=["1", "2"])
    assert run(trial, write_csv(trial / "coded.csv", rows, COLUMNS)) == 6
    assert "numeric sex codes" in capsys.readouterr().err
    no_cell_text_recorded(trial, private_data_dir, rows)


@pytest.mark.parametrize(
    "ethnicity",
    [
        ["WBRI", "MWBC", "AIND", "BCRB"],  # DfE codes: crosswalked to LCP
        ["White: English, Welsh, Scottish, Northern Irish or British", "Asian or Asian British: Indian"],  # ONS
    ],
)
def test_dfe_and_ons_ethnicity_are_read_through_their_crosswalks(trial, private_data_dir, capsys, ethnicity):
    rows = people(ethnicity=ethnicity)
    assert run(trial, write_csv(trial / "ethnicity.csv", rows, COLUMNS)) == 0, capsys.readouterr().err
    no_cell_text_recorded(trial, private_data_dir, rows)


def test_police_ethnicity_codes_export_as_their_lcp_codes_never_as_blanks(trial, private_data_dir, capsys):
    rows = people(ethnicity=["W1", "M3", "A1", "NS"])
    assert run(trial, write_csv(trial / "police.csv", rows, COLUMNS)) == 0, capsys.readouterr().err
    fields = json.loads((trial / "out" / "police.manifest.json").read_text())["manifest"]["checks"]["fields"]
    assert fields["ethnicity"]["invalid"] == 0 and fields["ethnicity"]["normalised"] == len(rows)
    assert "police self-defined codes" in fields["ethnicity"]["decision"]


def test_officer_observed_ethnicity_codes_never_export_as_blanks(trial, private_data_dir, capsys):
    rows = people(ethnicity=["IC1", "IC3", "IC4", "IC9"])
    assert run(trial, write_csv(trial / "police.csv", rows, COLUMNS)) == 6
    assert "police officer-observed ethnicity codes" in capsys.readouterr().err


def test_an_ambiguous_numeric_column_beside_the_real_ethnicity_column(trial, private_data_dir, capsys):
    rows = people()
    columns = ["Name", "NHS No", "Date of Birth", "Sex", "Year Group", "Ethnicity Code", "Postcode"]
    for row in rows:
        row["Ethnicity Code"] = row["Ethnicity"]
    source = trial / "school.csv"
    source.write_text(
        ",".join(columns) + "\n" + "\n".join(",".join(f'"{r[c]}"' for c in columns) for r in rows) + "\n",
        encoding="utf-8",
    )
    assert run(trial, source) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "'Ethnicity Code' -> ethnicity (suggested" in err and "'Year Group' -> ethnicity" not in err
    manifest = json.loads((trial / "out" / "school.manifest.json").read_text())["manifest"]
    assert manifest["checks"]["fields"]["ethnicity"]["column"] == "Ethnicity Code"
    assert "Year Group" in manifest["stripped_columns"]


def test_a_column_guessed_from_values_never_exports_unconfirmed(trial, private_data_dir, capsys):
    rows = people()
    columns = ["Name", "Ref", "Date of Birth", "Sex", "Ethnicity", "Postcode"]
    for row in rows:
        row["Ref"] = row["NHS No"]
    source = trial / "guessed.csv"
    source.write_text(
        ",".join(columns) + "\n" + "\n".join(",".join(f'"{r[c]}"' for c in columns) for r in rows) + "\n",
        encoding="utf-8",
    )
    assert run(trial, source) == 3
    assert "NEEDS CONFIRMING" in capsys.readouterr().err
    no_cell_text_recorded(trial, private_data_dir, rows)
