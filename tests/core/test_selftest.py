"""The start-up self-test: known answers pass here, and a broken primitive is caught."""

from __future__ import annotations

import pytest

from pseudodesk.core.run import selftest


def test_everything_essential_passes_here():
    result = selftest.run_selftest()
    assert [c.name for c in result.checks] == [
        "HMAC-SHA256",
        "OpenPseudonymiser digest",
        "CMS AES-256",
        "7z AES-256",
        "Workbook readers",
        "UK phone numbering plan",
        "OS keyring",
    ]
    assert result.ok, result.failures()


@pytest.mark.performance
def test_the_essential_checks_take_under_one_and_a_half_seconds():
    result = selftest.run_selftest()
    assert sum(c.seconds for c in result.checks if c.essential) < 1.5  # about 0.6 s on the 2-core CI machine


def test_a_wrong_known_answer_fails_the_selftest(monkeypatch):
    from pseudodesk.core.transform import openpseudonymiser

    monkeypatch.setattr(openpseudonymiser, "digest", lambda values, salt: "0" * 64)
    result = selftest.run_selftest()
    assert not result.ok
    assert [c.name for c in result.failures()] == ["OpenPseudonymiser digest"]
    assert "known answer differs" in result.failures()[0].detail


def test_no_keyring_is_reported_but_not_a_failure(monkeypatch):
    monkeypatch.setattr(selftest, "keyring_available", lambda: False)
    result = selftest.run_selftest()
    keyring_check = result.checks[-1]
    assert result.ok and not keyring_check.ok and not keyring_check.essential


def test_a_broken_column_reader_fails_the_selftest(monkeypatch):
    import pyarrow as pa

    from pseudodesk.core.read import xlsx_arrow as xlsx_columns

    monkeypatch.setattr(xlsx_columns, "_number_texts", lambda numbers: pa.array(["9.43E+09"] * len(numbers)))
    result = selftest.run_selftest()
    assert [c.name for c in result.failures()] == ["Workbook readers"]
    assert "column reader (fastexcel) gave different text" in result.failures()[0].detail
