"""The check of a disclosure workbook against what was published and the books (verify-report).

:func:`verify_report` trusts nothing in a file but its visible cells.  It
reads the workbook through the importers' guarded reader
(:func:`juzhang.importers.reader.open_table`, :data:`READ_LIMITS`: zip and
rows bombs refused in seconds), takes the entity and the months from the
printed fingerprint, regenerates the board the file must be — from the
snapshot stored at sign-off for a published month, from the books for a
closed unsigned one — and compares every visible cell of every sheet, text
and numbers, formatting ignored; each differing cell is named.  For a
published board it says separately whether the books still give the
published figures (a later change such as a budget adjustment is reported as
such, not as tampering).  A board of an open month is a draft.

**A page's JSON** (``SITE/H001/2026-09.json``, :mod:`juzhang.exporters.site`)
is checked the same way (:func:`verify_report` on a ``.json`` file): its
fingerprint is recomputed from its own figures (the canonical
serialisation, :func:`juzhang.reports.disclosure.digest_body`), then every
value of it — each row, text and figure — is compared with the JSON of the
board it must be; each difference is named by its path (``items[2].summary``)
under the "sheet" ``json``.  The exit codes mean the same.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from juzhang.core.period import format_period, parse_period, period_range
from juzhang.errors import JuzhangError, ValidationError
from juzhang.importers.reader import ReadLimits, column_letter, open_table
from juzhang.importers.table import MIB
from juzhang.importers.xlsx import list_sheets
from juzhang.reports.disclosure import (
    Disclosure,
    Figure,
    digest_body,
    disclosure,
)
from juzhang.storage.access import closed_periods, get_entity
from juzhang.storage.schema import Voucher

__all__ = [
    "EXIT_BOOKS_CHANGED",
    "EXIT_DIFFERS",
    "EXIT_DRAFT",
    "EXIT_PUBLISHED",
    "EXIT_UNSIGNED",
    "READ_LIMITS",
    "CellDifference",
    "FigureDifference",
    "PrintedFingerprint",
    "VerifyResult",
    "json_fingerprint",
    "read_fingerprint",
    "verify_report",
]

from juzhang.exporters.disclosure_excel import (
    AWAITING,
    DRAFT_MARK,
    FINGERPRINT_LABEL,
    write_disclosure_workbook,
)

"""The text before the fingerprint in the note under each sheet's tables."""

_FINGERPRINT = re.compile(
    re.escape(FINGERPRINT_LABEL)
    + r"([^:\s（]+):([0-9]{4}-[0-9]{2}(?:\.\.[0-9]{4}-[0-9]{2})?)"
    + r":([0-9]+):([0-9a-f]{16}):([0-9a-f]{16})"
)

READ_LIMITS = ReadLimits(
    max_file_bytes=32 * MIB,
    max_rows=100_000,
    max_columns=64,
    max_unzipped_bytes=128 * MIB,
    max_zip_members=200,
)
"""Limits for reading a board given to verify-report: far above any real board
(a board of thousands of items is a few MB and some thousand rows), far below
what hurts."""

EXIT_PUBLISHED = 0
EXIT_DIFFERS = 1
EXIT_BOOKS_CHANGED = 2
EXIT_DRAFT = 3
EXIT_UNSIGNED = 4


@dataclass(frozen=True, slots=True)
class CellDifference:
    """A visible cell whose value is not the expected board's (None: empty on that side)."""

    sheet: str
    cell: str
    in_file: str | None
    expected: str | None

    def __str__(self) -> str:
        return (
            f"{self.sheet}!{self.cell}: 文件 file {self.in_file!r}"
            f" ≠ 应为 expected {self.expected!r}"
        )


