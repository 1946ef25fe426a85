"""Finding a bank statement's layout: the header row under a profile, and the metadata above it.

The first :data:`SCAN_ROWS` rows are searched for the header row under the
profile (given, or detected: the profile whose aliases recognise most header
cells, fewest left over); a header may span two rows (a merged group such as
发生额 above 借方/贷方).  Rows above it are title and metadata rows, from which
the own account number and name are read (``账号：…``, ``户名：…``, label and
value in one cell or side by side).  See :mod:`juzhang.importers.bank`.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NoReturn

from juzhang.errors import Problem, ProblemsError, ValidationError
from juzhang.importers.profile import (
    BankProfile,
)
from juzhang.importers.reader import (
    Row,
)
from juzhang.importers.values import (
    Cell,
    clean_text,
)

SCAN_ROWS = 30
"""Rows searched for the header (title and metadata rows come before it)."""


def _fold(text: str) -> str:
    """Header text folded for matching: NFKC, no whitespace, lower case, no trailing colon."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", folded).lower().rstrip(":*")


_SUFFIX = re.compile(r"[\[(][^\[\]()]*[\])]$")


@lru_cache(maxsize=4096)
def _keys(text: str) -> tuple[str, ...]:
    """A header text's match keys: folded, and folded without a bracketed suffix.

    Cached: header search asks again for every alias of every profile and every
    cell of the first rows, which made it grow with the number of profiles.
    """
    folded = _fold(text)
    if not folded:
        return ()
    stripped = _SUFFIX.sub("", folded)
    return (folded, stripped) if stripped and stripped != folded else (folded,)


@dataclass(frozen=True, slots=True)
class _Header:
    profile: BankProfile
    index: int  # position in the scanned rows of the (first) header row
    span: int
    number: int  # Excel row number of the last header row
    columns: dict[str, int]
    names: tuple[str, ...]
    score: tuple[int, int, int, int, int]


def _header_texts(rows: Sequence[Row], index: int, span: int) -> list[tuple[str, ...]]:
    """Candidate texts per column for a header of ``span`` rows starting at ``index``."""
    upper = [_safe_text(cell) for cell in rows[index].cells]
    if span == 1:
        return [(text,) for text in upper]
    lower = [_safe_text(cell) for cell in rows[index + 1].cells]
    width = max(len(upper), len(lower))
    upper += [""] * (width - len(upper))
    lower += [""] * (width - len(lower))
    filled = list(upper)
    for column in range(1, width):  # a merged group header spreads to the right
        if not filled[column] and lower[column] and lower[column - 1]:
            filled[column] = filled[column - 1]
    texts = []
    for column in range(width):
        options = [lower[column], upper[column], filled[column] + lower[column]]
        texts.append(tuple(dict.fromkeys(t for t in options if t)))
    return texts


def _safe_text(cell: Cell) -> str:
    try:
        return clean_text(cell)
    except ValidationError:
        return ""


@dataclass(frozen=True, slots=True)
class _Plan:
    """What header search asks of one profile, folded once per search instead of per row."""

    profile: BankProfile
    known: frozenset[str]  # every alias's keys
    targets: tuple[tuple[str, tuple[str, ...]], ...]  # field → its aliases' first keys, in order
    required: tuple[tuple[str, ...], ...]  # each required field's aliases' first keys
    detect: tuple[tuple[str, ...], ...]  # each detect entry's keys (() matches anything)


def _plan(profile: BankProfile) -> _Plan:
    targets = tuple(
        (name, tuple(_keys(alias)[0] if _keys(alias) else "" for alias in aliases))
        for name, aliases in profile.columns.items()
    )
    by_name = dict(targets)
    return _Plan(
        profile,
        frozenset(
            key for aliases in profile.columns.values() for alias in aliases for key in _keys(alias)
        ),
        targets,
        tuple(by_name.get(field, ()) for field in profile.required),
        tuple(_keys(marker) for marker in profile.detect),
    )


def _column_keys(texts: list[tuple[str, ...]]) -> list[set[str]]:
    """Each column's match keys (every candidate text's keys)."""
    return [{key for text in options for key in _keys(text)} for options in texts]


def _columns(plan: _Plan, first: dict[str, int]) -> dict[str, int]:
    """Map fields to columns: each field the leftmost column of its first alias found.

    ``first``: each header key's leftmost column (:func:`_row_keys`).
    """
    columns: dict[str, int] = {}
    for name, targets in plan.targets:
        for target in targets:
            found = first.get(target)
            if found is not None:
                columns[name] = found
                break
    return columns


