"""Progress and cancellation, the two callbacks every long-running core function takes.

``progress(fraction, message)`` is called with fractions in [0, 1]; ``cancel()`` is polled
between batches, and a function that sees it return true raises
:class:`~pseudodesk.core.errors.Cancelled`, after which nothing it was writing is left on disk.
"""

from __future__ import annotations

from collections.abc import Callable

from pseudodesk.core.errors import Cancelled

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that shows nothing."""
    return None


def never() -> bool:
    """A cancel callback for work nobody can cancel."""
    return False


def raise_if_cancelled(cancel: Cancel | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled()