@dataclass(frozen=True, slots=True)
class FigureDifference:
    """A figure that differs between the published board and the books now."""

    key: str
    label: str
    published: str | None
    in_books: str | None

    def __str__(self) -> str:
        return (
            f"{self.label} [{self.key}]: 公开 published {self.published}"
            f" → 账簿 books {self.in_books}"
        )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What :func:`verify_report` found.

    ``state``: ``draft`` (a month of the board is open, or the file is a
    draft-marked board), ``final`` (closed, not signed yet: compared with the
    board regenerated from the books) or ``published`` (compared with the
    board regenerated from the published snapshot).  ``differences``: every
    visible cell whose value differs.  ``books_agree``: the books still give
    the published figures (``book_changes`` lists those that changed since:
    a legitimate later change, not tampering).  :attr:`exit_code` is what
    ``juzhang verify-report`` exits with.
    """

    path: str
    fingerprint: str
    entity: str
    period: str
    state: str
    matches: bool
    differences: tuple[CellDifference, ...] = ()
    books_agree: bool = True
    book_changes: tuple[FigureDifference, ...] = ()
    cells_checked: int = 0
    title: str = ""
    snapshot: bool = False

    @property
    def exit_code(self) -> int:
        """0 published and books agree, 1 differs, 2 published but books changed, 3 draft,
        4 matches the books but not signed yet."""
        if self.state == "draft":
            return EXIT_DRAFT
        if not self.matches:
            return EXIT_DIFFERS
        if self.state == "final":
            return EXIT_UNSIGNED
        return EXIT_PUBLISHED if self.books_agree else EXIT_BOOKS_CHANGED

    @property
    def messages(self) -> tuple[str, ...]:
        """The findings in words, most important first."""
        if self.state == "draft":
            return (
                f"草稿，不是发布的公开表（{self.entity} {self.period} 未结账或文件为草稿）"
                " / draft, not the published board",
            )
        out = []
        if not self.matches:
            out.append(
                f"{len(self.differences)} 个单元格与"
                f"{'发布的公开表' if self.state == 'published' else '账簿生成的公开表'}不符，"
                "文件被改动或不是该月的公开表 / "
                f"{len(self.differences)} cell(s) differ from the "
                f"{'published board' if self.state == 'published' else 'board the books give'}:"
                " the file was altered or is not this month's board"
            )
        elif self.state == "published":
            out.append("与发布的公开表一致 / the file is the published board")
        else:
            out.append(
                f"与账簿一致，{AWAITING}，尚未发布 / the file matches the books;"
                " not signed by the finance group yet (not published)"
            )
        if self.state == "published" and not self.books_agree:
            out.append(
                f"账簿自发布后已变动：{len(self.book_changes)} 个数字与发布时不同"
                "（如预算调整；这是之后的合法变动，不是篡改） / the books changed since"
                f" publication: {len(self.book_changes)} figure(s) differ (a later change,"
                " e.g. a budget adjustment; not tampering)"
            )
        elif self.state == "published":
            out.append("账簿仍与发布的数字一致 / the books still agree with the published figures")
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        """A JSON form of the result."""
        return {
            "path": self.path,
            "fingerprint": self.fingerprint,
            "entity": self.entity,
            "period": self.period,
            "state": self.state,
            "matches": self.matches,
            "books_agree": self.books_agree,
            "exit_code": self.exit_code,
            "cells_checked": self.cells_checked,
            "differences": [
                {"sheet": x.sheet, "cell": x.cell, "in_file": x.in_file, "expected": x.expected}
                for x in self.differences
            ],
            "book_changes": [
                {"key": x.key, "label": x.label, "published": x.published, "in_books": x.in_books}
                for x in self.book_changes
            ],
            "messages": list(self.messages),
        }


def _not_ours(path: Path, why: str) -> ValidationError:
    return ValidationError(
        f"文件 file {path}", f"不是居账生成的财务公开表 / not a juzhang disclosure workbook: {why}"
    )


@dataclass(frozen=True, slots=True)
class _Board:
    """A workbook's sheets in order (name, hidden) and the non-empty cells of the visible ones."""

    sheets: tuple[tuple[str, bool], ...]
    cells: Mapping[str, Mapping[str, str]]


