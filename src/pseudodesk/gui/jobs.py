"""The one job bridge: background work off the GUI thread, results back on it.

A single-worker executor runs one job at a time (Orange3's ``ConcurrentMixin``, Anki's
``QueryOp``). The worker never touches a widget: it calls ``progress(fraction, message)``
and polls ``cancel()``, both handed to it as plain callables, exactly as the core's
long-running functions expect. The bridge relays progress and the outcome through
Qt signals, which Qt queues onto the GUI thread because the bridge lives there.

Each job has one success callback and one failure path: the ``on_error`` callback if the
caller gave one, otherwise :func:`pseudodesk.gui.errors.show_error` (which logs anything
unexpected). :class:`~pseudodesk.core.errors.Cancelled` is reported as a cancellation,
not an error.

A window whose jobs should wait for the bridge rather than be refused while it is busy
runs them through :class:`QueuedJobs`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QMainWindow, QWidget
from shiboken6 import isValid

from pseudodesk.core.errors import Cancelled
from pseudodesk.gui.errors import show_error

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]
Work = Callable[[Progress, Cancel], Any]

PROGRESS_INTERVAL = 0.05  # seconds between relayed progress updates (the last one always goes)
# The worker and the GUI thread share one GIL. Every time Qt calls into Python (a timer, a
# slot, a repaint of a Python widget) the GUI thread waits up to one switch interval for it.
# CPython's default 5 ms let a repaint during a million-row export stall the window for
# 150-300 ms; at 1 ms the longest stall measured was under 100 ms, and the export took no
# longer (tests/gui/test_responsiveness.py, docs/performance.md).
SWITCH_INTERVAL = 0.001
THREAD_PREFIX = "pseudodesk-job"


@dataclass
class _Job:
    number: int
    description: str
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    on_cancelled: Callable[[], None] | None
    cancel_event: threading.Event
    future: Future[Any] | None = None


class JobBridge(QObject):
    """Runs one job at a time on a worker thread and relays what happens to the GUI thread."""

    progress_changed = Signal(float, str)  # fraction 0..1, what the job is doing
    busy_changed = Signal(bool)  # a job started (True) or ended (False)
    job_finished = Signal(int, object)  # internal: job number, result
    job_failed = Signal(int, object)  # internal: job number, exception

    def __init__(self, parent_widget: QWidget | None = None) -> None:
        super().__init__(parent_widget)
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self._parent_widget = parent_widget
        self._executor: ThreadPoolExecutor | None = None
        self._job: _Job | None = None
        self._count = 0
        self.job_finished.connect(self._deliver_result)
        self.job_failed.connect(self._deliver_failure)

    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def description(self) -> str:
        return self._job.description if self._job else ""

    def start(
        self,
        description: str,
        work: Work,
        *,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
    ) -> None:
        """Run ``work(progress, cancel)`` in the background. One job at a time: the caller
        disables what would start another while :attr:`busy` (a second start is a bug).

        ``work`` must hold plain values (paths, core objects), never a widget: it is released
        on the worker thread. The callbacks run on the GUI thread and may use widgets."""
        if self._job is not None:
            raise RuntimeError(f"a job is already running: {self._job.description}")
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_PREFIX)
        self._count += 1
        job = _Job(self._count, description, on_done, on_error, on_cancelled, threading.Event())
        self._job = job
        self.busy_changed.emit(True)
        self.progress_changed.emit(0.0, description)
        # The worker gets only the job's number, its cancel flag and the work: never the
        # callbacks. Whatever the worker holds is released on the worker thread, and a
        # widget released there last would be destroyed off the GUI thread (a crash).
        job.future = self._executor.submit(self._run, job.number, job.cancel_event, work)

    def cancel(self) -> None:
        """Ask the running job to stop; it raises Cancelled at its next check (well within a second)."""
        if self._job is not None:
            self._job.cancel_event.set()

    @property
    def cancelling(self) -> bool:
        return self._job is not None and self._job.cancel_event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current job's worker returns (its callbacks still arrive through the
        event loop). True if no job is left running on the worker."""
        job = self._job
        if job is None or job.future is None:
            return True
        try:
            job.future.result(timeout)
        except TimeoutError:
            return False
        except BaseException:  # noqa: BLE001 (the outcome is delivered through job_failed)
            pass
        return True

    def shutdown(self) -> None:
        """Cancel whatever runs, wait for the worker to stop and release its thread."""
        self.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    # --- worker side (never touches widgets) -------------------------------------------

    def _run(self, number: int, cancel_event: threading.Event, work: Work) -> None:
        last = 0.0

        def progress(fraction: float, message: str) -> None:
            nonlocal last
            now = time.monotonic()
            if fraction >= 1.0 or now - last >= PROGRESS_INTERVAL:
                last = now
                self.progress_changed.emit(float(fraction), message)

        try:
            result = work(progress, cancel_event.is_set)
        except BaseException as error:  # noqa: BLE001 (every failure goes to the one failure path)
            self.job_failed.emit(number, error)
        else:
            self.job_finished.emit(number, result)

    # --- GUI side ----------------------------------------------------------------------

    def _take(self, number: int) -> _Job | None:
        job = self._job
        if job is None or job.number != number:
            return None
        self._job = None
        self.busy_changed.emit(False)
        return job

    @Slot(int, object)
    def _deliver_result(self, number: int, result: object) -> None:
        job = self._take(number)
        if job is not None and job.on_done is not None:
            job.on_done(result)

    @Slot(int, object)
    def _deliver_failure(self, number: int, error: object) -> None:
        job = self._take(number)
        if job is None:
            return
        assert isinstance(error, BaseException)
        if isinstance(error, Cancelled):
            if job.on_cancelled is not None:
                job.on_cancelled()
            return
        if job.on_error is not None:
            job.on_error(error)
            return
        show_error(self._parent_widget, error, doing=job.description)


