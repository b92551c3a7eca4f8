"""Small widget helpers the windows share, and the one open-file and save-file dialog.

Every window asks for a file with :func:`ask_open_path` or :func:`ask_save_path`. Callers
look them up as ``widgets.ask_open_path(...)`` when they run, so a test replaces them in one
place (``monkeypatch.setattr(pseudodesk.gui.widgets, "ask_open_path", ...)``); the keys window
and the profile editor also take them as instance attributes of the same names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QFileDialog,
    QFrame,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QWidget,
)

OpenPath = Callable[[QWidget, str, str], "Path | None"]
SavePath = Callable[[QWidget, str, Path, str], "Path | None"]


def buddy_label(text: str, buddy: QWidget) -> QLabel:
    """A label whose &-letter moves the focus to ``buddy`` (and that screen readers announce with it)."""
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


class ElidedLabel(QLabel):
    """One line that never widens its window: a long message (a job's phase) is cut with "…"
    to the room the label has. ``text()`` and the tooltip keep the whole message."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, super().minimumSizeHint().height())

    def setText(self, text: str) -> None:  # noqa: N802
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        room = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, room.width())
        painter = QPainter(self)
        self.style().drawItemText(
            painter, room, int(self.alignment()), self.palette(), self.isEnabled(), shown, self.foregroundRole()
        )


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
    the steps themselves.

    Enter anywhere in a step that does not use Enter itself (a table, a text field, a tick box)
    presses the step's default button, which ``default_button`` returns: Next on the first three
    steps, Export on the last. A button with the focus presses itself; a number box keeps Enter
    for confirming its number, so typing a header row and Enter never also moves on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.default_button: Callable[[], QAbstractButton | None] = lambda: None

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        button = self.default_button() if enter and plain else None
        focus = QApplication.focusWidget()
        if button is not None and button.isEnabled() and not isinstance(focus, QAbstractSpinBox):
            event.accept()
            button.click()
            return
        super().keyPressEvent(event)

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
