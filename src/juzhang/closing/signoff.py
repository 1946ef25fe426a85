"""The disclosure sign-off (民主理财小组签字): the disclosure rows of closed months.

**Disclosure sign-off (民主理财小组签字)**, :func:`sign_disclosure`: the
disclosure row of a closed month is recorded as a draft when its workbook is
generated (:func:`record_disclosure`, called by the closing run with the very
report it wrote, so the row carries the fingerprint the workbook prints: the
hash-chain head and a digest of every figure), or at sign-off when no
workbook was generated.  The sign-off checks that the figures are still the
books' (the digest), then publishes the row and freezes it: the database
refuses any change to a published row, and reopening the months it covers.
Reopening drops a month's draft rows.

**What was published is frozen**: at sign-off the disclosure's JSON — every
section, row and figure, the title, entity, period and the signatures — is
stored on the row with the configuration it was computed with (its
``snapshot``, immutable like the row).  :func:`published_disclosure` reads it
back as the :class:`~juzhang.reports.disclosure.Disclosure` that was
published, so the published workbook can be written again at any time
(:func:`write_published`) and a board be checked against what was published.

The board's life: **draft** (a month is open: 草稿 · 未结账) → **final**
(closed, the closing run writes it and records the draft row: 待民主理财小组审核签字)
→ **published** (signed: the signature block filled, the snapshot frozen).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from juzhang.core.duty import Action
from juzhang.core.period import (
    format_period,
    parse_period_range,
    period_range,
)
from juzhang.disclosure_config import config_from_json, config_to_json, stored_config
from juzhang.errors import StateError, ValidationError
from juzhang.reports.disclosure import Disclosure as DisclosureReport
from juzhang.reports.disclosure import disclosure as compute_disclosure
from juzhang.reports.disclosure import disclosure_from_json
from juzhang.storage.access import (
    EntityInfo,
    audit,
    closed_periods,
    command,
    get_entity,
    next_id,
    now,
    require,
)
from juzhang.storage.schema import (
    Disclosure,
    Entity,
    User,
    Voucher,
)


def disclosure_fingerprint(
    session: Connection, entity: str, first: int, last: int
) -> tuple[int, str]:
    """Return ``(chain_seq, fingerprint)`` of the public disclosure of ``first..last`` now.

    The fingerprint is :attr:`juzhang.reports.disclosure.Disclosure.fingerprint`
    (entity, period, the hash-chain head and a digest of every figure the
    table shows), the one the disclosure workbook prints.

    Raises:
        NotFoundError: unknown entity.
        ValidationError: the range runs backwards or crosses a year.
    """
    report = compute_disclosure(session, entity, first, last)
    return report.chain_seq, report.fingerprint


def _figures_part(fingerprint: str) -> str:
    """The figure digest of a fingerprint (its last ``:`` part)."""
    return fingerprint.rsplit(":", 1)[-1]


def record_disclosure(
    session: Connection, report: DisclosureReport, path: Path | str | None = None
) -> int:
    """Record a generated disclosure as the draft row of its range; return the row's id.

    A draft row takes the report's fingerprint and chain position (the latest
    generated workbook's) and ``path``, where its workbook was written (the
    signed workbook replaces it there); a published row is left as it is.
    Every month of the range must be closed.

    Raises:
        NotFoundError: unknown entity.
        StateError: a month of the range is open.
    """
    ent = get_entity(session, report.entity, lock=True)
    _require_closed(session, ent, report.first, report.last)
    return _record(session, ent, report, None if path is None else str(Path(path).resolve()))


def _require_closed(session: Connection, ent: EntityInfo, first: int, last: int) -> None:
    closed = closed_periods(session, ent.id)
    open_months = [p for p in period_range(first, last) if p not in closed]
    if open_months:
        months = ", ".join(format_period(p) for p in open_months)
        raise StateError(
            f"{ent.code} {_label(first, last)} 财务公开 disclosure",
            f"{months} 未结账 open",
            "记录或签字 record or sign (close the months first)",
        )


def _label(first: int, last: int) -> str:
    a, b = format_period(first), format_period(last)
    return a if a == b else f"{a}..{b}"


def _record(
    session: Connection, ent: EntityInfo, report: DisclosureReport, path: str | None = None
) -> int:
    row = session.execute(
        select(Disclosure.id, Disclosure.status).where(
            Disclosure.entity_id == ent.id,
            Disclosure.first_period == report.first,
            Disclosure.last_period == report.last,
        )
    ).first()
    values = {
        "fingerprint": report.fingerprint,
        "chain_seq": report.chain_seq,
        "generated_at": now(),
    }
    if path is not None:
        values["board_path"] = path
    if row is not None:
        if row[1] == "draft":
            session.execute(
                update(Disclosure)
                .where(Disclosure.entity_id == ent.id, Disclosure.id == row[0])
                .values(**values)
            )
        return int(row[0])
    new_id = next_id(session, Disclosure.__table__, ent.id)
    session.execute(
        insert(Disclosure).values(
            entity_id=ent.id,
            id=new_id,
            first_period=report.first,
            last_period=report.last,
            status="draft",
            **values,
        )
    )
    return new_id


@dataclass(frozen=True, slots=True)
class SignedDisclosure:
    """A published disclosure: its range, fingerprint and the sign-off."""

    entity: str
    id: int
    first: int
    last: int
    fingerprint: str
    signer: str
    name: str
    opinion: str
    date: dt.date


def _range(period_or_range: int | str | tuple[int, int]) -> tuple[int, int]:
    if isinstance(period_or_range, tuple):
        first, last = period_or_range
    elif isinstance(period_or_range, int):
        first = last = period_or_range
    else:
        first, last = parse_period_range(period_or_range)
    if last < first:
        raise ValidationError(
            f"期间 period {format_period(first)}..{format_period(last)}",
            "结束早于开始 / range runs backwards",
        )
    return first, last


@command
def sign_disclosure(
    session: Connection,
    entity: str,
    period_or_range: int | str | tuple[int, int],
    actor: str,
    name: str | None,
    opinion: str,
    date: dt.date,
) -> SignedDisclosure:
    """Record the 民主理财小组's sign-off of a disclosure: it is then published and frozen.

    ``period_or_range`` is a month (202609, ``"2026-09"``) or a range
    (``"2026-07..2026-09"``, ``(202607, 202609)``) whose months are all
    closed.  The draft row recorded with the workbook
    (:func:`record_disclosure`) is signed when the figures it fingerprints
    are still the books' (the figure digest), and its fingerprint — the one
    the workbook prints — is frozen; without a draft row one is made from
    the books now.  ``name`` defaults to the actor's name.

    Raises:
        SegregationOfDutiesError: the actor is not a supervisor of the entity.
        ValidationError: no opinion, or a bad range.
        StateError: a month of the range is open, the disclosure is published
            already, or its figures changed since the workbook was generated.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.SIGN_DISCLOSURE)
    first, last = _range(period_or_range)
    label = _label(first, last)
    what = f"{ent.code} {label} 财务公开 disclosure"
    if not opinion.strip():
        raise ValidationError(what, "请填写民主理财小组意见 / the opinion is required")
    _require_closed(session, ent, first, last)
    found = session.execute(
        select(
            Disclosure.id, Disclosure.status, Disclosure.fingerprint, Disclosure.chain_seq
        ).where(
            Disclosure.entity_id == ent.id,
            Disclosure.first_period == first,
            Disclosure.last_period == last,
        )
    ).first()
    if found is not None and found[1] == "published":
        raise StateError(what, "已签字发布 published", "再签字 sign again")
    report = compute_disclosure(session, ent.code, first, last)
    if found is None:
        disclosure_id, frozen = _record(session, ent, report), report.fingerprint
    else:
        disclosure_id, frozen = int(found[0]), str(found[2])
        if _figures_part(frozen) != _figures_part(report.fingerprint):
            raise StateError(
                what,
                "公开表生成后数字已改变 / the figures changed since the workbook was generated",
                "签字 sign (generate the disclosure again)",
            )
    signer = name.strip() if name and name.strip() else _user_name(session, uid)
    seq = report.chain_seq if found is None else int(found[3])
    published = _published(session, ent, report, seq, frozen, signer, opinion, date)
    session.execute(
        update(Disclosure)
        .where(Disclosure.entity_id == ent.id, Disclosure.id == disclosure_id)
        .values(
            status="published",
            signed_by=uid,
            signer_name=signer,
            opinion=opinion,
            signed_on=date,
            fingerprint=published.fingerprint,
            snapshot=_snapshot_text(published),
        )
    )
    frozen = published.fingerprint
    audit(
        session,
        ent.id,
        actor,
        "disclosure.sign",
        label,
        {"name": signer, "opinion": opinion, "date": date.isoformat(), "fingerprint": frozen},
    )
    return SignedDisclosure(
        ent.code, disclosure_id, first, last, frozen, actor, signer, opinion, date
    )