def _recognised(plan: _Plan, keys: list[set[str]]) -> tuple[int, int]:
    """Count the header cells the profile recognises and those it does not (empty ones aside)."""
    known = plan.known
    recognised = sum(1 for column_keys in keys if not known.isdisjoint(column_keys))
    unrecognised = sum(1 for column_keys in keys if column_keys and known.isdisjoint(column_keys))
    return recognised, unrecognised


def _fits(plan: _Plan, keys: set[str]) -> bool:
    """Whether a row lacks nothing (:func:`_lacking` would return ``()``).

    Every required field has a column (one of its aliases is among the
    row's keys) and every detect header is there.
    """
    return all(any(t in keys for t in targets) for targets in plan.required) and all(
        not marker or any(key in keys for key in marker) for marker in plan.detect
    )


def _detected(marker: str, keys: set[str]) -> bool:
    """Whether a detect entry is among the header keys, with or without its bracketed suffix.

    ``借方发生额(支取)`` is matched by a bare ``借方发生额`` header, as the
    profile's column aliases are.
    """
    return any(key in keys for key in _keys(marker)) if _keys(marker) else True


@dataclass(frozen=True, slots=True)
class _Near:
    """A header row that came closest for one profile, and what it lacks."""

    recognised: int
    number: int  # Excel row number
    cells: tuple[str, ...]
    profile: BankProfile
    lacking: tuple[str, ...]


def _lacking(profile: BankProfile, columns: dict[str, int], keys: set[str]) -> tuple[str, ...]:
    """The required fields (with their header texts) and detect headers a row lacks."""
    shown = [
        f"{f} ({'/'.join(profile.columns.get(f, ()))})"
        for f in profile.required
        if f not in columns
    ]
    shown += [d for d in profile.detect if not _detected(d, keys) and d not in "".join(shown)]
    return tuple(shown)


def _find_header(rows: Sequence[Row], profiles: Sequence[BankProfile], name: str) -> _Header:
    """The best-scoring header row (and profile) among the first rows; refuse when none fits.

    Only rows a profile fits are scored; when none fits, :func:`_near_misses`
    goes over the rows again for the refusal's message.
    """
    best: _Header | None = None
    plans = [_plan(profile) for profile in profiles]
    for index in range(min(len(rows), SCAN_ROWS)):
        for span in (1, 2):
            if index + span > len(rows):
                continue
            texts = _header_texts(rows, index, span)
            keys, all_keys, first = _row_keys(texts)
            above = rows[:index]
            for plan in plans:
                profile = plan.profile
                if not _fits(plan, all_keys):
                    continue
                columns = _columns(plan, first)
                recognised, unrecognised = _recognised(plan, keys)
                marked = bool(profile.marker) and any(
                    profile.marker in _safe_text(cell) for row in above for cell in row.cells
                )
                score = (recognised, -unrecognised, int(marked), -span, -index)
                if best is None or score > best.score:
                    names = tuple(" / ".join(options[:1]) if options else "" for options in texts)
                    best = _Header(
                        profile,
                        index,
                        span,
                        rows[index + span - 1].number,
                        columns,
                        names,
                        score,
                    )
    if best is None:
        near = _near_misses(rows, plans)
        _refuse_header(name, profiles, sorted(near, key=lambda n: -n.recognised), rows)
    return best


def _row_keys(texts: list[tuple[str, ...]]) -> tuple[list[set[str]], set[str], dict[str, int]]:
    """A candidate header row's keys: per column, all together, and each key's leftmost column."""
    keys = _column_keys(texts)
    first: dict[str, int] = {}
    for column, column_keys in enumerate(keys):
        for key in column_keys:
            first.setdefault(key, column)
    return keys, set().union(*keys), first


def _near_misses(rows: Sequence[Row], plans: Sequence[_Plan]) -> list[_Near]:
    """For each profile, the one-row header that came closest (most cells recognised)."""
    near: dict[str, _Near] = {}
    for index in range(min(len(rows), SCAN_ROWS)):
        texts = _header_texts(rows, index, 1)
        keys, all_keys, first = _row_keys(texts)
        for plan in plans:
            profile = plan.profile
            columns = _columns(plan, first)
            recognised, _unrecognised = _recognised(plan, keys)
            seen = near.get(profile.name)
            if seen is None or recognised > seen.recognised:
                lacking = _lacking(profile, columns, all_keys)
                cells = tuple(t for options in texts for t in options[:1])
                near[profile.name] = _Near(recognised, rows[index].number, cells, profile, lacking)
    return list(near.values())


