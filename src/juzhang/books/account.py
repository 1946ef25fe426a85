"""The accounts of an entity's books (科目): adding, deactivating and deleting detail accounts.

First-level accounts come from the chart (:mod:`juzhang.charts`); a detail
account (明细科目) takes its parent from its code.  An account that carries
amounts is never deleted, only deactivated.  :func:`_account_problem` says why a
code cannot take amounts (missing, not a leaf, inactive); drafting and the
opening balances ask it.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, delete, insert, select, update

from juzhang.charts import load_chart, parent_code
from juzhang.core.text import text_problem
from juzhang.errors import (
    ConflictError,
    NotFoundError,
    StateError,
    ValidationError,
)
from juzhang.storage.access import (
    OPERATOR,
    AccountInfo,
    accounts_of,
    audit,
    command,
    get_entity,
)
from juzhang.storage.schema import (
    Account,
    CustodyEntry,
    OpeningBalance,
    VoucherLine,
)


@command
def add_account(
    session: Connection, entity: str, code: str, name: str, *, actor: str = OPERATOR
) -> None:
    """Add a detail account (明细科目); the parent is taken from the code (51301 → 513).

    Raises:
        ConflictError: the code exists.
        NotFoundError: the parent account does not exist.
        ValidationError: bad code, or the parent already carries amounts.
    """
    bad = text_problem(name, "account_name") or text_problem(code, "account_code")
    if bad is not None:
        raise ValidationError(f"科目 account {code}", bad)
    ent = get_entity(session, entity, lock=True)
    chart = load_chart(ent.chart)
    parent = parent_code(code, chart.top_level_length)
    if parent is None:
        raise ValidationError(
            f"科目 account {code}",
            "一级科目来自科目表；可增设科目用 juzhang account add-optional"
            " / first-level accounts come from the chart; add an optional one"
            " (可增设科目) with juzhang account add-optional",
        )
    accounts = accounts_of(session, ent.id)
    if code in accounts:
        raise ConflictError("科目 account", f"{entity} {code}")
    up = accounts.get(parent)
    if up is None:
        raise NotFoundError("上级科目 parent account", f"{entity} {parent}")
    if up.leaf and _has_amounts(session, ent.id, parent):
        raise ValidationError(
            f"科目 account {code}",
            f"上级科目 {parent} 已有发生额或余额 / the parent {parent} already carries amounts",
        )
    session.execute(
        insert(Account).values(
            entity_id=ent.id,
            code=code,
            name=name,
            parent_code=parent,
            level=up.level + 1,
            category=up.category,
            side=up.side,
            custody=up.custody,
            active=True,
        )
    )
    audit(session, ent.id, actor, "account.add", code, {"name": name})


def _has_amounts(session: Connection, entity_id: int, code: str) -> bool:
    for model in (VoucherLine, OpeningBalance, CustodyEntry):
        q = select(model.account_code).where(
            model.entity_id == entity_id,
            model.account_code == code,
        )
        if session.execute(q.limit(1)).first():
            return True
    return False


@command
def deactivate_account(
    session: Connection, entity: str, code: str, *, actor: str = OPERATOR
) -> None:
    """Deactivate an account: it stays in the books but takes no new lines.

    An account that has carried amounts can only be deactivated; one that
    never has may instead be removed with :func:`delete_account`.

    Raises:
        NotFoundError: no such account.
    """
    ent = get_entity(session, entity, lock=True)
    if code not in accounts_of(session, ent.id):
        raise NotFoundError("科目 account", f"{entity} {code}")
    session.execute(
        update(Account)
        .where(Account.entity_id == ent.id, Account.code == code)
        .values(active=False)
    )
    audit(session, ent.id, actor, "account.deactivate", code)


@command
def delete_account(session: Connection, entity: str, code: str, *, actor: str = OPERATOR) -> None:
    """Delete a detail account that has never carried an amount.

    Raises:
        NotFoundError: no such account.
        StateError: it has postings, an opening balance, custody entries or children.
    """
    ent = get_entity(session, entity, lock=True)
    accounts = accounts_of(session, ent.id)
    acc = accounts.get(code)
    if acc is None:
        raise NotFoundError("科目 account", f"{entity} {code}")
    if acc.parent is None or not acc.leaf or _has_amounts(session, ent.id, code):
        raise StateError(
            f"科目 {code}",
            "有发生额、余额或下级科目 / in use",
            "删除，只能停用 delete (deactivate it)",
        )
    session.execute(delete(Account).where(Account.entity_id == ent.id, Account.code == code))
    audit(session, ent.id, actor, "account.delete", code)


def _account_problem(code: str, accounts: Mapping[str, AccountInfo]) -> str | None:
    acc = accounts.get(code)
    if acc is None:
        return f"科目 {code} 不存在 / no account {code}"
    if not acc.leaf:
        return f"科目 {code} {acc.name} 有明细科目，请用末级科目 / {code} has detail accounts"
    if not acc.active:
        return f"科目 {code} {acc.name} 已停用 / account {code} is inactive"
    return None
