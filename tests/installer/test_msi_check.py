"""The MSI's upgrade rules, read from its tables the way Windows Installer reads them (installer/msi_check.py)."""

from __future__ import annotations

import msi_check
import pytest
from msi_check import Tables, installing_over, problems

UPGRADE = msi_check.UPGRADE_CODE
PROPERTIES = {
    "ProductVersion": "1.2.3.57",
    "UpgradeCode": UPGRADE,
    "ProductCode": "{893879EB-994A-4F75-BDD6-6995C9B28727}",
    "ALLUSERS": "1",
    "SecureCustomProperties": "WIX_UPGRADE_DETECTED;WIX_DOWNGRADE_DETECTED",
}
SEQUENCE = [
    {"Action": a, "Condition": "", "Sequence": str(n)}
    for a, n in [
        ("FindRelatedProducts", 25),
        ("LaunchConditions", 100),
        ("InstallInitialize", 1500),
        ("RemoveExistingProducts", 1501),
        ("InstallFinalize", 6600),
    ]
]
REFUSAL = [{"Condition": "NOT WIX_DOWNGRADE_DETECTED", "Description": "A newer version of pseudodesk is installed."}]


def row(low: str, high: str, attributes: int, prop: str) -> dict[str, str]:
    return {
        "UpgradeCode": UPGRADE,
        "VersionMin": low,
        "VersionMax": high,
        "Language": "",
        "Attributes": str(attributes),
        "Remove": "",
        "ActionProperty": prop,
    }


OURS = [row("0.0.0", "", 256, "WIX_UPGRADE_DETECTED"), row("1.2.3.57", "", 2, "WIX_DOWNGRADE_DETECTED")]
# What WiX's MajorUpgrade writes by default: the same release is neither older nor newer.
MAJOR_UPGRADE_DEFAULT = [
    row("", "1.2.3.57", 1, "WIX_UPGRADE_DETECTED"),
    row("1.2.3.57", "", 2, "WIX_DOWNGRADE_DETECTED"),
]


def test_msiinfo_export_text_is_read_as_rows():
    text = (
        "Property\tValue\ns72\tl0\nProperty\tProperty\n"
        "ProductVersion\t1.2.3.57\nUpgradeCode\t{3C5E2A8B-1F4D-4B6A-9E2C-7D8F0A1B2C3D}\nEmpty\n"
    )
    assert msi_check._parse_export(text) == [
        {"Property": "ProductVersion", "Value": "1.2.3.57"},
        {"Property": "UpgradeCode", "Value": UPGRADE},
        {"Property": "Empty", "Value": ""},
    ]


@pytest.mark.parametrize(
    ("installed", "outcome"),
    [
        ("0.9.0", "replaces"),
        ("1.2.2", "replaces"),
        ("1.2.3.12", "replaces"),  # another CI build of this release
        ("1.2.3.99", "replaces"),  # Windows Installer does not compare the build number
        ("1.2.4", "refuses: A newer version of pseudodesk is installed."),
        ("2.0.0", "refuses: A newer version of pseudodesk is installed."),
    ],
)
def test_our_upgrade_rows_replace_up_to_this_release_and_refuse_newer(installed, outcome):
    tables = Tables(PROPERTIES, OURS, REFUSAL, SEQUENCE)
    assert installing_over(tables, installed) == outcome
    assert problems(tables, "1.2.3.57") == []


def test_majorupgrades_default_installs_a_rebuild_beside_the_old_one():
    tables = Tables(PROPERTIES, MAJOR_UPGRADE_DEFAULT, REFUSAL, SEQUENCE)
    assert installing_over(tables, "1.2.3.12") == "installs beside it"
    assert problems(tables, "1.2.3.57") == [
        "over another build of this release (1.2.3.0) the MSI installs beside it; it must say it replaces"
    ]


