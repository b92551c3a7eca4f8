"""pseudodesk-cli selftest --log: what the installers keep for IT, pass or fail."""

from __future__ import annotations

from pseudodesk.cli.main import main
from pseudodesk.core.run.selftest import SelfCheck, SelfTestResult


def test_a_passing_selftest_is_appended_to_the_log(tmp_path, capsys):
    log = tmp_path / "ProgramData" / "pseudodesk" / "install-selftest.log"
    assert main(["selftest", "--log", str(log)]) == 0
    assert main(["selftest", "--log", str(log)]) == 0
    text = log.read_text(encoding="utf-8")
    assert text.count(" self-test on ") == 2 and text.count(": passed\n") == 2
    assert "  ok     HMAC-SHA256" in text and "self-test passed in" in text


def test_a_failing_selftest_fails_and_says_why_in_the_log(tmp_path, capsys, monkeypatch):
    broken = SelfTestResult([SelfCheck("CMS AES-256", False, "decryption gave other bytes", 0.01)])
    monkeypatch.setattr("pseudodesk.core.run.selftest.run_selftest", lambda: broken)
    log = tmp_path / "install-selftest.log"
    assert main(["selftest", "--log", str(log)]) == 1
    text = log.read_text(encoding="utf-8")
    assert ": FAILED\n" in text and "  FAILED CMS AES-256 (10 ms): decryption gave other bytes" in text
    assert "self-test FAILED: do not export with this installation" in capsys.readouterr().out


def test_a_log_that_cannot_be_written_does_not_change_the_result(tmp_path, capsys):
    (tmp_path / "file").write_text("a file where a folder should be")
    assert main(["selftest", "--log", str(tmp_path / "file" / "install-selftest.log")]) == 0
    assert "cannot be written" in capsys.readouterr().err
