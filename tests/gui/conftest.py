"""GUI tests run offscreen; a test that leaves a QThread running fails (napari's _dangling_qthreads)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_dangling_qthreads(qapp):
    yield
    from PySide6.QtCore import QThread

    gc.collect()
    running = [t for t in gc.get_objects() if isinstance(t, QThread) and t.isRunning()
               and t is not qapp.thread()]
    if running:
        pytest.fail(f"test left {len(running)} QThread(s) running")
