"""Work on a second thread alongside the run: read-ahead and background hashing.

CPython runs one thread of Python at a time, but Arrow's CSV parser, zlib, AES and hashlib
release the GIL while they work, so these overlap with the pipeline's Python on the
second core. Both helpers hand exceptions to the consumer and never outlive a stopped
consumer by more than the item in hand.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


def in_background(function: Callable[..., T], *args: Any) -> Future[T]:
    """``function(*args)`` on a daemon thread; its result (or exception) through the Future.

    For work that releases the GIL (hashing, reading files) alongside the run. If the run
    fails or is cancelled, nobody asks for the result and the thread ends on its own.
    """
    future: Future[T] = Future()

    def work() -> None:
        try:
            future.set_result(function(*args))
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=work, name="pseudodesk-background", daemon=True).start()
    return future


def made_ahead(chunks: Iterable[T], depth: int = 2, name: str = "pseudodesk-ahead") -> Iterator[T]:
    """The same items, produced on a worker thread up to ``depth`` ahead of the consumer.

    An exception in the producer (Cancelled, a reader error) is raised here, in order; if
    the consumer stops early, the producer is told to stop and is waited for.
    """

    def produce(emit: Callable[[T], None]) -> None:
        for chunk in chunks:
            emit(chunk)

    return pushed(produce, depth, name)


class _ConsumerGone(BaseException):
    """Raised in a producer's ``emit`` once the consumer has stopped (a BaseException, so that a
    library calling ``emit`` back does not take it for its own error)."""


def pushed(
    produce: Callable[[Callable[[T], None]], None], depth: int = 2, name: str = "pseudodesk-pushed"
) -> Iterator[T]:
    """The items ``produce(emit)`` hands to ``emit`` on a worker thread, as an iterator here.

    For libraries that push their output into a callback or a file-like object (py7zr's
    extraction) where the consumer wants to pull. At most ``depth`` items wait between the
    two. An exception in the producer is raised here, in order; if the consumer stops early,
    ``emit`` raises in the producer, which is waited for. Nothing starts until the first
    item is asked for.
    """
    handoff: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def emit(item: T) -> None:
        if not put(("chunk", item)):
            raise _ConsumerGone()

    def work() -> None:
        try:
            produce(emit)
        except _ConsumerGone:
            return
        except BaseException as error:  # handed to the consumer, raised there
            put(("error", error))
            return
        put(("done", None))

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()  # at the first item asked for: this is a generator
    try:
        while True:
            kind, item = handoff.get()
            if kind == "chunk":
                yield item  # type: ignore[misc]
            elif kind == "error":
                raise item  # type: ignore[misc]
            else:
                return
    finally:
        stop.set()
        worker.join()
