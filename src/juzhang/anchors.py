"""Anchors (链头锚点): the published chain heads, kept outside the database.

Each community's posted vouchers form a hash chain (:mod:`juzhang.core.voucher`);
when the 民主理财小组 signs a disclosure, the chain's head at that moment
(its sequence number and hash) is printed on the board as part of the
fingerprint (核验码).  The hash is unkeyed: someone with the database owner's
rights can disable the triggers, rewrite a posted voucher, recompute its
hash and the rest of the chain and fix the balances, and ``juzhang verify``
finds the books consistent.  What they cannot rewrite is a copy of the
heads kept elsewhere.

* :func:`export_anchors` lists the published heads (entity, months, chain
  sequence, head hash, fingerprint, signing date) as JSON for the finance
  group or the sub-district to keep (``juzhang anchors export``);
* :func:`read_anchors` reads such lists back, and also disclosure JSON files
  and the published workbooks themselves (their printed fingerprint, read
  with the importer's guarded reader);
* :func:`check_anchors` recomputes each community's chain from the vouchers'
  content and reports every anchor the books no longer lead to
  (``juzhang verify --anchors``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from juzhang.core.period import format_period
from juzhang.core.voucher import GENESIS_HASH, voucher_hash
from juzhang.errors import NotFoundError, Problem, ProblemsError
from juzhang.importers.reader import open_table  # the guarded reader: limits, no bombs
from juzhang.storage.access import EntityInfo, get_entity
from juzhang.storage.schema import Disclosure, Entity, Voucher, VoucherLine

__all__ = ["Anchor", "check_anchors", "export_anchors", "read_anchors"]

FORMAT = "juzhang-anchors/1"
_NOTE = "核验码 / fingerprint："


@dataclass(frozen=True, slots=True)
class Anchor:
    """A published chain head: ``head`` is the full hash or its first 16 hex digits."""

    entity: str
    period: str
    chain_seq: int
    head: str
    fingerprint: str
    signed_on: str | None
    source: str

    def to_json(self) -> dict[str, Any]:
        """The anchor as one entry of the exported list."""
        return {
            "entity": self.entity,
            "period": self.period,
            "chain_seq": self.chain_seq,
            "head": self.head,
            "fingerprint": self.fingerprint,
            "signed_on": self.signed_on,
        }


def export_anchors(session: Connection, entities: Sequence[str] | None = None) -> dict[str, Any]:
    """Return the published heads of ``entities`` (default: all) as a JSON-ready dict.

    Each published disclosure gives one anchor; its head is the fingerprint's
    hash (the hash printed on the board).

    Raises:
        NotFoundError: an unknown entity code.
    """
    ids = [get_entity(session, code).id for code in entities] if entities else None
    q = (
        select(
            Entity.code,
            Disclosure.first_period,
            Disclosure.last_period,
            Disclosure.chain_seq,
            Disclosure.fingerprint,
            Disclosure.signed_on,
        )
        .join(Entity, Entity.id == Disclosure.entity_id)
        .where(Disclosure.status == "published")
        .order_by(Entity.code, Disclosure.first_period, Disclosure.last_period)
    )
    if ids is not None:
        q = q.where(Disclosure.entity_id.in_(ids))
    anchors = []
    for code, first, last, seq, fingerprint, signed in session.execute(q):
        period = (
            format_period(first)
            if first == last
            else f"{format_period(first)}..{format_period(last)}"
        )
        anchors.append(
            Anchor(
                code,
                period,
                int(seq),
                _fingerprint_head(fingerprint),
                fingerprint,
                None if signed is None else signed.isoformat(),
                "",
            ).to_json()
        )
    return {"format": FORMAT, "anchors": anchors}


def _fingerprint_head(fingerprint: str) -> str:
    """The head hash of ``"ENTITY:PERIOD:SEQ:HEAD16:DIGEST16"``."""
    return fingerprint.rsplit(":", 3)[2] if fingerprint.count(":") >= 4 else ""


def _from_fingerprint(fingerprint: str, source: str, signed: str | None = None) -> Anchor:
    parts = fingerprint.strip().rsplit(":", 3)
    if len(parts) != 4 or ":" not in parts[0] or not parts[1].isdigit():
        raise ValueError(f"not a fingerprint: {fingerprint!r}")
    entity, period = parts[0].split(":", 1)
    return Anchor(entity, period, int(parts[1]), parts[2], fingerprint.strip(), signed, source)


def read_anchors(paths: Iterable[Path]) -> list[Anchor]:
    """Read anchors from files or folders (their ``*.json`` and ``*.xlsx``).

    A JSON file is an exported list (:func:`export_anchors`) or a disclosure's
    JSON (its ``fingerprint`` and ``chain``); a workbook is a published board,
    whose printed fingerprint is read with the importer's guarded reader.

    Raises:
        ProblemsError: every file that is missing, unreadable or holds no anchor.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.iterdir() if p.suffix.lower() in (".json", ".xlsx"))
            )
        else:
            files.append(path)
    anchors: list[Anchor] = []
    problems: list[Problem] = []
    for file in files:
        try:
            found = _read_xlsx(file) if file.suffix.lower() == ".xlsx" else _read_json(file)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(
                Problem(str(file), f"无法读取锚点 / cannot read anchors: {exc}", "anchors")
            )
            continue
        except ProblemsError as exc:
            problems.extend(exc.problems)
            continue
        if not found:
            problems.append(Problem(str(file), "没有锚点 / no anchor in the file", "anchors"))
        anchors.extend(found)
    if problems:
        raise ProblemsError("锚点 anchors", problems)
    return anchors


