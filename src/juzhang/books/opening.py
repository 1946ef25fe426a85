"""Opening balances (期初余额) of an entity's books, set before anything is posted.

:func:`set_opening` writes the balances of leaf accounts in one go;
:func:`opening_difference` is what keeps them from balancing (试算平衡), which
posting refuses to number past (see :mod:`juzhang.books.posting`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import Connection, delete, func, insert, select

from juzhang.books.account import _account_problem
from juzhang.core.duty import Action
from juzhang.core.types import VoucherStatus
from juzhang.errors import (
    Problem,
    ProblemsError,
    StateError,
)
from juzhang.money import from_fen, to_fen
from juzhang.storage.access import (
    accounts_of,
    audit,
    command,
    get_entity,
    require,
)
from juzhang.storage.schema import (
    OpeningBalance,
    Voucher,
)


@command
def set_opening(
    session: Connection, entity: str, actor: str, balances: Mapping[str, Decimal]
) -> None:
    """Set opening balances (期初余额), debit positive and credit negative.

    Balances of accounts not named stay as they are; a zero removes one.  They
    may be changed until the first voucher is posted; posting is refused while
    they do not balance.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        StateError: vouchers are already posted.
        ProblemsError: unknown or non-leaf accounts (all listed).
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.SET_OPENING)
    if _any_posted(session, ent.id):
        raise StateError(
            "期初余额 opening balances", "已有记账凭证 / vouchers posted", "修改 change"
        )
    accounts = accounts_of(session, ent.id)
    problems = [
        Problem(f"{entity} {code}", _account_problem(code, accounts) or "")
        for code in balances
        if _account_problem(code, accounts)
    ]
    if problems:
        raise ProblemsError("期初余额 opening balances", problems)
    for code, amount in balances.items():
        fen = to_fen(amount)
        session.execute(
            delete(OpeningBalance).where(
                OpeningBalance.entity_id == ent.id, OpeningBalance.account_code == code
            )
        )
        if fen:
            session.execute(
                insert(OpeningBalance).values(entity_id=ent.id, account_code=code, amount_fen=fen)
            )
    audit(
        session,
        ent.id,
        actor,
        "opening.set",
        entity,
        {code: str(amount) for code, amount in balances.items()},
    )


def opening_difference(session: Connection, entity: str) -> Decimal:
    """Return by how much the entity's opening balances fail to balance (0.00 when they do).

    Positive when debits exceed credits.

    Raises:
        NotFoundError: unknown entity.
    """
    return from_fen(_opening_difference(session, get_entity(session, entity).id))


def _opening_difference(session: Connection, entity_id: int) -> int:
    total = session.execute(
        select(func.coalesce(func.sum(OpeningBalance.amount_fen), 0)).where(
            OpeningBalance.entity_id == entity_id
        )
    ).scalar_one()
    return int(total)


def _any_posted(session: Connection, entity_id: int) -> bool:
    q = select(Voucher.id).where(
        Voucher.entity_id == entity_id, Voucher.status == VoucherStatus.POSTED
    )
    return session.execute(q.limit(1)).first() is not None
