"""pseudodesk-cli driven as partner staff drive it: wrong header rows, titles above the table,
guessed mappings and the wrong coding never export silently, and no cell text leaves."""

from __future__ import annotations

import json

import pytest

from pseudodesk.cli.main import main

PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Pilot extract"
version = "1"
[key]
id = "{key_id}"
fingerprint = "{fingerprint}"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
aliases = ["NHS Number", "NHS No"]
[[source_fields]]
id = "gender"
convention = "gender"
aliases = ["Sex"]
required = false
[[source_fields]]
id = "postcode"
convention = "postcode"
aliases = ["Post Code"]
required = false
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs_number"
[[output_fields]]
name = "GENDER"
role = "keep"
from = "gender"
[[output_fields]]
name = "POSTCODE"
role = "keep"
from = "postcode"
"""

NHS = ["9434765919", "4505577104", "9995522950", "9992499559"]
FIRST = ["Ann Smith", "943 476 5919", "SW1A 2AA"]


@pytest.fixture
def pilot(tmp_path, memory_keyring, private_data_dir, capsys):
    assert main(["keys", "create", "--name", "Pilot"]) == 0
    key_id = capsys.readouterr().out.strip()
    from pseudodesk.core.keys.store import list_keys

    (tmp_path / "profile.toml").write_text(PROFILE.format(key_id=key_id, fingerprint=list_keys()[0].fingerprint))
    return tmp_path


def _people(above: list[str] = (), header: str | None = "Name,NHS No,Sex,Post Code") -> str:
    rows = [f"{FIRST[0]},{FIRST[1]},F,{FIRST[2]}"]
    rows += [f"Person {i},{NHS[i % 4]},{'MF'[i % 2]},LN1 1AA" for i in range(1, 40)]
    return "\n".join([*above, *([header] if header else []), *rows]) + "\n"


def _run(tmp, source, *extra):
    return main(
        [
            "run",
            "--accept-unapproved-profile",
            "--profile",
            str(tmp / "profile.toml"),
            "--input",
            str(source),
            "--out",
            str(tmp / "out"),
            "--name",
            "x",
            *extra,
        ]
    )


def _no_first_person(text: str) -> None:
    for value in FIRST:
        assert value not in text


@pytest.mark.parametrize("above", [0, 1, 4, 10])
def test_titles_above_the_header_are_skipped_and_said(pilot, capsys, above):
    source = pilot / "people.csv"
    titles = ["Referrals, November", "", "Extracted by the data team", "01/11/2026"]
    source.write_text(_people([titles[i % 4] for i in range(above)]), encoding="utf-8")
    assert _run(pilot, source) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert f"header row: {above + 1} (" in err and "--header-row" in err


def test_a_header_row_set_one_too_low_is_refused_and_no_cell_text_leaves(pilot, capsys):
    source = pilot / "people.csv"
    source.write_text(_people(), encoding="utf-8")
    code = _run(pilot, source, "--header-row", "2")
    out = capsys.readouterr()
    assert code == 3
    assert "row 2 looks like a person's data" in out.err and "--header-row N" in out.err
    _no_first_person(out.out + out.err)
    assert not (pilot / "out").exists()


def test_a_headerless_csv_is_refused_naming_the_flag(pilot, capsys):
    source = pilot / "people.csv"
    source.write_text(_people(header=None), encoding="utf-8")
    assert _run(pilot, source) == 3
    err = capsys.readouterr().err
    assert "none of the first 20 rows looks like a row of column names" in err and "--header-row" in err
    _no_first_person(err)


def test_a_refused_header_leaves_no_cell_text_in_the_audit_log(pilot, capsys, private_data_dir):
    source = pilot / "people.csv"
    source.write_text(_people(), encoding="utf-8")
    assert _run(pilot, source, "--header-row", "2") == 3
    log = private_data_dir / "audit.jsonl"
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    _no_first_person(text)
    assert "9434765919" not in text


def test_a_mapping_guessed_from_values_alone_needs_confirming(pilot, capsys, private_data_dir):
    source = pilot / "people.csv"
    source.write_text(_people(header="Name,Ref,Sex,Post Code"), encoding="utf-8")  # NHS numbers under "Ref"
    assert _run(pilot, source) == 3
    out = capsys.readouterr()
    assert "'Ref' -> nhs_number (NEEDS CONFIRMING" in out.err
    assert "matched to the agreement from their values alone" in out.err and "--accept-suggested-mapping" in out.err
    assert not (pilot / "out").exists()
    assert _run(pilot, source, "--accept-suggested-mapping") == 0
    manifest = json.loads((pilot / "out" / "x.manifest.json").read_text())["manifest"]
    assert manifest["mapping"]["accepted_suggestions"] == ["nhs_number"]
    entries = [json.loads(line) for line in (private_data_dir / "audit.jsonl").read_text().splitlines()]
    export = [e for e in entries if e["event"] == "export"][-1]
    assert export["details"]["accepted_suggestions"] == ["nhs_number"]


def test_a_profile_alias_beats_a_guess_from_values(pilot, capsys):
    """A numeric column that values alone would call something else never takes a field whose
    own alias heads another column."""
    source = pilot / "people.csv"
    rows = [f"{NHS[i % 4]},{NHS[(i + 1) % 4]},{'MF'[i % 2]}" for i in range(40)]
    source.write_text("Previous Ref,NHS Number,Sex\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert _run(pilot, source) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "'NHS Number' -> nhs_number (suggested" in err and "'Previous Ref' -> nhs_number" not in err


def test_a_mapping_made_for_another_agreement_is_refused(pilot, capsys, private_data_dir):
    source = pilot / "people.csv"
    source.write_text(_people(), encoding="utf-8")
    mapping = pilot / "other.mapping.toml"
    mapping.write_text(
        'mapping_format = "pseudodesk-mapping/1"\nprofile = "Another agreement"\n[columns]\nnhs_number = "NHS No"\n'
    )
    assert _run(pilot, source, "--mapping", str(mapping)) == 3
    assert "made for the agreement 'Another agreement', not 'Pilot extract'" in capsys.readouterr().err
    entries = [json.loads(line) for line in (private_data_dir / "audit.jsonl").read_text().splitlines()]
    (failed,) = [e for e in entries if e["event"] == "export.failed"]
    assert failed["details"]["error"] == "MappingError" and "reason" not in failed["details"]  # it quotes columns


def test_a_sex_column_in_nhs_codes_blocks_with_the_scheme_named(pilot, capsys):
    source = pilot / "people.csv"
    rows = [f"{NHS[i % 4]},{'12'[i % 2]},LN1 1AA" for i in range(60)]
    source.write_text("NHS No,Sex,Post Code\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert _run(pilot, source) == 6
    err = capsys.readouterr().err
    assert "60 of 60 values in column 'Sex'" in err and "look like numeric sex codes" in err
    assert not (pilot / "out").exists()


def test_ask_password_without_a_terminal_is_a_clear_error(pilot, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    source = pilot / "people.csv"
    source.write_text(_people(), encoding="utf-8")
    assert _run(pilot, source, "--ask-password") == 3
    err = capsys.readouterr().err
    assert "--ask-password needs a terminal" in err and "PSEUDODESK_WORKBOOK_PASSWORD" in err


def test_an_existing_output_names_the_flags(pilot, capsys):
    source = pilot / "people.csv"
    source.write_text(_people(), encoding="utf-8")
    assert _run(pilot, source) == 0
    capsys.readouterr()
    assert _run(pilot, source) == 5
    assert "--overwrite" in capsys.readouterr().err


def test_a_missing_sheet_names_the_flag(pilot, capsys, demo_paths):
    code = main(
        [
            "check",
            "--profile",
            str(pilot / "profile.toml"),
            "--input",
            str(demo_paths["spreadsheet"]),
            "--sheet",
            "Nope",
            "--no-report",
        ]
    )
    assert code == 3 and "--sheet NAME" in capsys.readouterr().err
