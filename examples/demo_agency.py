"""The demo agency's data, shown: what ``juzhang demo`` plays, month by month.

The data is made by ``examples/demo_data.py`` (installed as
:mod:`juzhang.examples.demo_data`, so an installed ``juzhang demo`` finds
it); this script shows it without touching any books:

* the agency, its staff and its three communities (code, name, chart, bank
  layout, cashier, supervisor, opening balances);
* one month of each community: the bank movements the cashier records, the
  cash movements, the claim batch, the cheque written on the 28th and the
  lines only the bank knows of;
* with ``--write DIR``, the files the agency receives that month — each
  community's bank statement (CSV in its bank's layout), claim batch (xlsx in
  the 报账单 form) and rules — which the importers read like real ones
  (``juzhang import bank``, ``juzhang import claims``).

Run it::

    python examples/demo_agency.py                     # July 2026, printed
    python examples/demo_agency.py --month 2026-08 --seed 7 --write /tmp/inputs

then ``juzhang demo --dir DIR`` plays the whole quarter (see docs/guide.en.md).
:func:`main` returns the plans so tests can check them (tests/test_examples.py).
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

from juzhang.core.period import format_period, parse_period
from juzhang.examples.demo_data import (
    PERIODS,
    SEED,
    MonthPlan,
    claims_toml,
    demo_agency,
    plan_month,
    rules_toml,
    statement_lines,
    write_claims,
    write_statement,
)
from juzhang.money import format_amount


def _signed(amount: Decimal) -> str:
    return ("+" if amount > 0 else "") + format_amount(amount)


def main(month: str = "2026-07", seed: int = SEED, write: Path | None = None) -> list[MonthPlan]:
    """Print the agency and each community's plan for ``month``; optionally write the files."""
    period = parse_period(month)
    agency = demo_agency()
    staff = (agency.bookkeeper, agency.reviewer, agency.admin)
    print(f"{agency.name}: " + ", ".join(f"{p.name} ({p.role})" for p in staff))
    plans = []
    for c in agency.communities:
        plan = plan_month(c, period, seed, quarter_end=period == PERIODS[-1])
        plans.append(plan)
        opening = ", ".join(f"{code} {format_amount(v)}" for code, v in c.opening)
        print(f"\n{c.code} {c.name} [{c.chart}, bank statement layout {c.layout}]")
        print(f"  报账员 cashier {c.cashier.name}, 民主理财小组 supervisor {c.supervisor.name}")
        print(f"  期初余额 opening: {opening}")
        print(f"  {format_period(period)}:")
        for m in plan.bank_moves:
            print(f"    bank  {m.date} {_signed(m.amount):>12} {m.purpose} {m.counterparty}")
        for cm in plan.cash_moves:
            print(f"    cash  {cm.date} {_signed(cm.amount):>12} {cm.summary} {cm.counterparty}")
        for claim in plan.claims:
            print(
                f"    claim {claim.date} {format_amount(claim.amount):>12} {claim.purpose}"
                f" → {claim.category} (审批 {claim.approver})"
            )
        if plan.cheque is not None:
            ch = plan.cheque
            print(f"    cheque {ch.date} {_signed(ch.amount):>11} {ch.summary} ({ch.reference})")
        for m in plan.bank_only:
            print(f"    bank only {m.date} {_signed(m.amount):>8} {m.summary} {m.purpose}")
        if write is not None:
            folder = write / c.code
            opening_bank = dict(c.opening)[c.bank]
            lines = statement_lines(plan, c, opening_bank)
            label = format_period(period)
            write_statement(folder / f"statement-{label}.csv", c, lines, opening_bank)
            write_claims(folder / f"claims-{label}.xlsx", c, period, plan.claims)
            (folder / "rules.toml").write_text(rules_toml(c), "utf-8")
            (folder / "claims.toml").write_text(claims_toml(c), "utf-8")
            print(f"  files written to {folder}")
    return plans


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2026-07", help="YYYY-MM (default 2026-07)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--write", type=Path, help="write the month's input files here")
    args = parser.parse_args()
    main(args.month, args.seed, args.write)
