"""Writes that run behind the step: a chunk's statements on a second thread.

A bulk step (posting every reviewed voucher, say) reads a chunk, computes
in Python (numbers, hashes, the audit records) and writes it.  Done in turn,
the client waits while the database writes, and the database waits while
the client computes.  :class:`WriteBehind` lets the two overlap: the step
hands a chunk's writes to a second thread and computes the next chunk
while they run.  The writes keep their order and stay in the step's one
transaction (the same connection), so all-or-nothing and every trigger,
key and check hold as before; only one thread uses the connection at a
time.

The caller keeps that rule: between :meth:`WriteBehind.submit` and the
next :meth:`WriteBehind.wait`, it may compute but not touch the
connection.  Reads the next chunk needs are made before the previous
chunk's writes are submitted, and whatever those writes would change (the
next number, the hash chain's head, the audit chain's head) is carried in
memory by the caller, who holds the entity's lock.

A chunked step goes through it in one shape, which :meth:`WriteBehind.hold`
and :meth:`WriteBehind.release` keep::

    with WriteBehind.on(session, written=stats.grew) as behind:
        for chunk in chunks:          # read what the chunk needs
            behind.release()          # the chunk before: its write starts
            write = make(chunk)       # compute, without the connection
            behind.hold(write, len(chunk))  # wait: the connection is free again
    # leaving the block runs the last chunk's write

``written`` hears the rows of each write once it is done, on the caller's
thread with the connection free (a step's statistics may ``ANALYZE``).

On PostgreSQL the server does the writes' work while psycopg waits with the
GIL released: posting 100,000 reviewed vouchers through ``juzhang voucher
post`` took 15.8 s instead of 18.1 s (medians of 7 runs each, alternating;
``docs/performance.md``).  On
SQLite the writes' work is the client's own (the library runs in the
process): the second thread competed with the first for the GIL and the
same posting took 12.1–12.5 s instead of 11.8 s, so there the writes run in
the caller's thread, in the same order (:meth:`WriteBehind.on` chooses).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from types import TracebackType
from typing import TYPE_CHECKING

from juzhang.storage.engine import is_sqlite

if TYPE_CHECKING:
    from sqlalchemy import Connection


class WriteBehind:
    """Run one write at a time on a second thread (see the module's text).

    Use as a context manager; leaving it waits for the write in progress,
    then runs the write still held (:meth:`hold`).
    A write's exception is raised in the caller by the next :meth:`wait`
    (or :meth:`submit`, or on leaving the block).  When the block is left
    by an exception, the write in progress is let finish and its own
    outcome dropped (the transaction is rolled back either way), so the
    connection is the caller's alone again before the exception goes on.
    """

    def __init__(
        self, *, threaded: bool = True, written: Callable[[int], None] | None = None
    ) -> None:
        self._pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="juzhang-write")
            if threaded
            else None
        )
        self._job: Future[None] | None = None
        self._held: tuple[Callable[[], None], int] | None = None
        self._running = 0  # the rows of the write submitted by release()
        self._written = written

    @classmethod
    def on(
        cls, session: Connection, *, written: Callable[[int], None] | None = None
    ) -> WriteBehind:
        """A step's writes on ``session``: threaded on PostgreSQL, in the caller's thread on
        SQLite (the module's text says why); ``written`` as for :meth:`hold`."""
        return cls(threaded=not is_sqlite(session), written=written)

    def release(self) -> None:
        """Start the write held by :meth:`hold` (the chunk before), if any.

        Call it once the next chunk's reads are made; compute, then :meth:`hold`.
        """
        if self._held is not None:
            write, self._running = self._held
            self._held = None
            self.submit(write)

    def hold(self, write: Callable[[], None], rows: int = 0) -> None:
        """Keep ``write`` (of ``rows`` rows) for the next :meth:`release` or the block's end.

        Waits for the write in flight first, so the connection is the
        caller's again when it returns, and tells ``written`` its rows.
        """
        self.wait()
        self._done()
        self._held = (write, rows)

    def _done(self) -> None:
        rows, self._running = self._running, 0
        if rows and self._written is not None:
            self._written(rows)

    def submit(self, write: Callable[[], None]) -> None:
        """Wait for the write in progress, then start ``write`` (run it now, unthreaded)."""
        self.wait()
        if self._pool is None:
            write()
            return
        self._job = self._pool.submit(write)

    def wait(self) -> None:
        """Wait for the write in progress; raise its exception, if it had one."""
        job, self._job = self._job, None
        if job is not None:
            job.result()

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.wait()
                self._done()
                if self._held is not None:  # the last chunk's write, here and now
                    write, self._running = self._held
                    self._held = None
                    write()
                    self._done()
            elif self._job is not None:
                wait_for([self._job])
        finally:
            self._job = None
            self._held = None
            if self._pool is not None:
                self._pool.shutdown(wait=True)
