"""pseudodesk: pseudonymise a spreadsheet of people under an information-sharing agreement."""

from __future__ import annotations

__version__ = "0.1.0"
