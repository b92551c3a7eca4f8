"""Retiring a PC (docs/deployment.md, "Retiring a PC"): the audit log handed over to the IG lead,
then this installation's keys and data removed.

Uninstalling pseudodesk leaves the user's keys (in the OS keyring), the audit log, the installed
agreements and the settings behind, on purpose: an upgrade or a repair must not lose them. When
a PC leaves the partnership, or is rebuilt, IT runs ``pseudodesk-cli retire`` for each user:

1. :func:`plan_retirement` lists what there is: every secret this installation keeps (project
   keys, salts, the installation's signing key and its audit count), the data folder, and the
   window's settings. Nothing is changed.
2. :func:`hand_over_audit` records a last audit entry (``installation.retired``), then copies the
   audit log and the installation's public key into a new folder for the IG lead, with the
   printable report and its CSV, and checks the copy: same bytes, and whether it verifies.
3. :func:`remove_installation` deletes the secrets, the data folder and the settings.

A key removed here cannot be recovered from this PC: keys still needed elsewhere must have been
exported as key files first (docs/keys.md). Nothing a spreadsheet cell held is in any of these
files (the audit log holds counts, names of agreements and files, and fingerprints only).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pseudodesk.core.audit.listing import AuditFilter, audit_listing, listing_to_csv, listing_to_html
from pseudodesk.core.audit.log import INSTALLATION_FILE, LOG_NAME, installation_public_key, verify_log
from pseudodesk.core.errors import PseudodeskError
from pseudodesk.core.files import file_sha256, slug
from pseudodesk.core.host import machine_name, os_user
from pseudodesk.core.keys.agreements import _remove_tree  # read-only installed agreements included
from pseudodesk.core.keys.installation import HEAD_NAME, INSTALLATION_KEY_NAME, record
from pseudodesk.core.keys.store import KeyStore

SETTINGS_KEY = r"Software\pseudodesk"  # HKEY_CURRENT_USER: the window's QSettings (organisation "pseudodesk")


class RetireError(PseudodeskError):
    """The audit log could not be handed over, so nothing was removed."""


@dataclass(frozen=True)
class Secret:
    store: str  # "keyring" (Windows Credential Manager) or "local" (keys.vault, removed with the folder)
    name: str  # the entry's name under the service "pseudodesk"
    what: str  # in words, without the secret


@dataclass(frozen=True)
class Retirement:
    directory: Path
    secrets: list[Secret] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)  # where the window's settings are, as found
    audit_log: bool = False

    def lines(self) -> list[str]:
        """What would go, a line each (no secret is shown)."""
        lines = [f"data folder: {self.directory}" + ("" if self.directory.exists() else " (not there)")]
        if self.audit_log:
            lines.append(f"  with the audit log {self.directory / LOG_NAME} (handed over first)")
        for secret in self.secrets:
            where = "Credential Manager / OS keyring" if secret.store == "keyring" else "local key store"
            lines.append(f"{where}: {secret.what} (pseudodesk / {secret.name})")
        lines += [f"window settings: {place}" for place in self.settings]
        return lines


def plan_retirement(store: KeyStore) -> Retirement:
    """Everything this installation keeps for the current user; nothing is changed."""
    secrets = [
        Secret(info.store, info.id, f"{'salt' if info.kind == 'op-salt' else 'project key'} {info.name} ({info.id})")
        for info in store.keys()
    ]
    try:
        installation = json.loads((store.directory / INSTALLATION_FILE).read_text(encoding="utf-8"))
        where, fingerprint = str(installation["store"]), str(installation["fingerprint"])
        name = str(installation.get("key_name", INSTALLATION_KEY_NAME))
        secrets.append(Secret(where, name, f"the installation's signing key ({fingerprint})"))
        if where == "keyring":
            secrets.append(Secret(where, f"{HEAD_NAME}-{fingerprint}", "the audit log's entry count"))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no signing key made yet, or its file is damaged: the folder goes all the same
    return Retirement(store.directory, secrets, window_settings().found(), (store.directory / LOG_NAME).exists())


@dataclass(frozen=True)
class AuditHandover:
    folder: Path
    files: dict[str, str]  # file name -> SHA-256, as copied and checked
    entries: int
    verified: bool
    problems: list[str]
    recorded: str  # "" when the retirement entry was signed into the log, else why not


def hand_over_audit(store: KeyStore, destination: Path, *, today: dt.date | None = None) -> AuditHandover:
    """Record the retirement, then copy the audit log for the IG lead into a new folder in
    ``destination``; the copy is compared with the original byte for byte and verified."""
    log = store.directory / LOG_NAME
    if not log.exists():
        raise RetireError(f"There is no audit log at {log}: there is nothing to hand over.")
    recorded = ""
    try:
        plan = plan_retirement(store)
        record(store, "installation.retired", {"secrets": len(plan.secrets)})
    except PseudodeskError as error:  # e.g. the signing key is already gone: hand over the log as it is
        recorded = str(error)
    day = (today or dt.date.today()).isoformat()
    name = f"pseudodesk-audit-{slug(machine_name(), fallback='pc')}-{slug(os_user(), fallback='user')}-{day}"
    folder = destination / name
    try:
        folder.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        raise RetireError(f"{folder} already exists: choose another folder, or move that one away.") from None
    except OSError as error:
        raise RetireError(f"{destination} cannot be written ({error.strerror}); nothing was removed.") from None
    copied: dict[str, str] = {}
    for source in (log, store.directory / INSTALLATION_FILE):
        if source.exists():
            shutil.copyfile(source, folder / source.name)
            original, _ = file_sha256(source)
            if file_sha256(folder / source.name)[0] != original:
                raise RetireError(
                    f"The copy of {source.name} in {folder} differs from the original; nothing was removed."
                )
            copied[source.name] = original
    found = installation_public_key(folder)
    if found is None:
        verification = None
        problems = ["there is no installation public key to verify the log with"]
    else:
        verification = verify_log(folder / LOG_NAME, *found)
        problems = [str(p) for p in verification.problems]
        entries = audit_listing(folder / LOG_NAME, AuditFilter())
        (folder / "audit-report.html").write_text(listing_to_html(entries, verification, AuditFilter()), "utf-8")
        (folder / "audit-report.csv").write_text(listing_to_csv(entries), encoding="utf-8-sig")
    (folder / "README.txt").write_text(_readme(copied, problems), encoding="utf-8")
    return AuditHandover(
        folder,
        copied,
        verification.entries if verification else 0,
        verification is not None and verification.ok,
        problems,
        recorded,
    )


def _readme(copied: dict[str, str], problems: list[str]) -> str:
    lines = [
        f"pseudodesk audit log handed over when {os_user()} on {machine_name()} was retired, "
        f"{dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}.",
        "",
        "Files (SHA-256):",
        *(f"  {name}  {digest}" for name, digest in copied.items()),
        "",
        "Verify it with pseudodesk on any PC (against a public key pinned earlier, if you have one):",
        "  pseudodesk-cli audit verify --log audit.jsonl --public-key installation-key.json",
        "audit-report.html is the printable report, audit-report.csv the same entries for a spreadsheet.",
        "",
        "When handed over the log " + ("verified." if not problems else "did NOT verify:"),
        *(f"  {problem}" for problem in problems),
    ]
    return "\n".join(lines) + "\n"


def remove_installation(store: KeyStore, plan: Retirement) -> list[str]:
    """Delete the plan's secrets, the data folder and the window's settings; what went, a line each."""
    removed: list[str] = []
    for secret in plan.secrets:
        if secret.store == "keyring":
            store.backend("keyring").delete(secret.name)  # an entry already gone is not an error
            removed.append(f"deleted from the OS keyring: {secret.what}")
    if plan.directory.exists():
        _remove_tree(plan.directory)
        removed.append(f"deleted the data folder {plan.directory}")
    for place in window_settings().remove():
        removed.append(f"deleted the window settings {place}")
    return removed


@dataclass(frozen=True)
class WindowSettings:
    """Where the window keeps its settings for this user (QSettings, organisation and application
    "pseudodesk"): a registry key on Windows, a file elsewhere."""

    registry_key: str = ""  # under HKEY_CURRENT_USER (Windows)
    file: Path | None = None  # Linux and macOS

    def found(self) -> list[str]:
        if self.registry_key:
            return [f"HKEY_CURRENT_USER\\{self.registry_key}"] if _registry_key_exists(self.registry_key) else []
        return [str(self.file)] if self.file is not None and self.file.exists() else []

    def remove(self) -> list[str]:
        found = self.found()
        if found and self.registry_key:
            _delete_registry_tree(self.registry_key)
        elif found and self.file is not None:
            self.file.unlink(missing_ok=True)
        return found


def window_settings() -> WindowSettings:
    """This user's window settings location on this operating system."""
    if sys.platform == "win32":
        return WindowSettings(registry_key=SETTINGS_KEY)
    if sys.platform == "darwin":
        return WindowSettings(file=Path.home() / "Library" / "Preferences" / "com.pseudodesk.pseudodesk.plist")
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return WindowSettings(file=Path(base) / "pseudodesk" / "pseudodesk.conf")


def _registry_key_exists(path: str) -> bool:  # pragma: no cover - Windows only
    if sys.platform == "win32":
        import winreg

        try:
            winreg.OpenKey(winreg.HKEY_CURRENT_USER, path).Close()
        except OSError:
            return False
        return True
    return False


def _delete_registry_tree(path: str) -> None:  # pragma: no cover - Windows only
    """Delete ``path`` under HKEY_CURRENT_USER with its subkeys (winreg deletes only empty keys)."""
    if sys.platform == "win32":
        import winreg

        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, path, 0, winreg.KEY_ALL_ACCESS) as key:
            while True:
                try:
                    child = winreg.EnumKey(key, 0)
                except OSError:
                    break
                _delete_registry_tree(f"{path}\\{child}")
        winreg.DeleteKey(winreg.HKEY_CURRENT_USER, path)
