"""Dedup keys of statement rows, streamed (去重键).

Every row's key is the bank's serial where there is one, else a fingerprint
plus an occurrence counter (:func:`juzhang.importers.bank.dedup_keys`).  Keys
are computed while streaming, one date at a time, so memory stays flat
however long the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from juzhang.importers.bank import StatementRow, dedup_keys

_KEY_MAX = 200  # statement_line.dedup_key length


class Unsorted(Exception):
    """A date came back after other dates: keys must be counted over the whole file."""


class StreamedKeys:
    """Dedup keys equal to :func:`~juzhang.importers.bank.dedup_keys`, streamed.

    Identical rows share their date, so occurrence counters are needed for
    the current date only, provided the file keeps each date's rows
    together.  With ``evict`` a date met again after another raises
    :class:`Unsorted` (the import starts again without evicting).
    """

    def __init__(self, account: str, *, evict: bool) -> None:
        self.account = account
        self.evict = evict
        self.day: dt.date | None = None
        self.counts: dict[str, int] = {}
        self.done: set[dt.date] = set()

    def keys(self, rows: Sequence[StatementRow]) -> list[str]:
        """Return the keys of the next rows of the file, in order.

        :func:`~juzhang.importers.bank.dedup_keys` gives each row's base key
        (one call per batch); the occurrence counters run on across batches.
        """
        out = []
        counts = self.counts
        for row, local in zip(rows, dedup_keys(rows, self.account), strict=True):
            if row.date != self.day:
                if self.day is not None:
                    self.done.add(self.day)
                if self.evict:
                    if row.date in self.done:
                        raise Unsorted
                    counts.clear()
                self.day = row.date
            base = local.rpartition("#")[0]
            count = counts.get(base, 0) + 1
            counts[base] = count
            key = f"{base}#{count}"
            if len(key) > _KEY_MAX:  # a very long serial: keep the key within the column
                key = f"sha:{hashlib.sha256(base.encode('utf-8')).hexdigest()}#{count}"
            out.append(key)
        return out
