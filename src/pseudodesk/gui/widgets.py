"""Small widget helpers the windows share."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


def buddy_label(text: str, buddy: QWidget) -> QLabel:
    """A label whose &-letter moves the focus to ``buddy`` (and that screen readers announce with it)."""
    label = QLabel(text)
    label.setBuddy(buddy)
    return label