class QueuedJobs:
    """One window's jobs on the app's bridge. A job asked for while the bridge is busy waits
    (replacing a waiting one with the same description) and starts once the bridge is free;
    the window says so in its status bar. Outcomes reach the window only while it exists."""

    def __init__(self, window: QMainWindow, bridge: JobBridge) -> None:
        self._window = window
        self._bridge = bridge
        self._running: str | None = None
        self._pending: list[tuple[str, Work, Callable[[Any], None], Callable[[BaseException], None]]] = []

    @property
    def busy(self) -> bool:
        """Whether one of these jobs runs or waits for the bridge."""
        return self._running is not None or bool(self._pending)

    def start(
        self, description: str, work: Work, on_done: Callable[[Any], None], on_error: Callable[[BaseException], None]
    ) -> None:
        window, bridge = self._window, self._bridge
        if bridge.busy:
            self._pending = [p for p in self._pending if p[0] != description]
            self._pending.append((description, work, on_done, on_error))
            window.statusBar().showMessage(f"Waiting for \u201c{bridge.description}\u201d to finish\u2026")
            return
        self._running = description

        def done(result: Any) -> None:
            if isValid(window):
                self._running = None
                on_done(result)

        def failed(error: BaseException) -> None:
            if isValid(window):
                self._running = None
                on_error(error)
            else:
                show_error(None, error, doing=description)

        def cancelled() -> None:
            if isValid(window):
                self._running = None
                window.statusBar().showMessage("Stopped.", 5000)

        bridge.start(description, work, on_done=done, on_error=failed, on_cancelled=cancelled)

    def bridge_free(self) -> None:
        """The bridge has finished a job: start the first waiting one, once the event loop turns."""
        if self._pending:
            QTimer.singleShot(0, self._start_pending)

    def drop_waiting(self) -> None:
        """Forget the jobs still waiting (a job already running finishes; its result is dropped)."""
        self._pending.clear()

    def _start_pending(self) -> None:
        if not isValid(self._window) or self._bridge.busy or not self._pending:
            return
        self.start(*self._pending.pop(0))
