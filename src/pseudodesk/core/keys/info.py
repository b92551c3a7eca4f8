"""What is known about a key without its secret: id, name, fingerprint, agreement, expiry,
status and where it is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class KeyInfo:
    """What may be known about a key without holding it."""

    id: str
    name: str
    created: str
    fingerprint: str
    status: str = "active"  # "active" or "retired"
    agreement: str = ""
    expires: str = ""  # ISO date: the agreement's review date
    kind: str = "project-key"  # or "op-salt" (an OpenPseudonymiser salt)
    store: str = "keyring"  # "keyring" or "local" (passphrase-protected local key store)
    rotated_from: str = ""
    replaced_by: str = ""
    retired: str = ""

    def expired(self, today: dt.date | None = None) -> bool:
        return bool(self.expires) and dt.date.fromisoformat(self.expires) < (today or dt.date.today())


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