def _read_json(file: Path) -> list[Anchor]:
    if file.stat().st_size > 50_000_000:
        raise ValueError("文件过大 / file too large")
    data = json.loads(file.read_text(encoding="utf-8"))
    source = str(file)
    if isinstance(data, dict) and "anchors" in data:
        out = []
        for item in data["anchors"]:
            anchor = _from_fingerprint(str(item["fingerprint"]), source, item.get("signed_on"))
            head = str(item.get("head") or anchor.head)
            out.append(
                Anchor(
                    str(item["entity"]),
                    str(item["period"]),
                    int(item["chain_seq"]),
                    head,
                    anchor.fingerprint,
                    anchor.signed_on,
                    source,
                )
            )
        return out
    if isinstance(data, dict) and "fingerprint" in data:
        anchor = _from_fingerprint(str(data["fingerprint"]), source)
        chain = data.get("chain") or {}
        if isinstance(chain, dict) and chain.get("hash"):
            anchor = Anchor(
                anchor.entity,
                anchor.period,
                int(chain.get("seq", anchor.chain_seq)),
                str(chain["hash"]),
                anchor.fingerprint,
                None,
                source,
            )
        return [anchor]
    raise ValueError("不是锚点清单或财务公开 JSON / neither an anchor list nor a disclosure's JSON")


def _read_xlsx(file: Path) -> list[Anchor]:
    with open_table(file, sheet=0) as table:
        for row in table.rows():
            for cell in row.cells:
                text = str(cell)
                if text.startswith(_NOTE):
                    fingerprint = text[len(_NOTE) :].split("（", 1)[0]
                    return [_from_fingerprint(fingerprint, str(file))]
    return []


def _recomputed_chain(session: Connection, ent: EntityInfo) -> list[str]:
    """The chain's hashes recomputed from the posted vouchers' content, by sequence (1-based)."""
    lines: dict[int, list[tuple[int, str, str, int, str, int | None]]] = {}
    for vid, no, acc, side, fen, summary, custody in session.execute(
        select(
            VoucherLine.voucher_id,
            VoucherLine.line_no,
            VoucherLine.account_code,
            VoucherLine.side,
            VoucherLine.amount_fen,
            VoucherLine.summary,
            VoucherLine.custody_entry_id,
        ).where(VoucherLine.entity_id == ent.id)
    ):
        lines.setdefault(vid, []).append((no, acc, side, int(fen), summary, custody))
    chain: list[str] = []
    prev = GENESIS_HASH
    for vid, seq, period, number, date, kind, reverses in session.execute(
        select(
            Voucher.id,
            Voucher.chain_seq,
            Voucher.period,
            Voucher.number,
            Voucher.voucher_date,
            Voucher.kind,
            Voucher.reverses_id,
        )
        .where(Voucher.entity_id == ent.id, Voucher.status == "posted")
        .order_by(Voucher.chain_seq)
    ):
        if seq != len(chain) + 1:
            break  # a gap: the chain ends here (verify reports it)
        prev = voucher_hash(
            prev,
            entity=ent.code,
            seq=seq,
            period=period,
            number=number or 0,
            date=date,
            kind=kind,
            reverses=reverses,
            lines=lines.get(vid, []),
        )
        chain.append(prev)
    return chain


def check_anchors(session: Connection, anchors: Sequence[Anchor]) -> list[Problem]:
    """Return a problem for every anchor the books no longer lead to.

    The chain is recomputed from the vouchers' content (the stored hashes are
    not trusted); the hash at the anchor's sequence must be the anchor's head.
    """
    problems = []
    chains: dict[str, list[str] | None] = {}
    for a in anchors:
        if a.entity not in chains:
            try:
                chains[a.entity] = _recomputed_chain(session, get_entity(session, a.entity))
            except NotFoundError:
                chains[a.entity] = None
        chain = chains[a.entity]
        where = f"{a.entity} {a.period}"
        if chain is None:
            problems.append(
                Problem(
                    where,
                    f"账簿中没有这个社区 / no such entity in the books ({a.source})",
                    "anchors",
                )
            )
        elif a.chain_seq > len(chain):
            problems.append(
                Problem(
                    where,
                    f"公开时账簿链到第 {a.chain_seq} 笔，账簿现在只到第 {len(chain)} 笔"
                    f" / published at chain seq {a.chain_seq}, the books' chain ends at"
                    f" {len(chain)} ({a.source})",
                    "anchors",
                )
            )
        elif a.chain_seq and (not a.head or not chain[a.chain_seq - 1].startswith(a.head.lower())):
            problems.append(
                Problem(
                    where,
                    f"账簿已不能导出公开时的链头（第 {a.chain_seq} 笔）：公开后账簿被改写"
                    f" / the books no longer lead to the head published at chain seq"
                    f" {a.chain_seq}: they were rewritten after publication ({a.source})",
                    "anchors",
                )
            )
    return problems
