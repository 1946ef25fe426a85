"""Claims (报账): a claim batch recorded by the cashier, then drafted as vouchers.

The service side of claim batches; the file side — the form's columns,
reading a batch, the paperwork checks — is :mod:`juzhang.importers.claims`,
the rules file :mod:`juzhang.importers.claims_config`, the Excel form
:mod:`juzhang.exporters.claims_template`.  Who does what (钱账分离):

1. :func:`import_claims` (the **cashier**) reads a filled batch.  A claim with
   incomplete paperwork is stored as ``returned`` with its reasons (Chinese /
   English) and never booked; every valid claim records the cashier's
   custody entry (the money out of cash or the bank, through
   :func:`juzhang.custody.record_entries`) and a ``pending`` claim linked to it.
2. :func:`draft_claims` (the **bookkeeper**) turns the pending claims into
   draft vouchers in one command (Dr the expense account / Cr cash or bank,
   naming the custody entry), through :func:`juzhang.books.draft_vouchers`.

Checked against the books here: the month (before the books start or
closed) and the 科目或类别, which resolves, in this order, through the rules'
``[aliases]``, an account code (``51301`` or ``51301 办公费``), an account name
(``办公费``) or a path (``管理费用—办公费``); the account must be an active
leaf account of an allowed category and not a cash or bank account.

Re-importing: a file with the same content (SHA-256) as an earlier claim
batch of the entity is **skipped**: nothing is added and the result says
which batch it was (``already_imported``).  A changed file whose rows repeat
claims already pending or drafted (same date, amount, 事由, payment account,
经手人 and invoice number, counted occurrence by occurrence) skips those rows
(``duplicates``), so a cashier who fixes the returned rows in the same sheet
and submits it again books each payment once.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from juzhang import books, custody
from juzhang.core.duty import Action
from juzhang.core.period import format_period, period_of
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import (
    ClaimRowRef,
    NotFoundError,
    Problem,
    ProblemRef,
    ProblemsError,
    StateError,
    VoucherRef,
)
from juzhang.import_batch import earlier_batch, file_sha256, record_batch
from juzhang.importers.claims import (
    ClaimBatch,
    ClaimRow,
    approval_reasons,
    attachment_count,
    fold_label,
    paperwork_reasons,
    read_claim_batch,
)
from juzhang.importers.claims_config import DEFAULT_CONFIG, ClaimsConfig
from juzhang.money import from_fen, to_fen
from juzhang.storage.access import (
    AccountInfo,
    EntityInfo,
    accounts_of,
    audit,
    audit_many,
    closed_periods,
    command,
    get_entity,
    next_id,
    require,
    update_many,
)
from juzhang.storage.schema import Claim

__all__ = [
    "ClaimView",
    "ClaimsResult",
    "draft_claims",
    "draft_located",
    "import_claims",
    "list_claims",
    "pending_claims",
    "returned_claims",
]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ClaimView:
    """A stored claim (报账单行) with its status, reasons and links."""

    id: int
    batch: int
    row: int
    date: dt.date
    purpose: str
    amount: Decimal
    capitals: str
    category: str
    account: str | None
    payment: str
    custody_account: str | None
    handler: str
    witness: str
    approver: str
    attachments: int
    invoice_no: str
    decision_ref: str
    status: str
    reasons: tuple[str, ...]
    custody_entry: int | None
    voucher: int | None


@dataclass(frozen=True, slots=True)
class ClaimsResult:
    """What :func:`import_claims` did.

    ``already_imported`` means the same file was imported before as batch
    ``batch_id`` and nothing was added.  ``duplicates`` are ``(row, earlier
    claim id)`` of rows that repeat claims already pending or drafted (not
    stored again); ``skipped`` are notes on rows that are not claims (the
    template's example row, totals, signature lines).
    """

    batch_id: int
    file_name: str
    sha256: str
    already_imported: bool
    rows: int
    pending: tuple[ClaimView, ...]
    returned: tuple[ClaimView, ...]
    custody_entries: tuple[int, ...]
    duplicates: tuple[tuple[int, int], ...]
    skipped: tuple[str, ...]
    rules: str


# --------------------------------------------------------------------------- checking claims


@dataclass(frozen=True, slots=True)
class _Context:
    entity: EntityInfo
    accounts: Mapping[str, AccountInfo]
    closed: set[int]
    config: ClaimsConfig
    aliases: Mapping[str, str]  # folded text → code


_PATH_SPLIT = re.compile(r"\s*[—–\-_/／:：>]+\s*")


def _check_claim(claim: ClaimRow, ctx: _Context) -> tuple[str | None, list[str]]:
    """Return the account the claim is charged to (if found) and the reasons to return it."""
    t = claim.text
    reasons = paperwork_reasons(claim, ctx.config)
    period = period_of(claim.date)
    if period < ctx.entity.start_period:
        reasons.append(
            f"日期早于建账月份 {format_period(ctx.entity.start_period)} / dated before the books "
            "start"
        )
    elif period in ctx.closed:
        reasons.append(
            f"{format_period(period)} 已结账 / the month {format_period(period)} is closed"
        )
    reasons.extend(approval_reasons(claim.amount, t["approver"], t["decision_ref"], ctx.config))
    account, why = _resolve_category(t["category"], ctx)
    if why:
        reasons.append(why)
    return account, reasons


def _resolve_category(text: str, ctx: _Context) -> tuple[str | None, str | None]:
    if not text:
        return None, "科目或类别为空 / no account or category"
    code = ctx.aliases.get(fold_label(text))
    if code is None:
        match = re.match(r"([0-9]{3,})\s*(.*)$", unicodedata.normalize("NFKC", text))
        if match is not None:
            code = match[1]
            if code not in ctx.accounts:
                return None, f"科目 {code} 不存在 / no account {code}"
        else:
            found, why = _by_name(text, ctx.accounts)
            if found is None:
                return None, why
            code = found
    return code, _usable(code, ctx)


def _by_name(text: str, accounts: Mapping[str, AccountInfo]) -> tuple[str | None, str | None]:
    parts = [p for p in _PATH_SPLIT.split(unicodedata.normalize("NFKC", text).strip()) if p]
    want = fold_label(parts[-1]) if parts else ""
    hits = [a for a in accounts.values() if fold_label(a.name) == want]
    if len(parts) > 1:
        parent = fold_label(parts[-2])
        hits = [
            a
            for a in hits
            if a.parent is not None and fold_label(accounts[a.parent].name) == parent
        ]
    if len(hits) > 1:
        live = [a for a in hits if a.active and a.leaf]
        hits = live if len(live) == 1 else hits
    if len(hits) == 1:
        return hits[0].code, None
    if hits:
        codes = "、".join(a.code for a in hits)
        return (
            None,
            f"类别 {text!r} 对应多个科目 ({codes})，请写科目代码 / ambiguous: write the code",
        )
    return None, (
        f"未知的科目或类别 {text!r}，请写科目代码或在报账规则 [aliases] 中设置 / "
        "unknown account or category: write the account code or add it to [aliases]"
    )


def _usable(code: str, ctx: _Context) -> str | None:
    acc = ctx.accounts[code]
    if acc.custody is not None:
        return f"{code} {acc.name} 是现金或银行科目，不能报账 / a cash or bank account"
    if acc.category not in ctx.config.categories:
        allowed = ", ".join(ctx.config.categories)
        return f"{code} {acc.name} 不是支出类科目 / not an account of the categories {allowed}"
    if not acc.leaf:
        return f"{code} {acc.name} 有明细科目，请写明细科目 / {code} has detail accounts: use one"
    if not acc.active:
        return f"{code} {acc.name} 已停用 / account {code} is inactive"
    return None


def _default_payment(
    config: ClaimsConfig, accounts: Mapping[str, AccountInfo]
) -> tuple[list[tuple[str, str]], list[Problem]]:
    """现金 and 银行 without a [payment] table: the one active leaf of each kind (101, 102…).

    With several leaves of a kind (two bank accounts) the cashier's sheet
    cannot say which one paid: the problem names them and the way out,
    ``--rules claims.toml`` with a [payment] table.
    """
    pairs: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for kind, label in (("cash", "现金"), ("bank", "银行")):
        leaves = sorted(
            (a for a in accounts.values() if a.custody == kind and a.leaf and a.active),
            key=lambda a: a.code,
        )
        if len(leaves) == 1:
            pairs.append((label, leaves[0].code))
        elif leaves:
            named = "、".join(f"{a.code} {a.name}" for a in leaves)
            lines = "\n".join(f'"{a.name}" = "{a.code}"' for a in leaves)
            problems.append(
                Problem(
                    f"{config.source}:payment.{label}",
                    f"{label}有 {len(leaves)} 个末级科目 ({named})，无法确定付款科目；请写报账规则"
                    f"并用 --rules claims.toml 导入 / {len(leaves)} {kind} accounts ({named}): "
                    f"say which one pays in claims.toml and import with --rules claims.toml:\n"
                    f'[payment]\n"{label}" = "{leaves[0].code}"\n{lines}',
                    "config",
                )
            )
    return pairs, problems


def _payment_accounts(
    ent: EntityInfo, config: ClaimsConfig, accounts: Mapping[str, AccountInfo]
) -> tuple[dict[str, tuple[str, str]], list[Problem]]:
    pairs = list(config.payment)
    problems: list[Problem] = []
    if not pairs:
        pairs, problems = _default_payment(config, accounts)
    out: dict[str, tuple[str, str]] = {}
    for label, code in pairs:
        acc = accounts.get(code)
        where = f"{config.source}:payment.{label}"
        if acc is None:
            problems.append(Problem(where, f"科目 {code} 不存在 / no account {code}", "config"))
        elif acc.custody is None:
            problems.append(
                Problem(
                    where,
                    f"{code} {acc.name} 不是现金或银行科目 / not a cash or bank account",
                    "config",
                )
            )
        elif not acc.leaf or not acc.active:
            problems.append(
                Problem(
                    where,
                    f"{code} {acc.name} 有明细科目或已停用，请在 [payment] 中指定末级科目 / "
                    f"{code} has detail accounts or is inactive: name one in [payment]",
                    "config",
                )
            )
        else:
            out[fold_label(label)] = (code, acc.custody)
    if config.entity is not None and config.entity != ent.code:
        problems.append(
            Problem(
                f"{config.source}:entity",
                f"这是 {config.entity} 的报账规则，不是 {ent.code} 的 / these rules are "
                f"{config.entity}'s, not {ent.code}'s",
                "config",
            )
        )
    return out, problems


def _alias_accounts(
    config: ClaimsConfig, ctx_accounts: Mapping[str, AccountInfo], ent: EntityInfo
) -> tuple[dict[str, str], list[Problem]]:
    out: dict[str, str] = {}
    problems: list[Problem] = []
    probe = _Context(ent, ctx_accounts, set(), config, {})
    for text, code in config.aliases:
        where = f"{config.source}:aliases.{text}"
        why = (
            f"科目 {code} 不存在 / no account {code}"
            if code not in ctx_accounts
            else _usable(code, probe)
        )
        if why:
            problems.append(Problem(where, why, "config"))
        else:
            out[fold_label(text)] = code
    return out, problems


# --------------------------------------------------------------------------- import


def _dedup_key(claim: ClaimRow) -> tuple[object, ...]:
    t = claim.text
    return (
        claim.date,
        to_fen(claim.amount),
        t["purpose"],
        claim.payment_account,
        t["handler"],
        t["invoice_no"],
    )


def _existing_claims(session: Connection, entity_id: int) -> dict[tuple[object, ...], list[int]]:
    rows = session.execute(
        select(
            Claim.id,
            Claim.claim_date,
            Claim.amount_fen,
            Claim.purpose,
            Claim.custody_account,
            Claim.handler,
            Claim.invoice_no,
        )
        .where(Claim.entity_id == entity_id, Claim.status != "returned")
        .order_by(Claim.id)
    )
    out: dict[tuple[object, ...], list[int]] = {}
    for cid, *key in rows:
        out.setdefault(tuple(key), []).append(cid)
    return out


@command
def import_claims(
    session: Connection,
    entity: str,
    actor: str,
    path: str | Path,
    *,
    config: ClaimsConfig | None = None,
) -> ClaimsResult:
    """Import a claim batch (报账单) as the entity's cashier; return what was done.

    Valid claims record the cashier's custody entries (money out of cash or
    bank) and are stored ``pending``; claims with incomplete paperwork are
    stored ``returned`` with their reasons and never booked.  A file imported
    before (same SHA-256) is skipped: the result has ``already_imported`` set
    and nothing is written.  Rows that repeat claims already pending or
    drafted are skipped (``duplicates``).  One transaction: all or nothing.

    Raises:
        SegregationOfDutiesError: the actor is not the entity's cashier.
        ProblemsError: the file cannot be read as a claim batch, or the rules
            do not fit the entity (every problem listed, nothing written).
        NotFoundError: unknown entity or user.
    """
    rules = config or DEFAULT_CONFIG
    source = Path(path)
    name = source.name
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.SUBMIT_CLAIMS)
    require(session, ent, actor, Action.RECORD_CUSTODY)
    sha = file_sha256(source, name)
    earlier = earlier_batch(session, ent, "claims", sha)
    if earlier is not None:
        return ClaimsResult(
            earlier.id, name, sha, True, earlier.rows_read, (), (), (), (), (), rules.source
        )
    accounts = accounts_of(session, ent.id)
    payment, problems = _payment_accounts(ent, rules, accounts)
    aliases, alias_problems = _alias_accounts(rules, accounts, ent)
    problems += alias_problems
    if problems:
        raise ProblemsError(f"报账规则 claim rules {rules.source}", problems)
    batch = read_claim_batch(source, name, payment, ent.code, ent.name)
    if batch.problems:
        raise ProblemsError(f"报账单 claim batch {name}", batch.problems)
    ctx = _Context(ent, accounts, closed_periods(session, ent.id), rules, aliases)
    return _store(session, ent, uid, actor, name, sha, batch, ctx)


def _store(
    session: Connection,
    ent: EntityInfo,
    uid: int,
    actor: str,
    name: str,
    sha: str,
    batch: ClaimBatch,
    ctx: _Context,
) -> ClaimsResult:
    existing = _existing_claims(session, ent.id)
    seen: Counter[tuple[object, ...]] = Counter()
    duplicates: list[tuple[int, int]] = []
    checked: list[tuple[ClaimRow, str | None, list[str]]] = []
    for claim in batch.claims:
        key = _dedup_key(claim)
        earlier = existing.get(key, [])
        if seen[key] < len(earlier):
            duplicates.append((claim.row, earlier[seen[key]]))
            seen[key] += 1
            continue
        account, reasons = _check_claim(claim, ctx)
        checked.append((claim, account, reasons))
    batch_id = record_batch(
        session,
        ent,
        uid,
        kind="claims",
        file_name=name,
        sha=sha,
        profile=f"rules:{ctx.config.digest}",
        rows_read=len(batch.claims),
        rows_new=len(checked),
    )
    valid = [(c, a) for c, a, reasons in checked if not reasons]
    entries = custody.record_entries(
        session,
        ent.code,
        actor,
        [
            custody.CustodyInput(
                c.date,
                c.payment_account,
                -c.amount,
                c.text["purpose"],
                reference=c.text["invoice_no"],
            )
            for c, _ in valid
        ],
        source="claims",
    )
    entry_of = {c.row: e for (c, _), e in zip(valid, entries, strict=True)}
    first = next_id(session, Claim.__table__, ent.id)
    rows = [
        _claim_row(ent.id, first + n, batch_id, uid, c, a, reasons, entry_of.get(c.row))
        for n, (c, a, reasons) in enumerate(checked)
    ]
    if rows:
        session.execute(insert(Claim), rows)
    audit(
        session,
        ent.id,
        actor,
        "claims.import",
        f"batch #{batch_id}",
        {
            "file": name,
            "sha256": sha,
            "rules": ctx.config.source,
            "pending": len(valid),
            "returned": len(checked) - len(valid),
            "duplicates": len(duplicates),
            "remarks": {c.row: c.text["remark"] for c, _, _ in checked if c.text["remark"]},
        },
    )
    views = [_view(r) for r in rows]
    return ClaimsResult(
        batch_id,
        name,
        sha,
        False,
        len(batch.claims),
        tuple(v for v in views if v.status == "pending"),
        tuple(v for v in views if v.status == "returned"),
        tuple(entries),
        tuple(duplicates),
        batch.skipped,
        ctx.config.source,
    )


def _claim_row(
    entity_id: int,
    claim_id: int,
    batch_id: int,
    uid: int,
    claim: ClaimRow,
    account: str | None,
    reasons: Sequence[str],
    entry: int | None,
) -> dict[str, Any]:
    t = claim.text
    return {
        "entity_id": entity_id,
        "id": claim_id,
        "batch_id": batch_id,
        "row_no": claim.row,
        "claim_date": claim.date,
        "purpose": t["purpose"],
        "amount_fen": to_fen(claim.amount),
        "capitals": t["capitals"],
        "category": t["category"],
        "account_code": account,
        "payment": claim.payment,
        "custody_account": claim.payment_account,
        "handler": t["handler"],
        "witness": t["witness"],
        "approver": t["approver"],
        "attachments": attachment_count(t["attachments"]),
        "invoice_no": t["invoice_no"],
        "decision_ref": t["decision_ref"],
        "status": "returned" if reasons else "pending",
        "reasons": "\n".join(reasons),
        "custody_entry_id": None if reasons else entry,
        "voucher_id": None,
        "submitted_by": uid,
    }


def _view(row: Mapping[str, Any] | Row[Any]) -> ClaimView:
    get: Callable[[str], Any] = (
        row.__getitem__ if isinstance(row, Mapping) else lambda k: getattr(row, k)
    )
    reasons = str(get("reasons"))
    return ClaimView(
        id=get("id"),
        batch=get("batch_id"),
        row=get("row_no"),
        date=get("claim_date"),
        purpose=get("purpose"),
        amount=from_fen(int(get("amount_fen"))),
        capitals=get("capitals"),
        category=get("category"),
        account=get("account_code"),
        payment=get("payment"),
        custody_account=get("custody_account"),
        handler=get("handler"),
        witness=get("witness"),
        approver=get("approver"),
        attachments=get("attachments"),
        invoice_no=get("invoice_no"),
        decision_ref=get("decision_ref"),
        status=get("status"),
        reasons=tuple(reasons.split("\n")) if reasons else (),
        custody_entry=get("custody_entry_id"),
        voucher=get("voucher_id"),
    )


# --------------------------------------------------------------------------- drafting


def draft_located(
    session: Connection,
    entity: str,
    actor: str,
    drafts: Sequence[VoucherDraft],
    places: Sequence[str],
    refs: Sequence[ProblemRef] | None = None,
) -> list[int]:
    """Draft vouchers through :func:`juzhang.books.draft_vouchers`, naming each problem's source.

    ``places`` says where each draft comes from (``"claims.xlsx:5"``,
    ``"ledger.beancount:12"``).  All are drafted in one call; when that is
    refused, each is tried alone so every problem is reported with its place.
    Each problem's ``ref`` is ``refs[n]`` of its draft when given, else
    :class:`~juzhang.errors.VoucherRef` naming the draft's position (1-based).
    Returns the draft ids in the order of ``drafts``.  Call inside a
    transaction that a raised error rolls back (drafts tried alone are
    written before the error is raised).

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        ProblemsError: any draft is refused (every problem with its place).
    """
    try:
        return books.draft_vouchers(session, entity, actor, drafts)
    except ProblemsError as refused:
        if len(drafts) == 1:
            raise ProblemsError(
                refused.what, [_placed(places, refs, 0, p) for p in refused.problems]
            ) from None
    ids: list[int] = []
    problems: list[Problem] = []
    for n, draft in enumerate(drafts):
        try:
            ids.extend(books.draft_vouchers(session, entity, actor, [draft]))
        except ProblemsError as exc:
            problems.extend(_placed(places, refs, n, p) for p in exc.problems)
    if problems:
        raise ProblemsError("制单 draft vouchers", problems)
    return ids  # pragma: no cover - refused together, accepted one by one


def _placed(
    places: Sequence[str], refs: Sequence[ProblemRef] | None, n: int, problem: Problem
) -> Problem:
    return Problem(
        f"{places[n]} {problem.where}".strip(),
        problem.message,
        problem.subject or "voucher",
        refs[n] if refs is not None else VoucherRef(draft=n + 1),
    )


@command
def draft_claims(
    session: Connection, entity: str, actor: str, ids: Sequence[int] | None = None
) -> list[int]:
    """Turn pending claims into draft vouchers (制单) as the bookkeeper; return the voucher ids.

    One voucher per claim, in (date, id) order: Dr the claim's expense account,
    Cr the cash or bank account naming the cashier's custody entry, 摘要 = 事由,
    the claim's attachments.  ``ids`` limits it to those claims (default: every
    pending claim).  The claims become ``drafted`` with their voucher.  All or
    nothing.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        NotFoundError: a named claim does not exist.
        StateError: a named claim is not pending.
        ProblemsError: a voucher is refused (each problem names its claim).
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.DRAFT_VOUCHER)
    q = select(Claim).where(Claim.entity_id == ent.id)
    q = q.where((Claim.status == "pending") if ids is None else Claim.id.in_(list(ids)))
    claims = list(session.execute(q.order_by(Claim.claim_date, Claim.id)))
    if ids is not None:
        missing = sorted(set(ids) - {c.id for c in claims})
        if missing:
            raise NotFoundError("报账 claim", f"{entity} #{missing[0]}")
        for c in claims:
            if c.status != "pending":
                raise StateError(f"报账 claim #{c.id}", c.status, "制单 draft")
    drafts = [_claim_draft(c) for c in claims]
    places = [
        f"报账 claim #{c.id} (批次 batch {c.batch_id} 第{c.row_no}行 row {c.row_no})"
        for c in claims
    ]
    refs = [ClaimRowRef(c.batch_id, c.row_no, c.id) for c in claims]
    vids = draft_located(session, entity, actor, drafts, places, refs) if drafts else []
    if vids:
        update_many(
            session,
            Claim,
            [
                {"entity_id": ent.id, "id": c.id, "status": "drafted", "voucher_id": v}
                for c, v in zip(claims, vids, strict=True)
            ],
        )
    audit_many(
        session,
        ent.id,
        actor,
        "claims.draft",
        [(f"claim #{c.id}", {"voucher": v}) for c, v in zip(claims, vids, strict=True)],
    )
    return vids


