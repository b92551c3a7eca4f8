"""GUI tests run offscreen with private settings; a test that leaves a thread running fails.

napari's ``_dangling_qthreads`` idea, extended to the job bridge's worker threads (plain
Python threads named ``pseudodesk-job``): every window must shut its bridge down.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc  # noqa: E402
import threading  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def private_qsettings(qapp, tmp_path_factory):
    """Window state goes to a temporary INI file, never the real user's settings."""
    from PySide6.QtCore import QSettings

    qapp.setOrganizationName("pseudodesk-tests")
    qapp.setApplicationName("pseudodesk")
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture(autouse=True)
def no_dangling_threads(qapp):
    yield
    from PySide6.QtCore import QThread

    from pseudodesk.gui.jobs import THREAD_PREFIX

    gc.collect()
    running = [t for t in gc.get_objects() if isinstance(t, QThread) and t.isRunning() and t is not qapp.thread()]
    workers = [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX) and t.is_alive()]
    if running or workers:
        pytest.fail(f"test left {len(running)} QThread(s) and {len(workers)} job worker(s) running")
