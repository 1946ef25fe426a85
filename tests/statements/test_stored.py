"""The bulk paths' statement lines: plain named tuples of the table's columns."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, insert, select

from juzhang.statements.stored import LINE_COLUMNS, StoredLine, line_item, stored_lines


def test_the_fields_are_the_tables_columns_in_its_order() -> None:
    # select(LINE_COLUMNS) gives the columns in the table's order; the tuple's
    # fields are read by position, so a column added or moved must show here
    assert list(StoredLine._fields) == [c.name for c in LINE_COLUMNS.columns]


def test_a_read_line_has_each_column_under_its_name() -> None:
    engine = create_engine("sqlite://")
    LINE_COLUMNS.create(engine)  # the bare table: no keys to other tables in SQLite
    values = {
        "entity_id": 1,
        "id": 7,
        "account_code": "10201",
        "batch_id": 3,
        "row_no": 12,
        "dedup_key": "k",
        "txn_date": dt.date(2026, 9, 2),
        "txn_time": "10:11:12",
        "out_fen": 0,
        "in_fen": 12345,
        "balance_fen": 99999,
        "counterparty": "张三",
        "counterparty_account": "6222",
        "counterparty_bank": "农商行",
        "summary": "货款",
        "purpose": "转账",
        "remark": "备注",
        "serial": "V1",
        "custody_entry_id": None,
        "voucher_id": 5,
    }
    with engine.begin() as conn:
        conn.execute(insert(LINE_COLUMNS).values(values))
        [line] = stored_lines(conn.execute(select(LINE_COLUMNS)))
    assert line._asdict() == values
    item = line_item(line)
    assert (item.fen, item.line_id, item.voucher, item.facts.remark) == (12345, 7, 5, "备注")
    engine.dispose()