def _user_name(session: Connection, uid: int) -> str:
    return str(session.execute(select(User.name).where(User.id == uid)).scalar_one())


# --------------------------------------------------------------------------- the published board


def _published(
    session: Connection,
    ent: EntityInfo,
    report: DisclosureReport,
    seq: int,
    frozen: str,
    signer: str,
    opinion: str,
    date: dt.date,
) -> DisclosureReport:
    """The disclosure as published: the sign-off in its signature block, the frozen chain head.

    The chain position is the one of the fingerprint the workbook printed
    (the draft row's), so the published board prints the same fingerprint.
    """
    head = report.chain_hash
    if seq != report.chain_seq:
        found = session.execute(
            select(Voucher.hash).where(Voucher.entity_id == ent.id, Voucher.chain_seq == seq)
        ).scalar_one_or_none()
        prefix = frozen.split(":")[-2] if frozen.count(":") >= 4 else ""
        if found is not None and str(found).startswith(prefix):
            head = str(found)
        else:  # the draft names a head the chain lacks: publish the head of now
            seq = report.chain_seq
    signatures = dataclasses.replace(
        report.signatures, opinion=opinion, signer=signer, signed_on=date, status="published"
    )
    return dataclasses.replace(
        report, chain_seq=seq, chain_hash=head, signatures=signatures, state="published"
    )


