"""The job bridge: work off the GUI thread, results and failures back on it, cancel, shutdown."""

from __future__ import annotations

import sys
import threading
import time

from PySide6.QtCore import QObject, Signal

from pseudodesk.core.errors import Cancelled, ExportError
from pseudodesk.gui.jobs import THREAD_PREFIX, JobBridge


def test_result_arrives_on_the_gui_thread(qtbot):
    bridge = JobBridge()
    seen: dict[str, object] = {}

    def work(progress, cancel):
        seen["worker"] = threading.current_thread().name
        progress(1.0, "done")
        return 42

    with qtbot.waitSignal(bridge.busy_changed, check_params_cb=lambda busy: busy is False):
        bridge.start("answering", work, on_done=lambda r: seen.update(result=r, thread=threading.current_thread()))
    bridge.shutdown()
    assert seen["result"] == 42
    assert seen["thread"] is threading.main_thread()
    assert str(seen["worker"]).startswith(THREAD_PREFIX)


def test_failure_goes_to_the_one_failure_path(qtbot):
    bridge = JobBridge()
    errors: list[BaseException] = []

    def work(progress, cancel):
        raise ExportError("disk full")

    bridge.start(
        "failing", work, on_done=lambda r: errors.append(AssertionError("no result expected")), on_error=errors.append
    )
    qtbot.waitUntil(lambda: not bridge.busy)
    bridge.shutdown()
    assert [str(e) for e in errors] == ["disk full"]


def test_cancel_reaches_the_worker_and_is_not_an_error(qtbot):
    bridge = JobBridge()
    outcome: list[str] = []
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        while not cancel():
            time.sleep(0.01)
        raise Cancelled()

    bridge.start(
        "waiting", work, on_error=lambda e: outcome.append("error"), on_cancelled=lambda: outcome.append("cancelled")
    )
    started.wait(5)
    bridge.cancel()
    qtbot.waitUntil(lambda: not bridge.busy, timeout=2000)
    bridge.shutdown()
    assert outcome == ["cancelled"]


def test_progress_is_throttled_but_the_last_update_arrives(qtbot):
    bridge = JobBridge()
    updates: list[tuple[float, str]] = []
    bridge.progress_changed.connect(lambda f, m: updates.append((f, m)))

    def work(progress, cancel):
        for i in range(10_000):
            progress(i / 10_000, f"step {i}")
        progress(1.0, "finished")

    bridge.start("counting", work)
    qtbot.waitUntil(lambda: not bridge.busy)
    bridge.shutdown()
    assert updates[-1] == (1.0, "finished")
    assert len(updates) < 200  # 10,000 calls, a few relayed


def test_one_job_at_a_time(qtbot):
    bridge = JobBridge()
    release = threading.Event()
    bridge.start("blocking", lambda p, c: release.wait(5))
    try:
        bridge.start("second", lambda p, c: None)
    except RuntimeError as error:
        assert "already running: blocking" in str(error)
    else:
        raise AssertionError("a second job started while one was running")
    release.set()
    qtbot.waitUntil(lambda: not bridge.busy)
    bridge.shutdown()


def test_signal_emission_keeps_bool_refcounts(qtbot):
    """PySide6 6.12.0 dropped a reference to True on every emission to a bound method; Python
    aborted the process after a few thousand. The lock excludes it; this catches a relapse."""

    class Emitter(QObject):
        changed = Signal(bool)

    class Receiver(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def on_changed(self, value: bool) -> None:
            self.count += 1

    emitter, receiver = Emitter(), Receiver()
    emitter.changed.connect(receiver.on_changed)
    before = sys.getrefcount(True)
    for _ in range(100):
        emitter.changed.emit(True)
    assert receiver.count == 100
    assert sys.getrefcount(True) >= before