def test_without_the_launch_condition_a_downgrade_goes_ahead():
    found = problems(Tables(PROPERTIES, OURS, [], SEQUENCE), "1.2.3.57")
    assert found == [
        "over a newer patch (1.2.4) the MSI replaces; it must say it refuses",
        "over a newer release (1.3.0) the MSI replaces; it must say it refuses",
    ]


def test_identity_version_and_sequence_problems_are_each_named():
    properties = {**PROPERTIES, "ProductCode": UPGRADE, "ALLUSERS": "", "SecureCustomProperties": ""}
    sequence = [s if s["Action"] != "RemoveExistingProducts" else {**s, "Sequence": "6700"} for s in SEQUENCE]
    found = problems(Tables(properties, OURS, REFUSAL, sequence), "1.2.3.58")
    assert found == [
        "ProductVersion is '1.2.3.57', expected '1.2.3.58'",
        f"ProductCode {UPGRADE!r} is not a GUID of its own",
        "ALLUSERS is '', expected 1 (a per-machine install)",
        "WIX_UPGRADE_DETECTED is not in SecureCustomProperties",
        "WIX_DOWNGRADE_DETECTED is not in SecureCustomProperties",
        "InstallExecuteSequence must find related products, check the launch conditions, then remove the old "
        "version inside the install's transaction (between InstallInitialize and InstallFinalize)",
    ]


def test_the_real_msi_source_upgrades_as_intended(tiny_msi):
    first = Tables.of(tiny_msi("1.2.3.57", "first.msi"))
    assert problems(first, "1.2.3.57") == []
    assert first.properties["ProductVersion"] == "1.2.3.57"
    second = Tables.of(tiny_msi("1.2.3.58", "second.msi"))
    assert second.properties["UpgradeCode"] == first.properties["UpgradeCode"] == UPGRADE
    assert second.properties["ProductCode"] != first.properties["ProductCode"]
    assert installing_over(second, "1.2.3.57") == "replaces"
    assert installing_over(first, "1.3.0").startswith("refuses: A newer version of pseudodesk is already installed")


def test_the_check_fails_an_msi_over_its_size_limit(tiny_msi, capsys):
    msi = tiny_msi("1.2.3.57")
    assert msi_check.main([str(msi), "--version", "1.2.3.57"]) == 0
    assert msi_check.main([str(msi), "--version", "1.2.3.57", "--max-mb", "0.001"]) == 1
    assert "over the 0.001 MB allowed" in capsys.readouterr().out


def test_the_real_msi_source_fails_the_install_when_the_selftest_fails(tiny_msi):
    tables = Tables.of(tiny_msi("1.2.3.57"))
    assert msi_check.selftest_problems(tables) == []
    action = next(row for row in tables.custom_actions if row["Action"] == "SelfTest")
    assert action["Source"] == "CliExe" and int(action["Type"]) == 0x12 | 0x400 | 0x800
    assert action["Target"] == 'selftest --log "[CommonAppDataFolder]pseudodesk\\install-selftest.log"'


def test_a_selftest_whose_result_is_ignored_or_run_at_uninstall_is_named():
    files = [{"File": "CliExe", "FileName": "PSEUDO~1.EXE|pseudodesk-cli.exe"}]
    action = {"Action": "SelfTest", "Type": str(0x12 | 0x400 | 0x800 | 0x40), "Source": "CliExe", "Target": "selftest"}
    sequence = [
        *SEQUENCE,
        {"Action": "InstallFiles", "Condition": "", "Sequence": "4000"},
        {"Action": "SelfTest", "Condition": "", "Sequence": "4001"},
    ]
    found = msi_check.selftest_problems(Tables(PROPERTIES, OURS, REFUSAL, sequence, [action], files))
    assert found == [
        "SelfTest ignores the self-test's exit code: a failed self-test would not fail the install",
        "SelfTest would also run when uninstalling (condition '')",
    ]
    assert msi_check.selftest_problems(Tables(PROPERTIES, OURS, REFUSAL, sequence, [], files)) == [
        "no custom action runs the installed pseudodesk-cli selftest"
    ]
