"""Bank accounts of the books (银行账户): the bank's number behind a bank detail account.

The books' bank detail account (``--account``, e.g. 10201 银行存款—农商行) has
the bank's account number recorded with it (:func:`set_bank_account`, table
``bank_account``).  A statement whose metadata or own-account column names
another number is refused.  The number also goes into the dedup keys, so it is
fixed once lines exist.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from juzhang.errors import ConflictError, NotFoundError, StateError, ValidationError
from juzhang.importers.bank import BankProfile, open_statement, same_account
from juzhang.statements.model import BankAccountView
from juzhang.storage.access import (
    OPERATOR,
    AccountInfo,
    accounts_of,
    audit,
    command,
    get_entity,
)
from juzhang.storage.schema import BankAccount, Entity, StatementLine


def normalise_number(text: str) -> str:
    """Return a bank account number without spaces and dashes (full-width folded).

    Raises :class:`~juzhang.errors.ValidationError` unless digits, and only
    digits, remain.
    """
    number = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text))
    if not number.isascii() or not number.isdigit():
        raise ValidationError(f"银行账号 bank account number {text!r}", "只能是数字 / digits only")
    return number


def check_bank_account(accounts: dict[str, AccountInfo], code: str, entity: str) -> AccountInfo:
    acc = accounts.get(code)
    if acc is None:
        raise NotFoundError("科目 account", f"{entity} {code}")
    if acc.custody != "bank":
        raise ValidationError(
            f"科目 account {code} {acc.name}", "不是银行存款科目 / not a bank account"
        )
    if not acc.leaf:
        raise ValidationError(
            f"科目 account {code} {acc.name}",
            "有明细科目，请用末级科目 / has detail accounts: use the detail account",
        )
    if not acc.active:
        raise ValidationError(f"科目 account {code} {acc.name}", "已停用 / inactive")
    return acc


@command
def set_bank_account(
    session: Connection,
    entity: str,
    account: str,
    number: str,
    *,
    name: str = "",
    bank: str = "",
    actor: str = OPERATOR,
) -> None:
    """Record the bank's account number behind a bank detail account (set-up).

    Raises:
        NotFoundError: no such entity or account.
        ValidationError: not a bank detail account, or a bad number.
        ConflictError: another account of the entity has this number.
        StateError: statement lines are stored under another number.
    """
    ent = get_entity(session, entity, lock=True)
    check_bank_account(accounts_of(session, ent.id), account, entity)
    clean = normalise_number(number)
    other = session.execute(
        select(BankAccount.account_code).where(
            BankAccount.entity_id == ent.id,
            BankAccount.number == clean,
            BankAccount.account_code != account,
        )
    ).scalar_one_or_none()
    if other is not None:
        raise ConflictError("银行账号 bank account number", f"{clean} ({entity} {other})")
    old = session.execute(
        select(BankAccount.number).where(
            BankAccount.entity_id == ent.id, BankAccount.account_code == account
        )
    ).scalar_one_or_none()
    if old is not None and old != clean and _has_lines(session, ent.id, account):
        raise StateError(
            f"{entity} {account} 银行账号 {old}",
            "已导入对账单 / statement lines are stored under it",
            "更改账号 change the number",
        )
    values = {"number": clean, "name": name, "bank": bank}
    if old is None:
        session.execute(
            insert(BankAccount).values(entity_id=ent.id, account_code=account, **values)
        )
    else:
        session.execute(
            update(BankAccount)
            .where(BankAccount.entity_id == ent.id, BankAccount.account_code == account)
            .values(**values)
        )
    audit(session, ent.id, actor, "bank_account.set", account, values)


def _has_lines(session: Connection, entity_id: int, account: str) -> bool:
    q = select(StatementLine.id).where(
        StatementLine.entity_id == entity_id, StatementLine.account_code == account
    )
    return session.execute(q.limit(1)).first() is not None


def bank_accounts(session: Connection, entity: str) -> list[BankAccountView]:
    """Return the bank account numbers recorded for an entity, by account code.

    Raises:
        NotFoundError: no such entity.
    """
    ent = get_entity(session, entity)
    rows = session.execute(
        select(BankAccount.account_code, BankAccount.number, BankAccount.name, BankAccount.bank)
        .where(BankAccount.entity_id == ent.id)
        .order_by(BankAccount.account_code)
    )
    return [BankAccountView(*row) for row in rows]


def statement_number(
    path: str | Path, *, profile: str | BankProfile | None = None, name: str | None = None
) -> str | None:
    """Return the bank account number a statement file prints, or ``None`` when it prints none.

    The number comes from the importer's reading of the file: the metadata
    above the header, else the own-account column of the first row (payer /
    payee layouts: the account on both sides of the first rows).

    Raises:
        ProblemsError: the file cannot be read or has no recognisable header.
    """
    with open_statement(path, profile=profile, name=name, check_balance=False) as stream:
        if stream.own_account is None:
            next(iter(stream), None)
        return stream.own_account


def route_statement(session: Connection, number: str | None) -> tuple[str, str]:
    """Return ``(entity code, bank account code)`` whose recorded number is ``number``.

    Raises:
        ValidationError: the file prints no number, no community has it
            recorded (``juzhang statement bank-account``), or it matches
            more than one account (a masked number, or one number recorded
            twice).
    """
    what = "银行账号 bank account number"
    if number is None:
        raise ValidationError(what, "对账单未写账号，无法分派 / the statement prints no number")
    rows = session.execute(
        select(Entity.code, BankAccount.account_code, BankAccount.number)
        .join(Entity, Entity.id == BankAccount.entity_id)
        .order_by(Entity.code, BankAccount.account_code)
    ).all()
    found = [(code, account) for code, account, recorded in rows if same_account(recorded, number)]
    if not found:
        raise ValidationError(
            f"{what} {number}",
            "未登记（juzhang statement bank-account） / not recorded for any community",
        )
    if len(found) > 1:
        both = ", ".join(f"{code} {account}" for code, account in found)
        raise ValidationError(f"{what} {number}", f"对应多个账户 / matches more than one: {both}")
    return found[0]
