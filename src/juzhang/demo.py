"""The demo (演示): an agency keeps three communities' books for a quarter, the way the rules say.

:func:`build_demo` makes a fresh SQLite file and plays 幸福街道三资代理服务中心
(the data: :mod:`juzhang.examples.demo_data`) from July to September 2026 through the
public service functions, the same calls the command line makes:

* set-up (the operator): three communities on the three shipped charts
  (rural 2023, rural 2004, non-profit 2004), their detail accounts, the bank
  account numbers; the agency's bookkeeper, reviewer and admin serve all
  three, each community has its own cashier (报账员) and 民主理财小组
  supervisor — five roles, 钱账分离 kept; the bookkeeper enters the opening
  balances;
* every month, for every community:

  1. the cashier records the month's bank and cash movements in the
     journals (a cash withdrawal, rents, the street office's allocation,
     subsidies, the electricity bill, a cheque written on the 28th);
  2. the bookkeeper books the cash movements and the cheque from the
     journal, and the month's depreciation;
  3. the cashier brings the claim batch (报账单, an xlsx in the claim form's
     layout): valid claims go into the cash journal, a claim with missing
     paperwork is returned; the bookkeeper drafts the claims' vouchers;
  4. the bookkeeper imports the bank statement (a CSV in the bank's own
     layout: 农商行 or 工商银行) with the categorisation rules: lines the
     cashier recorded are drafted (or linked to the voucher booked already),
     the fee and interest wait for the cashier, who accepts them, and are
     then drafted;
  5. the reviewer reviews every draft, the bookkeeper posts them;
  6. in July H001 finds a voucher booked to the wrong account: a red
     reversal (红字冲销) and a correcting voucher (订正), through the same
     workflow; in August H001's cash count comes up 20.00 short: the cashier
     records the shortfall and the bookkeeper books it to 待处理财产损溢;
  7. the cashier counts the cash at the month end (现金盘点);

* then the reviewer closes the month for all three at once
  (:func:`juzhang.closing_run.close_all`: checks, carry-forward, lock, and the
  disclosure workbook, trial balance, income statement and bank
  reconciliation written into ``DIR/CODE/``), and each community's
  supervisor signs its disclosure (:func:`juzhang.closing.sign_disclosure`); the
  published board, signature block filled, replaces the one the close wrote.

The month's cheque is paid by the bank in the next month: at every month end
it is an outstanding item of the bank reconciliation (企业已付、银行未付), and
September's is still outstanding at the end.  The inputs the agency received
(statements, claim batches, rules) are kept in ``DIR/inputs/CODE/``, with the
community's disclosure settings (``disclosure.toml``: its 书记 and 主任, fictional
names), which the reviewer stores at set-up so that every board prints them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from juzhang import agency, books, custody
from juzhang import claims as claim_batches
from juzhang import statements as statement
from juzhang.cash_count import record_cash_count
from juzhang.closing import sign_disclosure, write_published
from juzhang.closing_run import RunSummary, close_all
from juzhang.core.period import format_period, last_day
from juzhang.core.types import VoucherStatus
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.custody import CustodyInput
from juzhang.disclosure_config import (
    DisclosureConfig,
    Signatures,
    config_toml,
    set_stored_config,
)
from juzhang.errors import Problem
from juzhang.examples.demo_data import (
    PERIODS,
    SEED,
    Agency,
    CashMove,
    Community,
    MonthPlan,
    claims_toml,
    demo_agency,
    plan_month,
    rules_toml,
    statement_lines,
    write_claims,
    write_statement,
)
from juzhang.importers.claims_config import parse_claims_config
from juzhang.reports.trial_balance import TrialBalance, trial_balance
from juzhang.storage.engine import make_engine, transaction, upgrade
from juzhang.verify import verify

__all__ = ["CommunityResult", "DemoResult", "build_demo", "write_trial_balance"]

MISTAKE = ("H001", PERIODS[0])
"""Where a voucher is booked to the wrong account, then reversed and corrected."""

CASH_SHORT = ("H001", PERIODS[1], Decimal("20.00"))
"""Where the month-end cash count comes up short, and by how much."""

RETURNED_CLAIM = ("H002", PERIODS[0])
"""Where the claim batch carries a claim without a 证明人 (returned, not booked)."""


@dataclass(frozen=True, slots=True)
class CommunityResult:
    """What the demo did for one community."""

    code: str
    name: str
    chart: str
    months_closed: tuple[int, ...]
    vouchers: int
    custody_entries: int
    claims_booked: int
    claims_returned: int
    statement_lines: int
    files: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo built: where, what each community did, and what verify found.

    ``reversal`` names the reversed voucher (``H001 2026-07 记-0004``);
    ``problems`` are the closing run's and :func:`juzhang.verify.verify`'s
    (nothing, unless juzhang is broken).
    """

    database: Path
    out_dir: Path
    periods: tuple[int, ...]
    communities: tuple[CommunityResult, ...]
    reversal: str
    cash_difference: Decimal
    problems: tuple[Problem, ...]
    files: tuple[Path, ...] = field(default=())


