"""Under the risk report: the generalisations that would meet k (the core's lattice search,
check/lattice.py), and writing the chosen one into a copy of the profile for the IG lead."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from pseudodesk.core.agreement.generalise_text import write_generalised_copy
from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.check.lattice import Option
from pseudodesk.core.check.risk import RiskReport
from pseudodesk.core.errors import PseudodeskError
from pseudodesk.gui import widgets
from pseudodesk.gui.errors import show_error


class GeneralisationPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profile: Profile | None = None
        self.options: list[Option] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.choice = QComboBox()
        self.choice.setAccessibleName("Generalisation to write into the profile")
        self.write_button = QPushButton("Write into a c&opy of the profile…")
        self.write_button.setAccessibleName("Write the chosen generalisation into a copy of the profile")
        self.write_button.clicked.connect(self.choose_destination)
        row.addWidget(widgets.buddy_label("&Generalisation:", self.choice))
        row.addWidget(self.choice, stretch=1)
        row.addWidget(self.write_button)
        layout.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Profile copy")
        layout.addWidget(self.status)
        self.setVisible(False)

    def show_options(self, profile: Profile | None, risk: RiskReport | None) -> None:
        """The best generalisations of this risk report, when its profile has a file to copy."""
        self.profile = profile
        found = risk.lattice if risk is not None else None
        self.options = [o for o in found.options if o.generalise()] if found is not None else []
        self.choice.clear()
        for n, option in enumerate(self.options, start=1):
            self.choice.addItem(f"{n}. {option.describe()}")
        self.status.setText("")
        self.setVisible(bool(self.options) and profile is not None and profile.path is not None)

    def suggested_path(self) -> Path:
        assert self.profile is not None and self.profile.path is not None
        return self.profile.path.with_name(f"{self.profile.path.stem}-generalised.toml")

    def choose_destination(self) -> None:
        if not self.options or self.profile is None:
            return
        path = widgets.ask_save_path(
            self, "Save the profile with this generalisation", self.suggested_path(), "Profile (*.toml)"
        )
        if path is not None:
            self.write_copy(path, overwrite=True)  # the save dialog has asked about replacing

    def write_copy(self, path: Path, *, overwrite: bool = False) -> Profile | None:
        assert self.profile is not None
        option = self.options[max(self.choice.currentIndex(), 0)]
        try:
            copy = write_generalised_copy(self.profile, option.generalise(), path, overwrite=overwrite)
        except (PseudodeskError, OSError) as error:
            show_error(self, error, doing=f"writing {Path(path).name}")
            return None
        self.status.setText(
            f"Written to {path}. It is a new profile: give it a new version and send it to the key "
            "custodian, who packs it into the agreement package; until then exports under it are unapproved."
        )
        return copy
