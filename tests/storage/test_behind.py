"""WriteBehind: a step's writes on a second thread, in order, their errors raised in the step."""

from __future__ import annotations

import threading
import time

import pytest

from juzhang.storage.behind import WriteBehind


def test_writes_run_one_at_a_time_in_order_on_another_thread() -> None:
    done: list[tuple[int, str]] = []
    running = threading.Lock()

    def write(n: int) -> None:
        assert running.acquire(blocking=False), "two writes at once"
        try:
            time.sleep(0.01)
            done.append((n, threading.current_thread().name))
        finally:
            running.release()

    with WriteBehind() as behind:
        for n in range(5):
            behind.submit(lambda n=n: write(n))
    assert [n for n, _ in done] == list(range(5))
    assert all(name.startswith("juzhang-write") for _, name in done)


def test_a_writes_error_is_raised_by_the_next_wait() -> None:
    def fail() -> None:
        raise ValueError("refused by a trigger")

    with pytest.raises(ValueError, match="refused"), WriteBehind() as behind:
        behind.submit(fail)
        behind.wait()
    # and by the end of the block when nothing waited for it
    with pytest.raises(ValueError, match="refused"), WriteBehind() as behind:
        behind.submit(fail)


def test_leaving_by_an_error_lets_the_write_in_progress_finish_first() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.2)
        finished.set()

    with pytest.raises(KeyboardInterrupt), WriteBehind() as behind:
        behind.submit(slow)
        raise KeyboardInterrupt
    # the connection is the caller's alone again before the error goes on
    assert finished.is_set()


def test_unthreaded_runs_each_write_at_once_in_the_callers_thread() -> None:
    seen: list[str] = []
    with WriteBehind(threaded=False) as behind:
        behind.submit(lambda: seen.append(threading.current_thread().name))
        assert seen == [threading.current_thread().name]


@pytest.mark.parametrize("threaded", [True, False])
def test_a_chunked_step_holds_each_write_until_the_next_chunk_is_read(threaded: bool) -> None:
    """hold/release: chunk n's write starts after chunk n+1's read; the last runs on leaving.

    ``written`` hears each write's rows once it is done, on the caller's thread.
    """
    log: list[str] = []
    caller = threading.current_thread().name

    def heard(rows: int) -> None:
        assert threading.current_thread().name == caller
        log.append(f"written {rows}")

    with WriteBehind(threaded=threaded, written=heard) as behind:
        for n in range(3):
            log.append(f"read {n}")
            behind.release()
            behind.hold(lambda n=n: log.append(f"write {n}"), 10 + n)
        log.append("loop done")
    assert log == [
        "read 0",
        "read 1",
        "write 0",
        "written 10",
        "read 2",
        "write 1",
        "written 11",
        "loop done",
        "write 2",
        "written 12",
    ]


def test_a_held_write_is_dropped_when_the_block_is_left_by_an_error() -> None:
    ran: list[int] = []
    with pytest.raises(KeyboardInterrupt), WriteBehind() as behind:
        behind.hold(lambda: ran.append(1))
        raise KeyboardInterrupt
    assert ran == []
