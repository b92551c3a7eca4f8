"""The whole run: acceptance items of the foundation issue, end to end on real files."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from pseudodesk.core.agreement.mapping import load_mapping, suggest_mapping
from pseudodesk.core.agreement.model import KeyRef
from pseudodesk.core.agreement.profile import load_profile, parse_profile
from pseudodesk.core.errors import Cancelled, ExportError, KeyProblem, ProfileError
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.run.check import check
from pseudodesk.core.run.demo import run_demo
from pseudodesk.core.transform.pseudonym import ProjectKey, pseudonym
from tests.helpers import KEY_A, decrypt_cms, extract_7z, parse_csv, run

KEY_B = ProjectKey("b", bytes(range(100, 132)))

PASSPHRASE_PROFILE = """
format = "pseudodesk-profile/1"
[agreement]
name = "Pilot extract"
version = "1"
review_date = 2099-12-31
[recipient]
mode = "passphrase"
[checks]
max_invalid_share = 1.0  # four people with problems on purpose: the policy, not the share, decides
[[source_fields]]
id = "nhs_number"
convention = "nhs_number"
aliases = ["NHS Number"]
[[source_fields]]
id = "postcode"
convention = "postcode"
[[source_fields]]
id = "gender"
convention = "gender"
aliases = ["Sex"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs_number"
[[output_fields]]
name = "POSTCODE"
role = "keep"
from = "postcode"
[[output_fields]]
name = "SEX"
role = "keep"
from = "gender"
"""

PEOPLE_CSV = (
    "Name,NHS Number,Postcode,Sex,Phone\n"
    "Ann Smith,943 476 5919,sw1a2aa,female,07911 123456\n"
    "Bob Jones,4505577104,M1 1AE,M,07911 123457\n"
    "Cat Brown,9876544321,B33 8TH,f,07911 123458\n"  # wrong check digit
    'Dan Green,,QA1 1AA,boy,=HYPERLINK("x")\n'  # no NHS number, invalid postcode
)


@pytest.fixture
def pilot(tmp_path):
    source = tmp_path / "people.csv"
    source.write_text(PEOPLE_CSV, encoding="utf-8")
    profile = parse_profile(PASSPHRASE_PROFILE.encode())
    table = read_table(source)
    return profile, table, suggest_mapping(profile, table.header)


def test_demo_output_opens_and_holds_only_the_profile_columns(tmp_path, demo_paths):
    result = run_demo(tmp_path / "out")
    assert result.output.name == "pseudodesk-demo.csv.p7m"
    plain = decrypt_cms(result.output, demo_paths["private_key"])
    rows = parse_csv(plain)
    assert rows[0] == ["PERSON_ID", "DOB", "GENDER", "POST CODE", "ETHNICITY"]
    assert len(rows) == 1 + 600  # every person, none dropped
    # nothing identifying from the stripped columns survives anywhere in the output
    source = read_table(demo_paths["spreadsheet"])
    cols = {name: i for i, name in enumerate(source.header)}
    text = plain.decode()
    cells = {c for row in rows[1:] for c in row}
    for _, row in source.iter_rows():
        for column in ("Forename", "Surname", "Address 1", "Phone", "Email"):
            assert row[cols[column]] not in cells
        for column in ("Phone", "Email", "Address 1"):
            assert row[cols[column]] not in text
        nhs_digits = "".join(ch for ch in row[cols["NHS No"]] if ch.isdigit())
        if nhs_digits:
            assert nhs_digits not in text
    assert all(len(r[0]) in (0, 64) for r in rows[1:])
    assert result.report.stripped_columns == [
        "Client Ref",
        "Forename",
        "Surname",
        "Address 1",
        "Address 2",
        "Town",
        "Phone",
        "Email",
        "School",
        "Notes",
    ]


def test_same_key_same_pseudonyms_different_key_none_match(tmp_path, pilot):
    profile, table, mapping = pilot
    first = run(profile, table, mapping, KEY_A, tmp_path / "1")
    second = run(profile, table, mapping, KEY_A, tmp_path / "2")
    other = run(profile, table, mapping, KEY_B, tmp_path / "3")
    ids = [
        [r[0] for r in parse_csv(extract_7z(res.output, res.passphrase, tmp_path / f"x{i}"))[1:]]
        for i, res in enumerate((first, second, other))
    ]
    assert ids[0] == ids[1]
    assert first.csv_sha256 == second.csv_sha256
    assert first.passphrase != second.passphrase  # each export gets its own passphrase
    real = [p for p in ids[0] if p]
    assert len(real) == 2
    assert not set(real) & set(ids[2])
    assert ids[0][0] == pseudonym(KEY_A, "PERSON_ID", ["9434765919"])  # normalised before hashing


def test_values_checked_normalised_and_blanked(tmp_path, pilot):
    profile, table, mapping = pilot
    result = run(profile, table, mapping, KEY_A, tmp_path)
    rows = parse_csv(extract_7z(result.output, result.passphrase, tmp_path / "x"))
    assert rows == [
        ["PERSON_ID", "POSTCODE", "SEX"],
        [pseudonym(KEY_A, "PERSON_ID", ["9434765919"]), "SW1A 2AA", "F"],
        [pseudonym(KEY_A, "PERSON_ID", ["4505577104"]), "M1 1AE", "M"],
        ["", "B33 8TH", "F"],
        ["", "", "M"],
    ]
    nhs = result.report.fields["nhs_number"]
    assert nhs.counts["invalid"] == 1 and nhs.counts["empty"] == 1
    assert [(p.line, p.reason) for p in nhs.problems] == [(4, "check digit is wrong (Modulus 11)")]
    assert result.report.blank_outputs == {"PERSON_ID": 2, "POSTCODE": 1, "SEX": 0}
    assert result.report.stripped_columns == ["Name", "Phone"]
    assert result.rows_written == 4


def test_batch_size_does_not_change_a_byte(tmp_path, demo_paths):
    profile = replace(load_profile(demo_paths["profile"]), key=KeyRef())
    mapping = load_mapping(demo_paths["mapping"])
    table = read_table(demo_paths["spreadsheet"])
    hashes = set()
    plains = []
    for size in (1, 7, 256, 1_000_000):
        res = run(
            profile,
            table,
            mapping,
            KEY_A,
            tmp_path / str(size),
            allow_demo_recipient=True,
            accept_expired=True,
            batch_size=size,
            name="x",
        )
        hashes.add(res.csv_sha256)
        plains.append(decrypt_cms(res.output, demo_paths["private_key"]))
    assert len(hashes) == 1
    assert plains[0] == plains[-1]


def test_cancel_leaves_nothing_behind(tmp_path, pilot):
    profile, table, mapping = pilot
    calls = iter(range(100))
    with pytest.raises(Cancelled):
        run(profile, table, mapping, KEY_A, tmp_path / "out", batch_size=1, cancel=lambda: next(calls) >= 2)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_cancel_during_encryption_leaves_nothing_behind(tmp_path, pilot):
    profile, table, mapping = pilot
    state = {"encrypting": False}

    def progress(fraction, message):
        state["encrypting"] = message == "Encrypting"

    with pytest.raises(Cancelled):
        run(profile, table, mapping, KEY_A, tmp_path / "out", progress=progress, cancel=lambda: state["encrypting"])
    assert not (tmp_path / "out").exists()  # nor the folder the run made


def test_existing_output_is_never_overwritten_unless_asked(tmp_path, pilot):
    profile, table, mapping = pilot
    first = run(profile, table, mapping, KEY_A, tmp_path, name="monthly")
    before = first.output.read_bytes()
    with pytest.raises(ExportError, match="monthly.7z already exists"):
        run(profile, table, mapping, KEY_A, tmp_path, name="monthly")
    assert first.output.read_bytes() == before
    again = run(profile, table, mapping, KEY_A, tmp_path, name="monthly", overwrite=True)
    assert again.output.read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monthly.7z", "monthly.manifest.json", "people.csv"]


def test_no_plaintext_reaches_the_disk(tmp_path, pilot):
    profile, table, mapping = pilot
    result = run(profile, table, mapping, KEY_A, tmp_path / "out")
    files = list((tmp_path / "out").rglob("*"))
    assert sorted(files) == sorted([result.output, result.manifest])
    manifest = result.manifest.read_text()
    for needle in ("SW1A", "4505577104", "9434765919", "Ann Smith", "07911"):
        assert needle not in manifest  # the manifest holds no personal data
    data = result.output.read_bytes()
    for needle in (b"PERSON_ID", b"SW1A", result.output.stem.encode() + b".csv"):
        assert needle not in data


def test_wrong_key_for_the_agreement_is_refused(tmp_path, pilot):
    profile, table, mapping = pilot
    bound = replace(profile, key=KeyRef("a", KEY_A.fingerprint))
    with pytest.raises(KeyProblem, match=f"not the key this agreement names \\(fingerprint {KEY_A.fingerprint}\\)"):
        run(bound, table, mapping, KEY_B, tmp_path)
    assert run(bound, table, mapping, KEY_A, tmp_path).key_fingerprint == KEY_A.fingerprint


def test_expired_agreement_is_refused_unless_confirmed(tmp_path, pilot):
    profile, table, mapping = pilot
    old = replace(profile, review_date=dt.date(2020, 1, 1))
    with pytest.raises(ProfileError, match="due for review on 01/01/2020"):
        run(old, table, mapping, KEY_A, tmp_path)
    assert run(old, table, mapping, KEY_A, tmp_path, accept_expired=True).rows_written == 4


def test_demo_certificate_is_refused_outside_the_demo(tmp_path, demo_paths):
    profile = replace(load_profile(demo_paths["profile"]), key=KeyRef())
    table = read_table(demo_paths["spreadsheet"])
    with pytest.raises(ExportError, match="DEMO recipient certificate"):
        run(profile, table, load_mapping(demo_paths["mapping"]), KEY_A, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_header_only_file_exports_nothing(tmp_path, pilot):
    profile, _, mapping = pilot
    (tmp_path / "h.csv").write_text("Name,NHS Number,Postcode,Sex\n")
    with pytest.raises(ExportError, match="no data rows"):
        run(profile, read_table(tmp_path / "h.csv"), mapping, KEY_A, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nor the folder the run made if (tmp_path / "out").exists() else True


def test_check_reports_without_writing(tmp_path, pilot):
    profile, table, mapping = pilot
    seen = []
    report = check(profile, table, mapping, progress=lambda f, m: seen.append(f))
    assert report.rows == 4 and report.fields["postcode"].counts["invalid"] == 1
    assert seen[-1] == 1.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["people.csv"]


def test_remembered_checks_change_neither_a_byte_nor_the_report(tmp_path, demo_paths, monkeypatch):
    """Each distinct value is checked once per column; output and report equal checking every cell."""
    from pseudodesk.core.check.memo import MemoCheck

    profile = replace(load_profile(demo_paths["profile"]), key=KeyRef())
    mapping = load_mapping(demo_paths["mapping"])
    table = read_table(demo_paths["spreadsheet"])
    remembered = run(
        profile, table, mapping, KEY_A, tmp_path / "memo", allow_demo_recipient=True, accept_expired=True, name="x"
    )
    original_init = MemoCheck.__init__
    monkeypatch.setattr(MemoCheck, "__init__", lambda self, rule, limit=0: original_init(self, rule, 0))
    every_cell = run(
        profile, table, mapping, KEY_A, tmp_path / "plain", allow_demo_recipient=True, accept_expired=True, name="x"
    )
    assert remembered.csv_sha256 == every_cell.csv_sha256
    for fid, stats in remembered.report.fields.items():
        other = every_cell.report.fields[fid]
        assert (stats.counts, stats.decision, stats.problems, stats.notices) == (
            other.counts,
            other.decision,
            other.problems,
            other.notices,
        )


def test_memory_replays_the_assumptions_a_check_counts():
    from pseudodesk.core.check.memo import MemoCheck
    from pseudodesk.core.conventions import CONVENTIONS

    values = ["01/02/03", "01/02/03", "2003-02-01", "01/02/03", "05/06/07"]
    plain_rule = CONVENTIONS["dob"].rule()
    memo_rule = CONVENTIONS["dob"].rule()
    memo = MemoCheck(memo_rule)
    assert [plain_rule.check(v) for v in values] == [memo(v) for v in values]
    assert memo_rule.notes == plain_rule.notes and sum(plain_rule.notes.values()) == 4


def test_7z_export_streams_and_matches_the_csv_a_whole_buffer_gives(tmp_path, pilot):
    """The 7z path compresses batch by batch; what 7-Zip extracts is byte for byte the CSV
    the same run makes in one batch, and its hash is the manifest's csv_sha256."""
    import hashlib

    profile, table, mapping = pilot
    streamed = run(profile, table, mapping, KEY_A, tmp_path / "a", batch_size=1, name="x")
    whole = run(profile, table, mapping, KEY_A, tmp_path / "b", batch_size=1_000_000, name="x")
    one = extract_7z(streamed.output, streamed.passphrase, tmp_path / "xa")
    other = extract_7z(whole.output, whole.passphrase, tmp_path / "xb")
    assert one == other and hashlib.sha256(one).hexdigest() == streamed.csv_sha256 == whole.csv_sha256


def test_cms_export_streams_into_its_file_and_leaves_only_its_two_files(tmp_path, demo_paths, monkeypatch):
    """Batch by batch into the streamed envelope, its ciphertext past the spool written straight
    into the export's temporary file (and moved along for the longer header): openssl gives
    back the CSV whose hash the manifest holds, and nothing but the export and its manifest is
    left; cancelling as the header is about to be written leaves nothing at all."""
    import hashlib

    from pseudodesk.core.package.crypto import cms

    monkeypatch.setattr(cms, "CMS_SPOOL_BYTES", 2048)
    monkeypatch.setattr(cms, "COPY_BLOCK", 512)
    profile = replace(load_profile(demo_paths["profile"]), key=KeyRef())
    mapping = load_mapping(demo_paths["mapping"])
    table = read_table(demo_paths["spreadsheet"])
    options = dict(allow_demo_recipient=True, accept_expired=True, batch_size=50, name="x")
    result = run(profile, table, mapping, KEY_A, tmp_path / "out", **options)
    plain = decrypt_cms(result.output, demo_paths["private_key"])
    assert len(plain) > 20_000 and hashlib.sha256(plain).hexdigest() == result.csv_sha256
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.csv.p7m", "x.manifest.json"]
    state = {"writing": False}

    def progress(fraction, message):
        state["writing"] = state["writing"] or message == "Writing the encrypted file"

    with pytest.raises(Cancelled):
        run(
            profile,
            table,
            mapping,
            KEY_A,
            tmp_path / "cancelled",
            progress=progress,
            cancel=lambda: state["writing"],
            **options,
        )
    assert not (tmp_path / "cancelled").exists()  # nor the folder the run made


@pytest.mark.parametrize(
    ("arrow", "change"),
    [
        (True, "short row"),  # Arrow's path skipped a row that had become short (the csv module's pads it)
        (True, "row added"),
        (True, "row removed"),
        (False, "row added"),
        (False, "row removed"),
    ],
)
def test_a_file_saved_again_after_loading_exports_nothing(tmp_path, pilot, monkeypatch, arrow, change):
    """The run reads the CSV again, and no path compared the rows it read with the rows the
    user loaded and checked."""
    from pseudodesk.core.errors import SourceChanged
    from pseudodesk.core.read import csv_arrow

    if not arrow:
        monkeypatch.setattr(csv_arrow, "arrow_csv", lambda *a, **k: None)
    profile, table, mapping = pilot
    table = read_table(table.path)
    assert (table._column_source is not None) == arrow
    lines = table.path.read_text(encoding="utf-8").splitlines(keepends=True)
    if change == "short row":
        lines[2] = lines[2].split(",")[0] + "\n"
    elif change == "row added":
        lines.append(lines[1])
    else:
        del lines[2]
    table.path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(SourceChanged, match="it has changed since"):
        run(profile, table, mapping, KEY_A, tmp_path / "out")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    with pytest.raises(SourceChanged):
        check(profile, table, mapping)