# --------------------------------------------------------------------------- set-up


def _fresh_engine(db_path: Path) -> Engine:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    return engine


def _set_up(engine: Engine, ag: Agency) -> None:
    with transaction(engine) as s:
        for person in ag.people:
            agency.add_user(s, person.login, person.name)
        for c in ag.communities:
            agency.add_entity(s, c.code, c.name, chart=c.chart, start_period=PERIODS[0])
            for person in (ag.bookkeeper, ag.reviewer, ag.admin, c.cashier, c.supervisor):
                agency.grant(s, person.login, person.role, c.code)
            for code, name in c.accounts:
                books.add_account(s, c.code, code, name)
            statement.set_bank_account(s, c.code, c.bank, c.bank_number, bank=c.bank_name)
    with transaction(engine) as s:
        for c in ag.communities:
            books.set_opening(s, c.code, ag.bookkeeper.login, dict(c.opening))
            set_stored_config(s, c.code, ag.reviewer.login, _disclosure_config(c))


def _disclosure_config(c: Community) -> DisclosureConfig:
    """The community's disclosure settings: its 书记 and 主任 for the board's signature block.

    The rest (categories, sections, debts) is the chart's default; the
    cashier, bookkeeper and 民主理财小组 come from the role grants.
    """
    return DisclosureConfig(
        chart=c.chart, signatures=Signatures(secretary=c.secretary, director=c.director)
    )


# --------------------------------------------------------------------------- one month


def _side(account: str, summary: str, amount: Decimal, debit: bool, entry: int | None) -> Line:
    if debit:
        return Line(account, summary, debit=amount, custody_entry=entry)
    return Line(account, summary, credit=amount, custody_entry=entry)


def _journal(move: CashMove, custody_accounts: set[str]) -> list[CustodyInput]:
    """The cashier's entries for a movement (two for a withdrawal: bank out, cash in)."""
    items = [
        CustodyInput(
            move.date, move.custody, move.amount, move.summary, move.counterparty, move.reference
        )
    ]
    if move.other in custody_accounts:
        items.append(CustodyInput(move.date, move.other, -move.amount, move.summary))
    return items


def _voucher(move: CashMove, entries: Sequence[int], account: str | None = None) -> VoucherDraft:
    """The voucher booking a movement from the journal, naming the entries that back it."""
    inflow = move.amount > 0
    amount = abs(move.amount)
    money = _side(move.custody, move.summary, amount, inflow, entries[0])
    other = account or move.booked_as or move.other
    backing = entries[1] if len(entries) > 1 else None
    against = _side(other, move.summary, amount, not inflow, backing)
    return VoucherDraft(
        move.date, (money, against) if inflow else (against, money), move.attachments
    )


def _depreciation(c: Community, period: int) -> VoucherDraft:
    summary = f"计提{period % 100}月固定资产折旧"
    return VoucherDraft(
        last_day(period),
        (
            Line(c.account("depreciation"), summary, debit=c.depreciation),
            Line(c.accumulated_depreciation, summary, credit=c.depreciation),
        ),
        0,
    )


@dataclass(slots=True)
class _Tally:
    """Counts kept while the demo runs, per community."""

    claims_booked: int = 0
    claims_returned: int = 0
    statement_lines: int = 0
    bank_opening: Decimal = Decimal("0.00")
    cheque: CashMove | None = None
    reversal: str = ""


def _review_and_post(engine: Engine, ag: Agency, code: str) -> None:
    """The reviewer reviews every draft of the community, the bookkeeper posts them."""
    with transaction(engine) as s:
        ids = [v.id for v in books.list_vouchers(s, code, status=VoucherStatus.DRAFT)]
        books.review_vouchers(s, code, ag.reviewer.login, ids)
    with transaction(engine) as s:
        books.post_vouchers(s, code, ag.bookkeeper.login, ids)