def _claim_draft(claim: Row[Any]) -> VoucherDraft:
    if claim.account_code is None or claim.custody_account is None:  # pragma: no cover
        raise StateError(f"报账 claim #{claim.id}", "缺少科目 / no account", "制单 draft")
    amount = from_fen(claim.amount_fen)
    return VoucherDraft(
        claim.claim_date,
        (
            Line(claim.account_code, claim.purpose, debit=amount),
            Line(
                claim.custody_account,
                claim.purpose,
                credit=amount,
                custody_entry=claim.custody_entry_id,
            ),
        ),
        claim.attachments,
    )


# --------------------------------------------------------------------------- listing


def list_claims(
    session: Connection, entity: str, *, status: str | None = None, batch: int | None = None
) -> list[ClaimView]:
    """Return the entity's claims (optionally of one status or batch), by batch and row.

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    q = select(Claim).where(Claim.entity_id == ent.id)
    if status is not None:
        q = q.where(Claim.status == status)
    if batch is not None:
        q = q.where(Claim.batch_id == batch)
    return [_view(c) for c in session.execute(q.order_by(Claim.batch_id, Claim.row_no, Claim.id))]


def pending_claims(session: Connection, entity: str) -> list[ClaimView]:
    """Return the claims waiting to be drafted (待制单), by batch and row."""
    return list_claims(session, entity, status="pending")


def returned_claims(session: Connection, entity: str) -> list[ClaimView]:
    """Return the claims returned to the cashier (退回), with their reasons, by batch and row."""
    return list_claims(session, entity, status="returned")
