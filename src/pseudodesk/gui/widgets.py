"""Small widget helpers the windows share, and the one open-file and save-file dialog.

Every window asks for a file with :func:`ask_open_path` or :func:`ask_save_path`. Callers
look them up as ``widgets.ask_open_path(...)`` when they run, so a test replaces them in one
place (``monkeypatch.setattr(pseudodesk.gui.widgets, "ask_open_path", ...)``); the keys window
and the profile editor also take them as instance attributes of the same names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QFrame, QLabel, QScrollArea, QStackedWidget, QWidget

OpenPath = Callable[[QWidget, str, str], "Path | None"]
SavePath = Callable[[QWidget, str, Path, str], "Path | None"]


def buddy_label(text: str, buddy: QWidget) -> QLabel:
    """A label whose &-letter moves the focus to ``buddy`` (and that screen readers announce with it)."""
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


def ask_open_path(parent: QWidget, caption: str, file_filter: str, start: Path | str = "") -> Path | None:
    """The platform's open-file dialog, starting in (or at) ``start``; None when the user cancels."""
    name, _ = QFileDialog.getOpenFileName(parent, caption, str(start), file_filter)
    return Path(name) if name else None


def ask_save_path(parent: QWidget, caption: str, suggested: Path | str, file_filter: str) -> Path | None:
    """The platform's save-file dialog (it asks before replacing a file); None when cancelled."""
    name, _ = QFileDialog.getSaveFileName(parent, caption, str(suggested), file_filter)
    return Path(name) if name else None


class StepPages(QStackedWidget):
    """The steps, each in a scroll area: on a small screen or at a large scale a step scrolls,
    and the window can be made as small as the screen. ``widget`` and ``currentWidget`` give
    the steps themselves."""

    def add_step(self, step: QWidget) -> None:
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(step)
        self.addWidget(area)

    def widget(self, index: int) -> QWidget | None:
        area = super().widget(index)
        return area.widget() if isinstance(area, QScrollArea) else area

    def currentWidget(self) -> QWidget | None:  # noqa: N802
        return self.widget(self.currentIndex())