def _play_month(
    engine: Engine, ag: Agency, c: Community, plan: MonthPlan, inputs: Path, tally: _Tally
) -> None:
    bookkeeper, cashier = ag.bookkeeper.login, c.cashier.login
    label = format_period(plan.period)
    custody_accounts = {c.cash, c.bank}
    moves = [*plan.cash_moves, *([plan.cheque] if plan.cheque else [])]
    # 1. the cashier's journals: bank movements, cash movements, the cheque
    bank_inputs = [
        CustodyInput(m.date, c.bank, m.amount, m.purpose, m.counterparty) for m in plan.bank_moves
    ]
    groups = [_journal(m, custody_accounts) for m in moves]
    with transaction(engine) as s:
        custody.record_entries(s, c.code, cashier, bank_inputs)
        ids = custody.record_entries(s, c.code, cashier, [i for g in groups for i in g])
    entries: list[list[int]] = []
    for g in groups:
        entries.append(ids[: len(g)])
        ids = ids[len(g) :]
    # 2. the bookkeeper books the cash movements and the cheque, and the depreciation
    with transaction(engine) as s:
        drafts = [_voucher(m, e) for m, e in zip(moves, entries, strict=True)]
        books.draft_vouchers(s, c.code, bookkeeper, [*drafts, _depreciation(c, plan.period)])
    # 3. the claim batch: the cashier imports it, the bookkeeper drafts its vouchers
    rules = parse_claims_config(claims_toml(c), f"{c.code}/claims.toml")
    batch = write_claims(inputs / f"claims-{label}.xlsx", c, plan.period, plan.claims)
    with transaction(engine) as s:
        result = claim_batches.import_claims(s, c.code, cashier, batch, config=rules)
        tally.claims_booked += len(result.pending)
        tally.claims_returned += len(result.returned)
    with transaction(engine) as s:
        claim_batches.draft_claims(s, c.code, bookkeeper)
    # 4. the bank statement, in the bank's layout, with the bookkeeper's rules
    cleared = [tally.cheque] if tally.cheque else []
    lines = statement_lines(plan, c, tally.bank_opening, cleared)
    path = write_statement(inputs / f"statement-{label}.csv", c, lines, tally.bank_opening)
    tally.bank_opening, tally.cheque = lines[-1].balance, plan.cheque
    rules_file = inputs / "rules.toml"
    with transaction(engine) as s:
        imported = statement.import_statement(
            s, c.code, bookkeeper, path, account=c.bank, profile=c.layout, rules=rules_file
        )
        tally.statement_lines += imported.new_lines
    with transaction(engine) as s:  # the fee and the interest: only the bank knew of them
        statement.accept_statement_lines(s, c.code, cashier, "all", account=c.bank)
    with transaction(engine) as s:
        statement.draft_pending(s, c.code, bookkeeper, account=c.bank, rules=rules_file)
    # 5. review and post
    _review_and_post(engine, ag, c.code)
    # 6. a voucher booked to the wrong account: reversed and corrected
    wrong = next((i for i, m in enumerate(moves) if m.booked_as), None)
    if wrong is not None:
        tally.reversal = _correct(engine, ag, c, plan.period, moves[wrong], entries[wrong])
    # 7. the month-end cash count (and a shortfall booked to 待处理财产损溢)
    _count_cash(engine, ag, c, plan)


def _correct(
    engine: Engine, ag: Agency, c: Community, period: int, move: CashMove, entries: list[int]
) -> str:
    """Reverse the wrongly booked voucher, post a corrected one; return the original's label."""
    bookkeeper = ag.bookkeeper.login
    with transaction(engine) as s:
        posted = books.list_vouchers(s, c.code, period=period, status=VoucherStatus.POSTED)
        original = next(v for v in posted if any(ln.account == move.booked_as for ln in v.lines))
        assert original.number is not None
        books.reverse_voucher(s, c.code, bookkeeper, period, original.number)
    _review_and_post(engine, ag, c.code)
    with transaction(engine) as s:
        fixed = _voucher(move, entries, account=move.other)
        books.draft_correction(s, c.code, bookkeeper, period, original.number, fixed)
    _review_and_post(engine, ag, c.code)
    return f"{c.code} {format_period(period)} {original.label}"


def _count_cash(engine: Engine, ag: Agency, c: Community, plan: MonthPlan) -> None:
    with transaction(engine, write=False) as s:
        on_hand = trial_balance(s, c.code, plan.period).row(c.cash).closing_balance
    counted = on_hand - plan.cash_short
    with transaction(engine) as s:
        note = "月末现金盘点" + (f"，短款 {plan.cash_short}" if plan.cash_short else "")
        record_cash_count(s, c.code, c.cashier.login, plan.count_date, counted, c.cash, note)
    if not plan.cash_short or c.loss_pending is None:
        return
    summary = "现金盘点短款，待查明原因"
    with transaction(engine) as s:
        (entry,) = custody.record_entries(
            s,
            c.code,
            c.cashier.login,
            [CustodyInput(plan.count_date, c.cash, -plan.cash_short, summary)],
        )
    with transaction(engine) as s:
        draft = VoucherDraft(
            plan.count_date,
            (
                Line(c.loss_pending, summary, debit=plan.cash_short),
                Line(c.cash, summary, credit=plan.cash_short, custody_entry=entry),
            ),
            1,
        )
        books.draft_vouchers(s, c.code, ag.bookkeeper.login, [draft])
    _review_and_post(engine, ag, c.code)


