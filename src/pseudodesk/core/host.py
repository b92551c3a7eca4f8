"""Who and where: the operating-system user and machine name recorded in manifests and audit entries."""

from __future__ import annotations

import getpass
import platform


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some service contexts
        return "unknown"


def machine_name() -> str:
    return platform.node()
