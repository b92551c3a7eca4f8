"""Consistent suppression across releases: a local, keyed history of what was sent blank.

Blanking values to reach k works within one release. Two releases that can be linked (next
month's extract, or another partner's under the same project key, joined on the person
pseudonym) undo it: a postcode blanked in one is sent in the other. With
``[disclosure] consistent_releases``, an export under the agreement remembers, for each person
and quasi-identifier it sent blank, a keyed hash of the pair; every later export of that
agreement from this installation blanks that person's field again, whatever its class.

What is stored is only ``HMAC(history key, person pseudonym, field name)``, truncated to 128
bits, where the history key is derived from the project key: no cell value, no pseudonym, no
field name, and nothing anyone without the key can match to a person. The file is named by a
keyed hash of the agreement's name, in ``release-history`` under the data directory. A new
project key starts a new history (its pseudonyms link to nothing earlier anyway).

A release that fails after its values were counted may leave its entries behind: the history
errs towards blanking, never towards sending.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from pseudodesk.core.errors import ExportError
from pseudodesk.core.files import atomic_json
from pseudodesk.core.keys.store import data_dir
from pseudodesk.core.transform.pseudonym import ProjectKey

FORMAT = "pseudodesk-release-history/1"
FOLDER = "release-history"
TOKEN_BYTES = 16


class ReleaseHistory:
    """The (person, field) pairs sent blank under one agreement with one key."""

    def __init__(self, key: ProjectKey, agreement: str, directory: Path | None = None) -> None:
        self._key = hmac.new(key.secret, b"pseudodesk release history 1", hashlib.sha256).digest()
        name = hmac.new(self._key, agreement.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        self.path = (directory or data_dir()) / FOLDER / f"{name}.json"
        self.key_id = key.id
        self.known: set[str] = set()
        self.added: set[str] = set()
        if self.path.exists():
            self.known = self._read()

    def _read(self) -> set[str]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("format") != FORMAT or not isinstance(doc.get("entries"), list):
                raise ValueError("not a release history")
            return {str(entry) for entry in doc["entries"]}
        except (OSError, ValueError) as exc:
            raise ExportError(
                f"The release history {self.path} cannot be read ({exc}); without it, values blanked in "
                "earlier releases could be sent. Restore it from a backup, or ask the IG lead before "
                "starting a new history by removing it."
            ) from exc

    def token(self, person: str, field: str) -> str:
        message = person.encode("utf-8") + b"\x1f" + field.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()[:TOKEN_BYTES].hex()

    def suppressed(self, person: str, field: str) -> bool:
        """Was this person's field sent blank in an earlier release?"""
        return bool(person) and self.token(person, field) in self.known

    def remember(self, person: str, field: str) -> None:
        """This person's field is sent blank in this release."""
        if person:
            self.added.add(self.token(person, field))

    def save(self) -> None:
        """Write the history with this release's entries; entries another export added meanwhile
        are kept."""
        if not self.added:
            return
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock", timeout=60):
            entries = (self._read() if self.path.exists() else set()) | self.known | self.added
            atomic_json(self.path, {"format": FORMAT, "key_id": self.key_id, "entries": sorted(entries)})
        self.known = entries
        self.added = set()

    def __len__(self) -> int:
        return len(self.known | self.added)