def _text(value: object) -> str:
    """A cell's value as compared: numbers exact (8000 = 8000.00), dates ISO, text as is."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _read_board(path: Path) -> _Board:
    """Read every visible cell of a workbook through the importers' guarded reader.

    Raises:
        ProblemsError: the file is not a readable XLSX, or breaks :data:`READ_LIMITS`
            (a zip bomb, a rows bomb, too large).
        ValidationError: not an XLSX workbook.
    """
    name = path.name
    with open_table(path, limits=READ_LIMITS, name=name) as first:
        if first.kind != "xlsx":
            raise _not_ours(path, "不是 .xlsx 工作簿 / not an .xlsx workbook")
    sheets = tuple(list_sheets(path, name, READ_LIMITS))
    cells: dict[str, dict[str, str]] = {}
    for index, (sheet_name, hidden) in enumerate(sheets):
        if hidden or sheet_name in cells:
            continue
        grid: dict[str, str] = {}
        with open_table(path, limits=READ_LIMITS, sheet=index, name=name) as table:
            for row in table.rows():
                for column, value in enumerate(row.cells):
                    text = _text(value)
                    if text != "":
                        grid[f"{column_letter(column)}{row.number}"] = text
        cells[sheet_name] = grid
    return _Board(sheets, cells)


def _board_of(d: Disclosure) -> _Board:
    """The board ``d`` gives, read back the way a file is read."""
    with tempfile.TemporaryDirectory(prefix="juzhang-verify-") as folder:
        path = write_disclosure_workbook(d, Path(folder) / "expected.xlsx")
        return _read_board(path)


@dataclass(frozen=True, slots=True)
class PrintedFingerprint:
    """The fingerprint printed on a board: entity, range, chain position and digests."""

    text: str
    entity: str
    first: int
    last: int
    chain_seq: int
    chain_hash: str
    digest: str


def _printed_fingerprint(board: _Board, path: Path) -> PrintedFingerprint:
    for sheet_name, _hidden in board.sheets:
        for text in board.cells.get(sheet_name, {}).values():
            found = _FINGERPRINT.search(text)
            if found is None:
                continue
            entity, period, seq, head, digest = found.groups()
            a, _sep, b = period.partition("..")
            try:
                first, last = parse_period(a), parse_period(b or a)
            except (ValueError, JuzhangError) as exc:
                raise _not_ours(path, f"核验码无效 / bad fingerprint ({exc})") from exc
            fingerprint = ":".join(found.groups())
            return PrintedFingerprint(fingerprint, entity, first, last, int(seq), head, digest)
    raise _not_ours(path, "表上没有核验码 / no fingerprint printed on the board")


def read_fingerprint(path: Path) -> dict[str, str]:
    """Return the fingerprint printed on a disclosure workbook (``fingerprint``, ``entity``…).

    Raises:
        ValidationError: the file is not a juzhang disclosure workbook.
        ProblemsError: the file cannot be read safely.
    """
    fp = _printed_fingerprint(_read_board(path), path)
    return {
        "fingerprint": fp.text,
        "entity": fp.entity,
        "first": format_period(fp.first),
        "last": format_period(fp.last),
        "chain_seq": str(fp.chain_seq),
        "chain_hash": fp.chain_hash,
        "digest": fp.digest,
    }


def _chain_hash(session: Connection, entity: str, seq: int, prefix: str) -> str | None:
    """The full hash of the chain's voucher ``seq`` when it starts with ``prefix``."""
    if seq == 0:
        return "0" * 64 if prefix == "0" * 16 else None
    ent = get_entity(session, entity)
    head = session.execute(
        select(Voucher.hash).where(Voucher.entity_id == ent.id, Voucher.chain_seq == seq)
    ).scalar_one_or_none()
    return str(head) if head is not None and str(head).startswith(prefix) else None