SNAPSHOT_VERSION = 1


def _snapshot_text(d: DisclosureReport) -> str:
    body = d.to_json()
    body["config"] = config_to_json(d.config)
    body["snapshot_version"] = SNAPSHOT_VERSION
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def published_disclosure(
    session: Connection, entity: str, period_or_range: int | str | tuple[int, int]
) -> DisclosureReport | None:
    """Return the disclosure as it was published (from its snapshot), None if not published.

    A disclosure published before snapshots were kept (migration 0009) is
    computed from the books with its sign-off.

    Raises:
        NotFoundError: unknown entity.
        ValidationError: a bad range.
        StateError: the stored snapshot cannot be read (its figures do not give its digest).
    """
    ent = get_entity(session, entity)
    first, last = _range(period_or_range)
    row = session.execute(
        select(Disclosure.status, Disclosure.snapshot).where(
            Disclosure.entity_id == ent.id,
            Disclosure.first_period == first,
            Disclosure.last_period == last,
        )
    ).first()
    if row is None or row[0] != "published":
        return None
    return _from_snapshot(session, ent.code, first, last, row[1])


def _from_snapshot(
    session: Connection, code: str, first: int, last: int, snapshot: str | None
) -> DisclosureReport:
    if snapshot is None:
        return compute_disclosure(session, code, first, last)
    try:
        data = json.loads(snapshot)
        return disclosure_from_json(data, config_from_json(data["config"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise StateError(
            f"{code} {_label(first, last)} 财务公开 disclosure",
            f"发布快照无法读取 / the published snapshot is unreadable ({exc})",
            "导出 export",
        ) from exc


def published_boards(
    session: Connection, codes: Sequence[str] | None = None
) -> Iterator[DisclosureReport]:
    """Yield every published disclosure (from its snapshot) of ``codes`` (None: all entities).

    In entity code and period order; drafts and unsigned boards are never
    yielded.  One query reads the snapshots of all of them.

    Raises:
        NotFoundError: a code names no entity.
        StateError: a stored snapshot cannot be read.
    """
    query = (
        select(Entity.code, Disclosure.first_period, Disclosure.last_period, Disclosure.snapshot)
        .join(Entity, Entity.id == Disclosure.entity_id)
        .where(Disclosure.status == "published")
        .order_by(Entity.code, Disclosure.first_period, Disclosure.last_period)
    )
    if codes is not None:
        for code in codes:
            get_entity(session, code)  # an unknown code is an error, not an empty site
        query = query.where(Entity.code.in_(list(codes)))
    # streamed: a site of thousands of boards holds one batch of snapshots at a time
    for code, first, last, snapshot in session.execute(query.execution_options(yield_per=64)):
        yield _from_snapshot(session, str(code), int(first), int(last), snapshot)


def site_address(session: Connection, entity: str, base_url: str | None = None) -> str:
    """Return where the entity's published pages are put: ``base_url``, else its stored setting.

    "" when neither is set (the stored disclosure configuration's ``base_url``).

    Raises:
        NotFoundError: unknown entity.
    """
    if base_url:
        return base_url.rstrip("/")
    config = stored_config(session, entity)
    return "" if config is None else config.base_url


def board_path(
    session: Connection, entity: str, period_or_range: int | str | tuple[int, int]
) -> Path | None:
    """Where the closing run wrote the board of ``period_or_range`` (None when unknown)."""
    ent = get_entity(session, entity)
    first, last = _range(period_or_range)
    found = session.execute(
        select(Disclosure.board_path).where(
            Disclosure.entity_id == ent.id,
            Disclosure.first_period == first,
            Disclosure.last_period == last,
        )
    ).scalar_one_or_none()
    return None if found is None else Path(found)


def write_published(
    session: Connection,
    entity: str,
    period_or_range: int | str | tuple[int, int],
    out: Path | None = None,
    base_url: str | None = None,
) -> Path:
    """Write the published workbook (from the snapshot) to ``out``; return the path.

    With a site address (``base_url``, else the entity's stored ``base_url``:
    :func:`site_address`) the board prints the QR code of its web page and
    fingerprint (:func:`juzhang.exporters.site.page_url`).

    ``out`` defaults to where the closing run wrote the month's board (the
    published workbook replaces the draft there), else
    ``disclosure-<ENTITY>-<period>.xlsx`` in the current folder.  The file is
    written beside its place and renamed into it, so it is always whole.

    Raises:
        NotFoundError: unknown entity.
        StateError: the disclosure is not published.
        OSError: the file cannot be written.
    """
    from juzhang.exporters.disclosure_excel import (  # noqa: PLC0415 — the exporter imports us
        write_disclosure_workbook,
    )
    from juzhang.exporters.site import page_url  # noqa: PLC0415 — the exporters import us

    d = published_disclosure(session, entity, period_or_range)
    if d is None:
        first, last = _range(period_or_range)
        raise StateError(
            f"{entity} {_label(first, last)} 财务公开 disclosure",
            "未签字发布 / not signed and published",
            "导出发布的公开表 export the published board (sign it first)",
        )
    path = out or board_path(session, entity, (d.first, d.last))
    if path is None:
        path = Path(f"disclosure-{d.entity}-{d.period_label}.xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    address = site_address(session, d.entity, base_url)
    try:
        write_disclosure_workbook(d, tmp, page_url(address, d) if address else None)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
