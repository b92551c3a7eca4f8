"""Reading a profile's TOML tables with errors that name where in the file the problem is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pseudodesk.core.errors import ProfileError


class Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def table(self, doc: dict[str, Any], key: str) -> dict[str, Any]:
        value = doc.get(key)
        if not isinstance(value, dict):
            raise ProfileError(self.source, key, "is missing (a [" + key + "] table is required)")
        return value

    def text(self, doc: dict[str, Any], key: str, *, where: str | None = None) -> str:
        value = doc.get(key)
        if value is None:
            raise ProfileError(self.source, where or key, "is required")
        if not isinstance(value, str):
            raise ProfileError(self.source, where or key, "must be text in quotes")
        return value

    def entries(self, doc: dict[str, Any], key: str, allowed: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The tables of a ``[[key]]`` array, each with its location (``key[i]``), checked for unknown settings."""
        items = doc.get(key)
        if not isinstance(items, list) or not items:
            raise ProfileError(self.source, key, f"must list at least one [[{key}]] entry")
        for i, item in enumerate(items):
            where = f"{key}[{i}]"
            if not isinstance(item, dict):
                raise ProfileError(self.source, where, "must be a table")
            self.only(item, where, allowed)
            yield where, item

    def only(self, doc: dict[str, Any], where: str, allowed: set[str]) -> None:
        unknown = sorted(set(doc) - allowed)
        if unknown:
            prefix = f"{where}." if where else ""
            raise ProfileError(
                self.source, prefix + unknown[0], f"is not a known setting (allowed here: {', '.join(sorted(allowed))})"
            )