def _sign(engine: Engine, c: Community, period: int) -> None:
    """The community's 民主理财小组 checks the disclosure and signs it (by the 5th).

    The published workbook then replaces the board the closing run wrote.
    """
    signed_on = last_day(period) + dt.timedelta(days=5)
    with transaction(engine) as s:
        sign_disclosure(
            s,
            c.code,
            period,
            c.supervisor.login,
            None,
            "经民主理财小组审核，收支真实，同意公开",
            signed_on,
        )
        # the published board, signature block filled, replaces the one the close wrote
        write_published(s, c.code, period)


# --------------------------------------------------------------------------- outputs


def write_trial_balance(tb: TrialBalance, out_dir: Path) -> Path:
    """Write the trial balance JSON into ``out_dir``; return the file's path."""
    path = out_dir / f"trial-balance-{tb.entity}-{tb.period_label}.json"
    path.write_text(json.dumps(tb.to_json(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    return path


def _results(
    engine: Engine,
    ag: Agency,
    out_dir: Path,
    tallies: dict[str, _Tally],
    runs: Sequence[RunSummary],
) -> tuple[list[CommunityResult], list[Problem]]:
    out, problems = [], [p for run in runs for p in run.problems]
    for c in ag.communities:
        t = tallies[c.code]
        with transaction(engine, write=False) as s:
            closed = tuple(p for p in PERIODS if books.is_closed(s, c.code, p))
            posted = len(books.list_vouchers(s, c.code, status=VoucherStatus.POSTED))
            entries = len(custody.list_entries(s, c.code))
            tb = trial_balance(s, c.code, PERIODS[-1])
            problems += verify(s, c.code)
        json_file = write_trial_balance(tb, out_dir / c.code)
        files = sorted({Path(f) for run in runs for o in run.outcomes if o.entity == c.code
                        for f in o.files} | {json_file})  # fmt: skip
        out.append(
            CommunityResult(
                c.code,
                c.name,
                c.chart,
                closed,
                posted,
                entries,
                t.claims_booked,
                t.claims_returned,
                t.statement_lines,
                tuple(files),
            )
        )
    return out, problems


def build_demo(db_path: Path, out_dir: Path | None = None, *, seed: int = SEED) -> DemoResult:
    """Build the demo agency in a fresh SQLite file at ``db_path``, outputs into ``out_dir``.

    Any existing database there is replaced.  ``out_dir`` (default: the
    database's folder) gets ``inputs/CODE/`` (what the agency received) and
    ``CODE/`` (each month's disclosure, trial balance, income statement and
    bank reconciliation, and the last trial balance as JSON).

    Returns:
        The :class:`DemoResult`; its ``problems`` list what the closing runs
        and :func:`juzhang.verify.verify` found (nothing, unless juzhang is
        broken).
    """
    out = out_dir or db_path.parent
    ag = demo_agency()
    engine = _fresh_engine(db_path)
    runs: list[RunSummary] = []
    tallies = {c.code: _Tally(bank_opening=dict(c.opening)[c.bank]) for c in ag.communities}
    try:
        _set_up(engine, ag)
        for c in ag.communities:
            inputs = out / "inputs" / c.code
            inputs.mkdir(parents=True, exist_ok=True)
            (inputs / "rules.toml").write_text(rules_toml(c), "utf-8")
            (inputs / "claims.toml").write_text(claims_toml(c), "utf-8")
            (inputs / "disclosure.toml").write_text(config_toml(_disclosure_config(c)), "utf-8")
        for period in PERIODS:
            for c in ag.communities:
                plan = plan_month(
                    c,
                    period,
                    seed,
                    mistake=(c.code, period) == MISTAKE,
                    cash_short=CASH_SHORT[2]
                    if (c.code, period) == CASH_SHORT[:2]
                    else Decimal("0.00"),
                    returned_claim=(c.code, period) == RETURNED_CLAIM,
                    quarter_end=period == PERIODS[-1],
                )
                _play_month(engine, ag, c, plan, out / "inputs" / c.code, tallies[c.code])
            codes = [c.code for c in ag.communities]
            run = close_all(engine, period, codes, out, actor=ag.reviewer.login)
            runs.append(run)
            if not run.ok:
                break
            for c in ag.communities:
                _sign(engine, c, period)
        communities, problems = _results(engine, ag, out, tallies, runs)
    finally:
        engine.dispose()
    return DemoResult(
        database=db_path,
        out_dir=out,
        periods=PERIODS,
        communities=tuple(communities),
        reversal=tallies[MISTAKE[0]].reversal,
        cash_difference=CASH_SHORT[2],
        problems=tuple(problems),
        files=tuple(f for c in communities for f in c.files),
    )
