"""Agreement packages in the window: installing one (every partner) and packing one (custodian mode)."""

from pseudodesk.gui.agreements.install import AgreementInstaller, InstallAgreementDialog
from pseudodesk.gui.agreements.pack import AgreementPacker, PackAgreementDialog

__all__ = ["AgreementInstaller", "AgreementPacker", "InstallAgreementDialog", "PackAgreementDialog"]
