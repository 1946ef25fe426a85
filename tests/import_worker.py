"""Bank statements for the import tests, and a worker process that imports one.

* :func:`transactions` makes a deterministic run of bank movements (some
  with a serial, some without, running balances continuous);
  :func:`write_csv` writes any slice of them as an ICBC-layout CSV (title,
  ``账号：`` metadata, header), with optional breakage for the bad-file tests.
* :func:`setup_books` makes a community whose books start in the month of
  the first movement, with people in every role, a bank detail account
  10201 and its bank account number.
* ``python -m tests.import_worker URL FILE [--dry-run]`` imports FILE into
  C001's 10201 as ``bk`` in one transaction, printing ``begin`` once the
  transaction is open and ``done NEW DRAFTED SECONDS`` at the end — the kill
  test runs it and kills it part way.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from juzhang import agency, books, custody
from juzhang import statements as statement
from juzhang.custody import CustodyInput
from juzhang.money import from_fen
from juzhang.storage.engine import make_engine, transaction

OWN_ACCOUNT = "6222000011112222"
BANK = "10201"
HEADER = [
    "凭证号",
    "交易时间",
    "对方单位",
    "对方账号",
    "转入金额",
    "转出金额",
    "余额",
    "用途",
    "摘要",
    "附言",
]
PEOPLE = {
    "cash": ("张出纳", "cashier"),
    "bk": ("李会计", "bookkeeper"),
    "bk2": ("孙会计", "bookkeeper"),
    "rv": ("王审核", "reviewer"),
}
COUNTERPARTIES = ("某某街道办事处", "某某物业服务有限公司", "张三", "", "某某电力公司")
SUMMARIES = ("转账", "手续费", "结息", "代发工资", "电费")


@dataclass(frozen=True)
class Txn:
    """One bank movement: signed fen (in +, out −), the balance after it, texts."""

    when: dt.datetime
    fen: int
    balance: int
    counterparty: str
    summary: str
    purpose: str
    serial: str


def transactions(
    n: int,
    *,
    seed: int = 1,
    start: dt.datetime = dt.datetime(2026, 9, 1, 8),
    opening: int = 100_000_00,
    step: dt.timedelta = dt.timedelta(minutes=37),
    serial_every: int = 2,
) -> list[Txn]:
    """``n`` movements from ``start``; every ``serial_every``-th has no serial."""
    rng = random.Random(seed)
    balance = opening
    out = []
    for i in range(n):
        fen = rng.randint(1, 500_000) * (1 if rng.random() < 0.5 else -1)
        if balance + fen < 0:
            fen = -fen
        balance += fen
        out.append(
            Txn(
                when=start + step * i,
                fen=fen,
                balance=balance,
                counterparty=COUNTERPARTIES[i % len(COUNTERPARTIES)],
                summary=SUMMARIES[i % len(SUMMARIES)],
                purpose=f"用途{i}",
                serial="" if serial_every and i % serial_every == 1 else f"S{i:07d}",
            )
        )
    return out


def _money(fen: int) -> str:
    return f"{abs(fen) // 100}.{abs(fen) % 100:02d}"


def csv_rows(txns: Sequence[Txn], *, account: str = OWN_ACCOUNT) -> list[list[str]]:
    """The rows of an ICBC-layout statement of ``txns`` (title, metadata, header, data)."""
    rows = [["[HISTORYDETAIL]"], ["账号：", account], ["户名：", "某某社区居民委员会"], HEADER]
    for t in txns:
        rows.append(
            [
                t.serial,
                t.when.strftime("%Y-%m-%d %H:%M:%S"),
                t.counterparty,
                "",
                _money(t.fen) if t.fen > 0 else "",
                _money(t.fen) if t.fen < 0 else "",
                _money(t.balance),
                t.purpose,
                t.summary,
                "",
            ]
        )
    return rows


def write_csv(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    """Write rows as a UTF-8 CSV (CRLF) and return the path."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerows(rows)
    return path


def first_data_row() -> int:
    """The Excel row number of the first movement in :func:`csv_rows` files."""
    return 5


def setup_books(
    engine: Engine,
    code: str,
    *,
    start: int = 202609,
    number: str = OWN_ACCOUNT,
    users: bool = True,
) -> None:
    """A community with people in every role, bank account 10201 and its number."""
    with transaction(engine) as s:
        agency.add_entity(s, code, f"{code} 社区", start_period=start)
        for login, (name, role) in PEOPLE.items():
            if users:
                agency.add_user(s, login, name)
            agency.grant(s, login, role, code)
        books.add_account(s, code, BANK, "农商行")
        statement.set_bank_account(s, code, BANK, number)


def record_entries(engine: Engine, code: str, txns: Sequence[Txn], *, chunk: int = 20_000) -> None:
    """Record the cashier's bank-journal entries of ``txns`` (as the cashier did)."""
    for start in range(0, len(txns), chunk):
        items = [
            CustodyInput(t.when.date(), BANK, from_fen(t.fen), t.summary, t.counterparty, t.serial)
            for t in txns[start : start + chunk]
        ]
        with transaction(engine) as s:
            custody.record_entries(s, code, "cash", items)


def main(argv: Sequence[str]) -> int:
    """``URL FILE [--dry-run]``: import FILE into C001's 10201 in one transaction."""
    url, path = argv[0], argv[1]
    dry_run = "--dry-run" in argv[2:]
    engine = make_engine(url)
    with transaction(engine) as s:
        print("begin", flush=True)
        started = time.perf_counter()
        result = statement.import_statement(
            s, "C001", "bk", Path(path), account=BANK, dry_run=dry_run
        )
    seconds = time.perf_counter() - started
    print(f"done {result.new_lines} {result.vouchers_drafted} {seconds:.3f}", flush=True)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
