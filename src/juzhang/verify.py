"""Verification (核对): recompute everything the books claim and report what disagrees.

:func:`verify` is read-only and returns problems as values, one per
disagreement found, so a month-end run or an auditor sees them all:

* every posted voucher balances and has at least two lines;
* voucher numbers run 1..n without gaps in every month;
* the hash chain over posted vouchers is intact;
* the running balances equal the sums of the posted lines;
* every posted cash/bank line is backed by a custody entry, and the posted
  lines naming each custody entry net to its amount or to zero;
* the opening balances balance;
* nobody holds, or ever held, the cashier role and a books-side role;
* every posted voucher's preparer, reviewer and poster held their roles when
  they acted, and none of them held the cashier role;
* the audit log's hash chain is intact (the agency's too, for all entities);
* the books hold what their records say exists: the chain reaches every
  head a disclosure recorded, and every voucher the audit log says was
  posted is there.

:func:`juzhang.anchors.check_anchors` adds the heads kept outside the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from juzhang.agency import list_entities
from juzhang.books import opening_difference
from juzhang.books.machine import SYSTEM_LOGIN
from juzhang.core.audit import GENESIS_HASH as GENESIS_AUDIT_HASH
from juzhang.core.audit import audit_hash
from juzhang.core.duty import BOOKS_SIDE, Role
from juzhang.core.period import format_period
from juzhang.core.types import Side, VoucherStatus
from juzhang.core.voucher import GENESIS_HASH, voucher_hash
from juzhang.errors import Problem
from juzhang.money import format_fen, to_fen
from juzhang.storage.access import AGENCY, EntityInfo, get_entity, user_logins
from juzhang.storage.schema import (
    Account,
    AccountBalance,
    AuditLog,
    CustodyEntry,
    Disclosure,
    RoleGrant,
    User,
    Voucher,
    VoucherLine,
)


def verify(session: Connection, entity: str | None = None) -> list[Problem]:
    """Recompute the books of one entity (or every entity) and return every problem found."""
    codes = [entity] if entity else [c for c, _n, _ch in list_entities(session)]
    problems: list[Problem] = []
    if entity is None:  # the agency-wide audit records (entity_id 0)
        problems.extend(audit_chain_problems(session, AGENCY, "代理中心 agency"))
    for code in codes:
        ent = get_entity(session, code)
        for check in CHECKS:
            problems.extend(check(session, ent))
    return problems


def _posted_lines(
    session: Connection, entity_id: int, since: int = 0
) -> dict[int, list[tuple[int, str, str, int, str, int | None]]]:
    """Lines of the posted vouchers after chain position ``since`` (all with 0), by voucher."""
    q = (
        select(
            VoucherLine.voucher_id,
            VoucherLine.line_no,
            VoucherLine.account_code,
            VoucherLine.side,
            VoucherLine.amount_fen,
            VoucherLine.summary,
            VoucherLine.custody_entry_id,
        )
        .join(
            Voucher,
            and_(Voucher.entity_id == VoucherLine.entity_id, Voucher.id == VoucherLine.voucher_id),
        )
        .where(VoucherLine.entity_id == entity_id, Voucher.status == VoucherStatus.POSTED)
    )
    if since:
        q = q.where(Voucher.chain_seq > since)
    rows = session.execute(q)
    out: dict[int, list[tuple[int, str, str, int, str, int | None]]] = defaultdict(list)
    for vid, no, acc, side, fen, summary, custody in rows:
        out[vid].append((no, acc, side, int(fen), summary, custody))
    return out


def check_balanced(session: Connection, ent: EntityInfo, since: int = 0) -> list[Problem]:
    """Every posted voucher balances (借贷平衡) and has at least two lines.

    With ``since``, the vouchers posted after that chain position.
    """
    problems = []
    for vid, lines in _posted_lines(session, ent.id, since).items():
        total = sum(fen if side == "D" else -fen for _n, _a, side, fen, _s, _c in lines)
        if total or len(lines) < 2:
            problems.append(
                Problem(
                    f"{ent.code} #{vid}",
                    f"已记账凭证借贷不平（差 {format_fen(total)}）或少于两行"
                    f" / posted voucher unbalanced by {format_fen(total)} or under two lines",
                    "voucher",
                )
            )
    return problems


def check_numbering(session: Connection, ent: EntityInfo) -> list[Problem]:
    """Voucher numbers run 1..n without gaps or repeats in every month (连续编号)."""
    by_period: dict[int, list[int]] = defaultdict(list)
    for period, number in session.execute(
        select(Voucher.period, Voucher.number).where(
            Voucher.entity_id == ent.id, Voucher.status == VoucherStatus.POSTED
        )
    ):
        by_period[period].append(number if number is not None else 0)
    problems = []
    for period, numbers in sorted(by_period.items()):
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            problems.append(
                Problem(
                    f"{ent.code} {format_period(period)}",
                    "凭证号不连续 / voucher numbers have gaps or repeats",
                    "numbering",
                )
            )
    return problems


def check_chain(
    session: Connection, ent: EntityInfo, start: tuple[int, str] = (0, GENESIS_HASH)
) -> list[Problem]:
    """The hash chain over posted vouchers is intact (哈希链).

    From ``start``, a chain position ``(sequence, hash)`` verified before:
    the vouchers after it must continue the chain from that hash.
    """
    return _walk_chain(session, ent, start)[0]


def _walk_chain(
    session: Connection, ent: EntityInfo, start: tuple[int, str]
) -> tuple[list[Problem], tuple[int, str]]:
    """Check the chain after ``start``; return the problems and the last position checked."""
    since, prev = start
    lines = _posted_lines(session, ent.id, since)
    expected_seq = since + 1
    q = (
        select(
            Voucher.id,
            Voucher.chain_seq,
            Voucher.prev_hash,
            Voucher.hash,
            Voucher.period,
            Voucher.number,
            Voucher.voucher_date,
            Voucher.kind,
            Voucher.reverses_id,
        )
        .where(Voucher.entity_id == ent.id, Voucher.status == "posted")
        .where(Voucher.chain_seq > since)
        .order_by(Voucher.chain_seq)
    )
    for vid, seq, prev_hash, digest, period, number, date, kind, reverses in session.execute(q):
        where = f"{ent.code} {format_period(period)} #{number}"
        if seq != expected_seq or prev_hash != prev:
            broken = Problem(where, "哈希链断开 / the hash chain is broken here", "chain")
            return [broken], start
        again = voucher_hash(
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
        if again != digest:
            return [
                Problem(
                    where, "凭证内容与哈希不符 / voucher content does not match its hash", "chain"
                )
            ], start
        prev = digest
        expected_seq += 1
    return [], (expected_seq - 1, prev)


def check_running_balances(session: Connection, ent: EntityInfo, since: int = 0) -> list[Problem]:
    """The running balances equal the sums of the posted lines (余额表与明细一致).

    With ``since``, only the months that vouchers posted after that chain
    position went into (the others' balances and lines have not changed).
    """
    months: list[int] | None = None
    if since:
        months = sorted(
            session.scalars(
                select(Voucher.period)
                .where(Voucher.entity_id == ent.id, Voucher.status == "posted")
                .where(Voucher.chain_seq > since)
                .distinct()
            )
        )
        if not months:
            return []
    held = select(
        AccountBalance.account_code,
        AccountBalance.period,
        AccountBalance.debit_fen,
        AccountBalance.credit_fen,
    ).where(AccountBalance.entity_id == ent.id)
    if months is not None:
        held = held.where(AccountBalance.period.in_(months))
    actual: dict[tuple[str, int], tuple[int, int]] = {}
    for acc, period, debit, credit in session.execute(held):
        actual[(acc, period)] = (int(debit), int(credit))
    expected: dict[tuple[str, int], tuple[int, int]] = {}
    q = (
        select(
            VoucherLine.account_code,
            Voucher.period,
            VoucherLine.side,
            func.sum(VoucherLine.amount_fen),
        )
        .join(
            Voucher,
            and_(Voucher.entity_id == VoucherLine.entity_id, Voucher.id == VoucherLine.voucher_id),
        )
        .where(VoucherLine.entity_id == ent.id, Voucher.status == VoucherStatus.POSTED)
        .group_by(VoucherLine.account_code, Voucher.period, VoucherLine.side)
    )
    if months is not None:
        # the months' lines through their vouchers' ids (ix_voucher_status → primary
        # key): SQLite otherwise reads every line of the history and filters
        inside = Voucher.__table__.alias().c
        q = q.where(
            Voucher.period.in_(months),
            VoucherLine.voucher_id.in_(
                select(inside.id).where(
                    inside.entity_id == ent.id,
                    inside.status == VoucherStatus.POSTED,
                    inside.period.in_(months),
                )
            ),
        )
    for acc, period, side, total in session.execute(q):
        d, c = expected.get((acc, period), (0, 0))
        expected[(acc, period)] = (d + int(total), c) if side == Side.DEBIT else (d, c + int(total))
    problems = []
    for key in sorted(set(actual) | set(expected)):
        if actual.get(key, (0, 0)) != expected.get(key, (0, 0)):
            acc, period = key
            problems.append(
                Problem(
                    f"{ent.code} {acc} {format_period(period)}",
                    f"余额表 {actual.get(key, (0, 0))} 与凭证 {expected.get(key, (0, 0))} 不符"
                    " / running balance differs from the posted lines",
                    "balance",
                )
            )
    return problems


def check_custody_links(session: Connection, ent: EntityInfo, since: int = 0) -> list[Problem]:
    """Custody links are one to one (钱账对应): backed lines, no entry backed twice.

    With ``since``, the lines of vouchers posted after that chain position,
    and the entries they name (netted over every posted line naming them).
    """
    posted = and_(
        Voucher.entity_id == VoucherLine.entity_id,
        Voucher.id == VoucherLine.voucher_id,
        Voucher.status == "posted",
    )
    new = Voucher.chain_seq > since if since else Voucher.chain_seq.is_not(None)
    named = (
        select(VoucherLine.custody_entry_id)
        .join(Voucher, posted)
        .where(VoucherLine.entity_id == ent.id, new, VoucherLine.custody_entry_id.is_not(None))
    )
    if since:
        # the lines found through their vouchers (chain position → id → primary key), never
        # by an index on the lines: SQLite otherwise walks every line of the history, once
        # per new voucher for ``named``
        later = Voucher.__table__.alias().c
        ids = select(later.id).where(
            later.entity_id == ent.id, later.status == "posted", later.chain_seq > since
        )
        new = and_(new, VoucherLine.voucher_id.in_(ids))
        named = select(VoucherLine.custody_entry_id).where(
            VoucherLine.entity_id == ent.id, VoucherLine.voucher_id.in_(ids)
        )
    problems = []
    unbacked = session.execute(
        select(VoucherLine.voucher_id, VoucherLine.line_no)
        .join(Voucher, posted)
        .join(
            Account,
            and_(
                Account.entity_id == VoucherLine.entity_id,
                Account.code == VoucherLine.account_code,
            ),
        )
        .where(
            VoucherLine.entity_id == ent.id,
            new,
            Account.custody.is_not(None),
            # not ``IS NULL``: an index on it would lead SQLite to every unlinked line
            func.coalesce(VoucherLine.custody_entry_id, 0) == 0
            if since
            else VoucherLine.custody_entry_id.is_(None),
        )
    )
    for vid, no in unbacked:
        problems.append(
            Problem(
                f"{ent.code} #{vid} 第{no}行",
                "现金/银行行没有出纳日记账支持 / cash or bank line without a custody entry",
                "custody",
            )
        )
    entry = and_(
        CustodyEntry.entity_id == VoucherLine.entity_id,
        CustodyEntry.id == VoucherLine.custody_entry_id,
    )
    net = (
        select(
            VoucherLine.custody_entry_id,
            func.sum(
                case(
                    (VoucherLine.side == "D", VoucherLine.amount_fen), else_=-VoucherLine.amount_fen
                )
            ),
            func.max(CustodyEntry.amount_fen),
        )
        .join(Voucher, posted)
        .join(CustodyEntry, entry)
        .where(VoucherLine.entity_id == ent.id, VoucherLine.custody_entry_id.in_(named))
        .group_by(VoucherLine.custody_entry_id)
        .order_by(VoucherLine.custody_entry_id)
    )
    for entry_id, total, amount in session.execute(net):
        if int(total) not in (0, int(amount)):
            problems.append(
                Problem(
                    f"{ent.code} 日记账 #{entry_id}",
                    f"凭证合计 {format_fen(int(total))} 与日记账金额不符或重复使用"
                    " / posted lines do not match the entry or back it twice",
                    "custody",
                )
            )
    # each line on its own: the entry's amount and direction (negated on a red reversal)
    for vid, no, side, fen, kind, linked, amount in session.execute(
        select(
            VoucherLine.voucher_id,
            VoucherLine.line_no,
            VoucherLine.side,
            VoucherLine.amount_fen,
            Voucher.kind,
            VoucherLine.custody_entry_id,
            CustodyEntry.amount_fen,
        )
        .join(Voucher, posted)
        .outerjoin(CustodyEntry, entry)
        .where(VoucherLine.entity_id == ent.id, new, VoucherLine.custody_entry_id.is_not(None))
        .order_by(VoucherLine.voucher_id, VoucherLine.line_no)
    ):
        signed = int(fen) if side == "D" else -int(fen)
        held = int(amount or 0)
        if signed != (-held if kind == "reversal" else held):
            problems.append(
                Problem(
                    f"{ent.code} #{vid} 第{no}行",
                    f"金额或方向与日记账 #{linked} 不符 / amount or direction differs"
                    f" from custody entry #{linked}",
                    "custody",
                )
            )
    return problems


def check_opening(session: Connection, ent: EntityInfo) -> list[Problem]:
    """The opening balances balance (期初试算平衡)."""
    diff = to_fen(opening_difference(session, ent.code))
    if diff:
        return [
            Problem(
                ent.code,
                f"期初余额不平，相差 {format_fen(diff)} / opening balances differ by "
                f"{format_fen(diff)}",
                "opening",
            )
        ]
    return []


def check_grants(session: Connection, ent: EntityInfo) -> list[Problem]:
    """Nobody ever held the cashier role and a books-side role for the same entity (钱账分离).

    The grants are a history (revoked grants stay), so a person who held one
    side and later the other is found as well as one who holds both now.
    """
    roles: dict[int, set[Role]] = defaultdict(set)
    for uid, role in session.execute(
        select(RoleGrant.user_id, RoleGrant.role).where(RoleGrant.entity_id == ent.id)
    ):
        roles[uid].add(Role(role))
    bad = {uid for uid, held in roles.items() if Role.CASHIER in held and held & BOOKS_SIDE}
    names = user_logins(session, bad)
    return [
        Problem(
            f"{ent.code} {names[uid]}",
            "同一人兼任（或先后担任）报账员和账务角色 / one person holds (or held) cashier and"
            " a books-side role",
            "duties",
        )
        for uid in sorted(bad)
    ]


_Grant = tuple[dt.datetime, dt.datetime | None]


def _held(grants: dict[tuple[int, str], list[_Grant]], uid: int | None, role: str, at: Any) -> bool:
    if uid is None or at is None:
        return False
    when = _utc(at)
    return any(
        _utc(start) <= when and (end is None or when <= _utc(end))
        for start, end in grants.get((uid, role), [])
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def check_people(session: Connection, ent: EntityInfo) -> list[Problem]:
    """Each posted voucher's preparer, reviewer and poster held their roles when they acted.

    The preparer and the poster held ``bookkeeper`` (the month-end machine
    vouchers: the system user), the reviewer ``reviewer``, the reviewer is not
    the preparer, and none of them ever held the entity's cashier role
    (制单、审核、记账与出纳分离).
    """
    grants: dict[tuple[int, str], list[_Grant]] = defaultdict(list)
    for uid, role, start, end in session.execute(
        select(RoleGrant.user_id, RoleGrant.role, RoleGrant.granted_at, RoleGrant.revoked_at).where(
            RoleGrant.entity_id == ent.id
        )
    ):
        grants[(uid, role)].append((start, end))
    system = session.execute(select(User.id).where(User.login == SYSTEM_LOGIN)).scalar()
    rows = session.execute(
        select(
            Voucher.period,
            Voucher.number,
            Voucher.kind,
            Voucher.prepared_by,
            Voucher.prepared_at,
            Voucher.reviewed_by,
            Voucher.reviewed_at,
            Voucher.posted_by,
            Voucher.posted_at,
        )
        .where(Voucher.entity_id == ent.id, Voucher.status == "posted")
        .order_by(Voucher.period, Voucher.number)
    ).all()
    problems = []
    for period, number, kind, prep, prep_at, rev, rev_at, post, post_at in rows:
        machine = kind in ("closing", "reversal") and system is not None
        why = []
        if any((uid, Role.CASHIER.value) in grants for uid in (prep, rev, post)):
            why.append("经手人曾任报账员 / a person of it held the cashier role")
        if rev == prep:
            why.append("审核人即制单人 / reviewed by its preparer")
        if not _held(grants, rev, "reviewer", rev_at):
            why.append("审核时审核人无审核角色 / the reviewer held no reviewer role then")
        if not (_held(grants, prep, "bookkeeper", prep_at) or (machine and prep == system)):
            why.append("制单时制单人无会计角色 / the preparer held no bookkeeper role then")
        if not (_held(grants, post, "bookkeeper", post_at) or (machine and post == system)):
            why.append("记账时记账人无会计角色 / the poster held no bookkeeper role then")
        if why:
            problems.append(
                Problem(f"{ent.code} {format_period(period)} #{number}", "；".join(why), "people")
            )
    return problems


def check_audit_chain(session: Connection, ent: EntityInfo) -> list[Problem]:
    """The entity's audit log is chained and intact (审计日志哈希链, :mod:`juzhang.core.audit`)."""
    return audit_chain_problems(session, ent.id, ent.code)


def audit_chain_problems(session: Connection, entity_id: int, label: str) -> list[Problem]:
    """Return a problem at the first audit row of ``entity_id`` that breaks the chain."""
    prev = GENESIS_AUDIT_HASH
    expected = 1
    for seq, at, actor, action, subject, detail, digest in session.execute(
        select(
            AuditLog.seq,
            AuditLog.at,
            AuditLog.actor,
            AuditLog.action,
            AuditLog.subject,
            AuditLog.detail,
            AuditLog.hash,
        )
        .where(AuditLog.entity_id == entity_id)
        .order_by(AuditLog.seq)
    ):
        again = audit_hash(
            prev,
            entity_id=entity_id,
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            detail=detail,
        )
        if seq != expected or digest != again:
            return [
                Problem(
                    f"{label} 审计日志 audit #{seq}",
                    "审计日志哈希链在此断开（记录被插入、修改或删除）/ the audit log's chain"
                    " breaks here (a row was inserted, changed or removed)",
                    "audit",
                )
            ]
        prev = digest
        expected += 1
    return []


_POSTING_ACTIONS = ("voucher.post", "voucher.bulk", "voucher.closing")


def check_complete(session: Connection, ent: EntityInfo) -> list[Problem]:
    """The books hold what their own records say exists (账簿完整).

    A restore that loaded some tables and not others (a data-only dump whose
    voucher table failed) leaves books that add up but are missing vouchers:
    the published disclosures name chain heads further than the chain goes,
    the audit log records postings of vouchers that are not there, and the
    months are closed over vouchers that are gone.
    """
    problems = []
    posted = {
        vid: seq
        for vid, seq in session.execute(
            select(Voucher.id, Voucher.chain_seq).where(
                Voucher.entity_id == ent.id, Voucher.status == "posted"
            )
        )
    }
    length = len(posted)
    for first, last, seq in session.execute(
        select(Disclosure.first_period, Disclosure.last_period, Disclosure.chain_seq)
        .where(Disclosure.entity_id == ent.id, Disclosure.chain_seq > length)
        .order_by(Disclosure.first_period)
    ):
        problems.append(
            Problem(
                f"{ent.code} {_range(first, last)}",
                f"财务公开记录账簿链到第 {seq} 笔，账簿只有 {length} 笔已记账凭证"
                f" / the disclosure records the chain at seq {seq}, the books hold {length}"
                " posted vouchers",
                "missing",
            )
        )
    missing: list[int] = []
    for (subject,) in session.execute(
        select(AuditLog.subject).where(
            AuditLog.entity_id == ent.id, AuditLog.action.in_(_POSTING_ACTIONS)
        )
    ):
        vid = _voucher_id(subject)
        if vid is not None and vid not in posted:
            missing.append(vid)
    if missing:
        shown = ", ".join(f"#{v}" for v in sorted(set(missing))[:10])
        problems.append(
            Problem(
                f"{ent.code} 凭证 {shown}",
                f"审计日志记载已记账的 {len(set(missing))} 张凭证不在账簿中"
                f" / the audit log records {len(set(missing))} posted voucher(s) the books"
                " do not hold",
                "missing",
            )
        )
    return problems


def _voucher_id(subject: str) -> int | None:
    text = subject.strip()
    if text.startswith("#") and text[1:].isdigit():
        return int(text[1:])
    return None


def _range(first: int, last: int) -> str:
    return (
        format_period(first) if first == last else f"{format_period(first)}..{format_period(last)}"
    )


def verify_since(
    session: Connection, ent: EntityInfo, start: tuple[int, str]
) -> tuple[list[Problem], tuple[int, str]]:
    """Verify what was posted after a verified chain position; return problems and the new one.

    ``start`` is ``(sequence, hash)`` of a voucher a previous verification
    reached (``(0, GENESIS_HASH)``: from the beginning).  The chain makes
    this sound: each voucher's hash covers its content and the hash before
    it, so the vouchers after ``start`` continuing the chain from its hash,
    with their lines, months and custody entries checked, is what a full
    verification would add to the earlier one.  The month-end close runs
    this (:func:`juzhang.closing.checks.check_verify`); ``juzhang verify``
    still checks the whole history.  Numbering is left to the close's own
    check.  Returns the problems and the last chain position verified
    (``start`` again when the chain is broken).
    """
    since = start[0]
    problems = check_opening(session, ent)
    problems += check_balanced(session, ent, since)
    broken, head = _walk_chain(session, ent, start)
    problems += broken
    problems += check_running_balances(session, ent, since)
    problems += check_custody_links(session, ent, since)
    problems += check_grants(session, ent)
    return problems, head


#: The checks :func:`verify` runs, in order; each is testable alone.
CHECKS = [
    check_opening,
    check_balanced,
    check_numbering,
    check_chain,
    check_running_balances,
    check_custody_links,
    check_grants,
    check_people,
    check_audit_chain,
    check_complete,
]