def _compare(file: _Board, expected: _Board) -> tuple[list[CellDifference], int]:
    differences: list[CellDifference] = []
    checked = 0
    hidden = {name for name, h in file.sheets if h}
    for sheet_name, _h in expected.sheets:
        want = expected.cells.get(sheet_name, {})
        if sheet_name not in file.cells:
            why = "隐藏 hidden" if sheet_name in hidden else "缺少 missing"
            differences.append(CellDifference(sheet_name, "*", f"<{why}>", "<sheet>"))
            continue
        have = file.cells[sheet_name]
        for cell in sorted(set(want) | set(have), key=_cell_order):
            checked += 1
            if want.get(cell) != have.get(cell):
                differences.append(CellDifference(sheet_name, cell, have.get(cell), want.get(cell)))
    for sheet_name in file.cells:
        if sheet_name not in expected.cells:
            differences.append(CellDifference(sheet_name, "*", "<sheet>", "<不应有 none>"))
    return differences, checked


def _cell_order(cell: str) -> tuple[int, int, str]:
    letters = cell.rstrip("0123456789")
    return int(cell[len(letters) :] or 0), len(letters), letters


def _figure_changes(published: Disclosure, now: Disclosure) -> list[FigureDifference]:
    before = {f.key: f for f in published.figures()}
    after = {f.key: f for f in now.figures()}
    out = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if (b and str(b.value)) != (a and str(a.value)):
            label = (b or a).label if (b or a) is not None else key  # type: ignore[union-attr]
            out.append(
                FigureDifference(
                    key,
                    label,
                    None if b is None else str(b.value),
                    None if a is None else str(a.value),
                )
            )
    return out


JSON_MAX_BYTES = 32 * MIB
"""The largest page JSON verify-report reads (a real one is a few MB at most)."""


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every value of a JSON document with its path (``items[2].summary``), as JSON text."""
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _leaves(value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        if not value:
            yield path, "[]"
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path, json.dumps(value, ensure_ascii=False)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > JSON_MAX_BYTES:
            raise _not_ours(path, f"文件过大 / larger than {JSON_MAX_BYTES // MIB} MiB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _not_ours(path, f"不是 JSON / not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise _not_ours(path, "不是公开表的 JSON / not a disclosure's JSON")
    return data


def json_fingerprint(data: dict[str, Any]) -> str:
    """The fingerprint a disclosure's JSON gives: recomputed from its own figures.

    Raises:
        KeyError, TypeError, ValueError, AttributeError: the JSON is not a disclosure's.
    """
    entity, period = str(data["entity"]), str(data["period"])
    figures = [Figure(str(f["key"]), "", str(f["value"])) for f in data["figures"]]
    digest = hashlib.sha256(digest_body(entity, period, figures)).hexdigest()
    chain = data["chain"]
    return f"{entity}:{period}:{int(chain['seq'])}:{str(chain['hash'])[:16]}:{digest[:16]}"


def _verify_json(session: Connection, path: Path) -> VerifyResult:
    data = _read_json(path)
    try:
        fingerprint = json_fingerprint(data)
        a, _sep, b = str(data["period"]).partition("..")
        first, last = parse_period(a), parse_period(b or a)
    except (KeyError, TypeError, ValueError, AttributeError, JuzhangError) as exc:
        raise _not_ours(path, f"不是公开表的 JSON / not a disclosure's JSON ({exc!r})") from exc
    ent = get_entity(session, str(data["entity"]))
    base = functools.partial(
        VerifyResult,
        path=str(path),
        fingerprint=fingerprint,
        entity=ent.code,
        period=str(data["period"]),
        title=str(data.get("title", "")),
    )
    closed = closed_periods(session, ent.id)
    if data.get("state") == "draft" or any(p not in closed for p in period_range(first, last)):
        return base(state="draft", matches=False)
    expected, state, changes, snapshot = _expected(session, ent.code, first, last, data)
    want = dict(_leaves(expected.to_json()))
    have = dict(_leaves({k: v for k, v in data.items() if k != "format"}))
    differences = [
        CellDifference("json", key, have.get(key), want.get(key))
        for key in sorted(set(want) | set(have))
        if want.get(key) != have.get(key)
    ]
    if fingerprint != expected.fingerprint:
        differences.insert(
            0, CellDifference("json", "fingerprint*", fingerprint, expected.fingerprint)
        )
    return base(
        state=state,
        matches=not differences,
        differences=tuple(differences),
        books_agree=not changes,
        book_changes=tuple(changes),
        cells_checked=len(want),
        snapshot=snapshot,
    )


def _expected(
    session: Connection, code: str, first: int, last: int, data: dict[str, Any]
) -> tuple[Disclosure, str, list[FigureDifference], bool]:
    """The board a file of ``first..last`` must be, its state, the books' changes since."""
    from juzhang.closing.signoff import published_disclosure  # noqa: PLC0415 — closing imports us

    published = published_disclosure(session, code, (first, last))
    if published is not None:
        now = disclosure(
            session,
            code,
            first,
            last,
            config=published.config,
            posted_on=published.posted_on,
            posted_until=published.posted_until,
        )
        return published, "published", _figure_changes(published, now), True
    now = disclosure(session, code, first, last)
    chain: Any = data.get("chain")
    try:
        full = _chain_hash(session, code, int(chain["seq"]), str(chain["hash"])[:16])
    except (KeyError, TypeError, ValueError, AttributeError):
        full = None
    if full is not None:  # the head the file was made at, when the chain holds it
        now = dataclasses.replace(now, chain_seq=int(chain["seq"]), chain_hash=full)
    return now, now.state, [], False


