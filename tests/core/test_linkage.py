"""Linkage keys over several fields, the linkage self-test, and source-side re-identification."""

from __future__ import annotations

import json

import pytest

from pseudodesk.core.agreement.mapping import suggest_mapping
from pseudodesk.core.agreement.profile import load_profile, parse_profile
from pseudodesk.core.errors import MappingError
from pseudodesk.core.keys.store import KeyStore
from pseudodesk.core.read.dispatch import read_table
from pseudodesk.core.resources import resource_path
from pseudodesk.core.run.linkage import key_report, linkage_selftest, read_pseudonym_list, reidentify
from pseudodesk.core.run.plan import Plan
from pseudodesk.core.transform.pseudonym import ProjectKey, pseudonym

ZERO_KEY = ProjectKey("zero", bytes(32))

# The published reference: the self-test under the all-zero test key. Any installation with the
# same normalisation rules prints this value for `linkage-test` with that key (docs/linkage.md).
ZERO_KEY_CHECK_VALUE = "E7AA-BD9B-3C79-B588"


def test_selftest_reference_value():
    result = linkage_selftest(ZERO_KEY)
    assert result.check_value == ZERO_KEY_CHECK_VALUE
    assert result.rows == 40 and result.fields[0] == "PERSON_ID"


def test_selftest_differs_with_another_key():
    assert linkage_selftest(ProjectKey("k", bytes(range(32)))).check_value != ZERO_KEY_CHECK_VALUE


def test_multi_field_linkage_key_normalises_each_input_first(tmp_path):
    profile = load_profile(resource_path("linkage", "linkage-selftest.toml"))
    (tmp_path / "a.csv").write_text(
        "Surname,Date of Birth,Postcode,NHS Number\n"
        "O'Brien,29/11/2010,ln1 1yl,9434765919\n"
        " o'brien ,2010-11-29,LN11YL,943 476 5919\n"
        "OBRIEN,29.11.2010,LN1 1YL,943-476-5919\n"
    )
    table = read_table(tmp_path / "a.csv")
    plan = Plan(profile, table, suggest_mapping(profile, table.header), ZERO_KEY)
    plan.survey(table, 100, lambda f, m: None, lambda: False, 0.0)
    rows, _ = plan.transform(next(table.iter_batches()))
    assert len({tuple(r) for r in rows}) == 1  # three spellings, one person, one set of pseudonyms
    assert rows[0][1] == pseudonym(ZERO_KEY, "LINK_SURNAME_DOB_POSTCODE", ["OBRIEN", "29/11/2010", "LN1 1YL"])


def _source(tmp_path):
    path = tmp_path / "source.csv"
    path.write_text("Name,NHS Number\nAnn,9434765919\nBob,4505577104\nCat,9434765919\nDan,\n")
    profile = parse_profile(b"""
format = "pseudodesk-profile/1"
[agreement]
name = "Families"
version = "1"
[recipient]
mode = "passphrase"
[[source_fields]]
id = "nhs"
convention = "nhs_number"
aliases = ["NHS Number"]
[[output_fields]]
name = "PERSON_ID"
role = "pseudonym"
from = "nhs"
""")
    table = read_table(path)
    return profile, table, suggest_mapping(profile, table.header)


def test_reidentify_finds_local_rows_with_current_or_retired_keys(tmp_path, memory_keyring):
    profile, table, mapping = _source(tmp_path)
    store = KeyStore()
    old = store.create("Families")
    old_key = store.load(old.id)
    flagged_under_old = pseudonym(old_key, "PERSON_ID", ["9434765919"])
    new = store.rotate(old.id)
    flagged_under_new = pseudonym(store.load(new.id), "PERSON_ID", ["4505577104"])
    keys = [store.load(k.id, purpose="reidentify") for k in store.lineage(new.id)]
    result = reidentify(
        profile, table, mapping, keys, "PERSON_ID", [flagged_under_old.lower(), flagged_under_new, "F" * 64]
    )
    assert sorted((m.line, m.key_id) for m in result.matches) == [(2, old.id), (3, new.id), (4, old.id)]
    assert result.asked == 3 and result.matched_pseudonyms == 2 and result.unmatched == {"F" * 64}
    assert result.matches[0].row[0] in ("Ann", "Bob", "Cat")


def test_reidentify_reports_each_key_and_warns_when_the_current_key_matched_nothing(tmp_path, memory_keyring):
    profile, table, mapping = _source(tmp_path)
    store = KeyStore()
    first = store.create("Families", agreement="Families")
    flagged_under_first = pseudonym(store.load(first.id), "PERSON_ID", ["9434765919"])
    # a later key that does not replace the first (imported on its own, not by rotation or an
    # agreement package): the first is not tried, and the look-up says so instead of finding nothing
    second = store.create("Families 2027", agreement="Families")
    keys = [store.load(k.id, purpose="reidentify") for k in store.lineage(second.id)]
    result = reidentify(profile, table, mapping, keys, "PERSON_ID", [flagged_under_first])
    assert result.matches == [] and result.keys_tried == [second.id] and result.matched_by_key == {second.id: 0}
    lines, warnings = key_report(result, store.lineage(second.id), store.keys())
    assert lines == [f"key {second.id} (current key): 0 pseudonym(s) matched"]
    (warning,) = warnings
    assert f"nothing matched under the current key {second.id}" in warning and first.id in warning
    assert "--key" in warning
    # once the current key matches, nothing is said about other keys
    flagged_under_second = pseudonym(keys[0], "PERSON_ID", ["4505577104"])
    result = reidentify(profile, table, mapping, keys, "PERSON_ID", [flagged_under_first, flagged_under_second])
    assert key_report(result, store.lineage(second.id), store.keys())[1] == []
    # after a rotation the retired key is tried, and matches under it are called out
    third = store.rotate(second.id)
    lineage = store.lineage(third.id)
    keys = [store.load(k.id, purpose="reidentify") for k in lineage]
    result = reidentify(profile, table, mapping, keys, "PERSON_ID", [flagged_under_second])
    assert [(m.line, m.key_id) for m in result.matches] == [(3, second.id)]
    lines, warnings = key_report(result, lineage, store.keys())
    assert lines[1].startswith(f"key {second.id} (retired ") and lines[1].endswith("1 pseudonym(s) matched")
    assert "made before the key was rotated" in warnings[0]
    assert first.id in warnings[1]  # still not tried: it shares the agreement but was never replaced


def test_reidentify_needs_a_pseudonym_field(tmp_path):
    profile, table, mapping = _source(tmp_path)
    with pytest.raises(MappingError, match="'NAME' is not a pseudonym field"):
        reidentify(profile, table, mapping, [ZERO_KEY], "NAME", [])


def test_pseudonym_lists(tmp_path):
    p = "A" * 64
    (tmp_path / "plain.txt").write_text(f"{p}\n{'B' * 64}\n")
    (tmp_path / "with-header.csv").write_text(f"family,PERSON_ID\n1,{p}\n")
    assert read_pseudonym_list(tmp_path / "plain.txt") == [p, "B" * 64]
    assert read_pseudonym_list(tmp_path / "with-header.csv", "PERSON_ID") == [p]
    with pytest.raises(MappingError, match="no column 'X'"):
        read_pseudonym_list(tmp_path / "with-header.csv", "X")
    assert json  # the module is used by the audit test below


def test_selftest_data_is_synthetic_test_range():
    table = read_table(resource_path("linkage", "linkage-selftest.csv"))
    nhs = table.header.index("NHS Number")
    assert all(row[nhs].replace(" ", "").replace("-", "").startswith("999") for _, row in table.iter_rows())