_NEAREST = 2
"""Profiles named in the message when no profile fits."""


def next_command(name: str) -> str:
    """The command to run when no layout fits: write a mapping for the file, then import with it."""
    return (
        "请先生成映射文件 (指南 §19)，核对后用 --mapping mapping.toml 导入 / write a mapping "
        "(guide §19), check it, then import with --mapping mapping.toml:\n"
        f"juzhang import suggest-mapping {shlex.quote(name)} --out mapping.toml"
    )


def _likeliest_header(rows: Sequence[Row]) -> tuple[int, tuple[str, ...]] | None:
    """The row that looks most like a header (most text cells) when no profile knows it."""
    best: tuple[int, tuple[str, ...]] | None = None
    for row in rows[:SCAN_ROWS]:
        texts = tuple(_safe_text(cell) for cell in row.cells)
        words = [t for t in texts if t and not _NUMBERISH.match(t)]
        if len(words) >= 2 and (best is None or len(words) > len([t for t in best[1] if t])):
            best = (row.number, tuple(t for t in texts if t))
    return best


_NUMBERISH = re.compile(r"^[-+¥￥(（]?[\d,.:/\-年月日 ]+[)）]?$")


def _signature(profile: BankProfile) -> tuple[str, ...]:
    """What tells a profile: its detect headers, else the first alias of each required field."""
    if profile.detect:
        return profile.detect
    return tuple(profile.columns[f][0] for f in profile.required if profile.columns.get(f))


def _refuse_header(
    name: str, profiles: Sequence[BankProfile], near: list[_Near], rows: Sequence[Row]
) -> NoReturn:
    """No profile fits: the header row found, what the nearest profiles lack, what to do next."""
    if near and near[0].recognised >= 2:
        found = near[0]
        header = ", ".join(cell for cell in found.cells if cell)
        lacks = "; ".join(
            f"{n.profile.name}: {', '.join(n.lacking)}" for n in near[:_NEAREST] if n.recognised
        )
        raise ProblemsError(
            f"无法读取对账单 / cannot read the statement {name}",
            [
                Problem(
                    name,
                    f"第 {found.number} 行的表头 / header row {found.number}: {header}\n"
                    f"最接近的格式缺少必需的列 / nearest layouts, required columns are missing: "
                    f"{lacks}\n" + next_command(name),
                    "header",
                )
            ],
        )
    known = "; ".join(f"{p.name}: {'、'.join(_signature(p))}" for p in profiles)
    likely = _likeliest_header(rows)
    seen = (
        f"第 {likely[0]} 行像是表头 / row {likely[0]} looks like the header: "
        f"{', '.join(likely[1])}\n"
        if likely is not None
        else ""
    )
    raise ProblemsError(
        f"无法读取对账单 / cannot read the statement {name}",
        [
            Problem(
                name,
                f"前 {SCAN_ROWS} 行中找不到可识别的表头 (已知格式 {known}) / no known header row "
                f"in the first {SCAN_ROWS} rows\n" + seen + next_command(name),
                "header",
            )
        ],
    )


# --------------------------------------------------------------------------- metadata

_PAIR = re.compile(r"([^\s:：]+?)\s*[:：]\s*([^:：]*?)(?=\s+[^\s:：]+\s*[:：]|$)")


def _metadata(rows: Sequence[Row], profile: BankProfile) -> tuple[str | None, str | None]:
    """Own account number and name from the rows above the header."""
    account_labels = {_fold(label) for label in profile.account_labels}
    name_labels = {_fold(label) for label in profile.name_labels}
    account: str | None = None
    holder: str | None = None
    for row in rows:
        texts = [_safe_text(cell) for cell in row.cells]
        filled = [text for text in texts if text]
        for position, text in enumerate(filled):
            pairs = _PAIR.findall(text) if (":" in text or "：" in text) else [(text, "")]
            for label, value in pairs:
                key = _fold(label)
                if key not in account_labels and key not in name_labels:
                    continue
                value = value.strip()
                if not value and len(pairs) == 1 and position + 1 < len(filled):
                    value = filled[position + 1]
                if not value:
                    continue
                if key in account_labels and account is None:
                    account = value
                elif key in name_labels and holder is None:
                    holder = value
    return account, holder