def verify_report(session: Connection, path: Path) -> VerifyResult:
    """Check a disclosure workbook: every visible cell against the board it must be.

    A ``.json`` file is a published page's JSON (:mod:`juzhang.exporters.site`):
    its fingerprint is recomputed from its figures and every value is
    compared with the JSON of the board it must be (see the module docstring).

    The entity and the months come from the fingerprint printed on the board.
    A board of a month still open (or one marked 草稿) is a draft.  A published
    month's board is regenerated from the snapshot stored at sign-off, a
    closed unsigned one's from the books; then every visible cell of every
    sheet is compared, text and numbers, formatting ignored.  For a published
    board the books are compared with the published figures too.  Nothing
    the workbook carries besides its visible cells is trusted.

    Raises:
        ValidationError: the file is not a juzhang disclosure workbook.
        ProblemsError: the file cannot be read safely (too large, a zip or rows bomb).
        NotFoundError: the fingerprint names an entity these books do not have.
    """
    if path.suffix.lower() == ".json":
        return _verify_json(session, path)
    board = _read_board(path)
    fp = _printed_fingerprint(board, path)
    ent = get_entity(session, fp.entity)
    label = format_period(fp.first)
    if fp.last != fp.first:
        label += f"..{format_period(fp.last)}"
    title = next(iter(board.cells.get(board.sheets[0][0], {}).values()), "")
    base = functools.partial(
        VerifyResult, path=str(path), fingerprint=fp.text, entity=ent.code, period=label
    )
    closed = closed_periods(session, ent.id)
    is_draft = any(DRAFT_MARK in text for grid in board.cells.values() for text in grid.values())
    if is_draft or any(p not in closed for p in period_range(fp.first, fp.last)):
        return base(state="draft", matches=False, title=title)
    from juzhang.closing.signoff import published_disclosure  # noqa: PLC0415 — closing imports us

    published = published_disclosure(session, ent.code, (fp.first, fp.last))
    if published is not None:
        expected, state = published, "published"
        now = disclosure(
            session,
            ent.code,
            fp.first,
            fp.last,
            config=published.config,
            posted_on=published.posted_on,
            posted_until=published.posted_until,
        )
        changes = _figure_changes(published, now)
    else:
        now = disclosure(session, ent.code, fp.first, fp.last)
        expected, state, changes = now, now.state, []
        full = _chain_hash(session, ent.code, fp.chain_seq, fp.chain_hash)
        if full is not None:  # the head the file was made at, when the chain holds it
            expected = dataclasses.replace(now, chain_seq=fp.chain_seq, chain_hash=full)
    differences, checked = _compare(board, _board_of(expected))
    return base(
        state=state,
        matches=not differences,
        differences=tuple(differences),
        books_agree=not changes,
        book_changes=tuple(changes),
        cells_checked=checked,
        title=title,
        snapshot=published is not None,
    )
