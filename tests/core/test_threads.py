"""core.threads: the read-ahead and background helpers the run uses."""

from __future__ import annotations

import threading

import pytest

from pseudodesk.core.threads import in_background, made_ahead, pushed


def test_made_ahead_gives_the_same_items_in_order_from_another_thread():
    seen: list[str] = []

    def items():
        for i in range(50):
            seen.append(threading.current_thread().name)
            yield i

    assert list(made_ahead(items(), name="test-ahead")) == list(range(50))
    assert set(seen) == {"test-ahead"}


def test_made_ahead_raises_the_producers_error_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("bad row")

    got: list[int] = []
    with pytest.raises(ValueError, match="bad row"):
        for item in made_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_made_ahead_stops_its_producer_when_the_consumer_stops():
    produced: list[int] = []

    def items():
        for i in range(10_000):
            produced.append(i)
            yield i

    ahead = made_ahead(items(), depth=2)
    assert next(ahead) == 0
    ahead.close()  # the consumer gives up: the producer is stopped and joined
    assert len(produced) <= 5
    assert not any(t.name == "pseudodesk-ahead" for t in threading.enumerate())


def test_in_background_returns_the_result_or_the_error():
    assert in_background(sum, [1, 2, 3]).result(timeout=5) == 6
    with pytest.raises(ZeroDivisionError):
        in_background(lambda: 1 / 0).result(timeout=5)


def test_pushed_turns_a_callback_into_an_iterator_and_stops_a_producer_that_swallows_errors():
    """A library writing into a callback (py7zr's extraction) and catching Exception around it is
    still stopped when the consumer gives up: emit raises a BaseException."""
    written: list[int] = []

    def library(emit):
        for i in range(10_000):
            try:
                emit(i)
            except Exception:  # what a library might do with a failed write
                continue
            written.append(i)

    assert list(pushed(library)) == list(range(10_000))
    written.clear()
    items = pushed(library, depth=2, name="test-pushed")
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert len(written) <= 6
    assert not any(t.name == "test-pushed" for t in threading.enumerate())
