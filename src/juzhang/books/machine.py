"""Machine vouchers (机制凭证) of the month-end close, prepared and posted by the system user.

The carry-forward (结转损益) and, when a month is reopened, its red reversal;
see :mod:`juzhang.closing`.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, select, update

from juzhang.agency import add_user
from juzhang.books.correction import correction_label
from juzhang.books.drafting import _check_all, _Checked, _insert_vouchers
from juzhang.books.posting import _post
from juzhang.books.rows import _lines_of, _load_voucher, _ToPost
from juzhang.core.duty import Action
from juzhang.core.types import VoucherStatus
from juzhang.core.voucher import (
    VoucherDraft,
)
from juzhang.errors import (
    StateError,
    ValidationError,
)
from juzhang.storage.access import (
    accounts_of,
    audit,
    command,
    get_entity,
    now,
    require,
)
from juzhang.storage.schema import (
    User,
    Voucher,
)

SYSTEM_LOGIN = "system"
"""The system user (系统) that prepares and posts the month-end machine vouchers (机制凭证)."""


@command
def post_closing_voucher(
    session: Connection,
    entity: str,
    reviewer: str,
    draft: VoucherDraft | None = None,
    *,
    reverses: int | None = None,
) -> int:
    """Post a machine voucher of the month-end close (机制凭证); return its id.

    Give either ``draft``, a carry-forward (结转损益, kind ``closing``, no
    attachments) checked like any draft, or ``reverses``, the id of a posted
    closing voucher whose red reversal (kind ``reversal``, same date, lines
    negated, 摘要 "注销 X月X日 X号凭证") is posted when a month is reopened.
    The voucher is prepared and posted by the system user (``system``, added
    on demand as an operator action) and reviewed by ``reviewer``, who must
    hold the reviewer role now; numbering, hash chain, running balances and
    closed months as for every posting.  Machine vouchers never move money:
    no line may be on a cash or bank account.

    Raises:
        SegregationOfDutiesError: ``reviewer`` may not review the entity's vouchers.
        ValidationError: neither or both of ``draft`` and ``reverses``, or a custody line.
        NotFoundError: no voucher ``reverses``.
        StateError: ``reverses`` is not a posted closing voucher, or is reversed already.
        ProblemsError: the draft is bad (all listed).
        PeriodClosedError: the voucher's month is closed.
    """
    # the system user first: adding it takes the agency lock, never after an entity's lock
    system = session.execute(select(User.id).where(User.login == SYSTEM_LOGIN)).scalar_one_or_none()
    if system is None:
        system = add_user(session, SYSTEM_LOGIN, "系统")
    ent = get_entity(session, entity, lock=True)
    rev = require(session, ent, reviewer, Action.REVIEW_VOUCHER)
    if (draft is None) == (reverses is None):
        raise ValidationError("机制凭证 machine voucher", "给出 draft 或 reverses 之一 / give one")
    if draft is not None:
        accounts = accounts_of(session, ent.id)
        if any(getattr(accounts.get(ln.account), "custody", None) for ln in draft.lines):
            raise ValidationError(
                "机制凭证 machine voucher", "不得有现金或银行行 / no cash or bank line"
            )
        ((plain, checked),) = _check_all(session, ent, [replace(draft, attachments=0)])
        (vid,) = _insert_vouchers(session, ent, system, [(plain, checked)], kind="closing")
        item = _ToPost(vid, checked.period, draft.date, "closing", None, checked.rows)
    else:
        original = _load_voucher(session, ent, int(reverses or 0))
        if original.status != VoucherStatus.POSTED or original.kind != "closing":
            state = f"{original.status} {original.kind}"
            raise StateError(f"凭证 #{original.id}", state, "冲销结转凭证 reverse as closing")
        taken = select(Voucher.id).where(
            Voucher.entity_id == ent.id, Voucher.reverses_id == original.id
        )
        if session.execute(taken).first() is not None:
            raise StateError(f"凭证 #{original.id}", "已冲销 already reversed", "再冲销 reverse")
        label = "注销 " + correction_label(original)
        rows = [
            (no, acc, side, -fen, label, custody)
            for no, acc, side, fen, _s, custody in _lines_of(session, ent.id, [original.id])[
                original.id
            ]
        ]
        red = (VoucherDraft(original.voucher_date, (), 0), _Checked(original.period, rows))
        (vid,) = _insert_vouchers(
            session, ent, system, [red], kind="reversal", reverses=original.id
        )
        item = _ToPost(vid, original.period, original.voucher_date, "reversal", original.id, rows)
    session.execute(
        update(Voucher)
        .where(Voucher.entity_id == ent.id, Voucher.id == vid)
        .values(status=VoucherStatus.REVIEWED, reviewed_by=rev, reviewed_at=now())
    )
    _post(session, ent, system, [item])
    audit(
        session,
        ent.id,
        SYSTEM_LOGIN,
        "voucher.closing",
        f"#{vid}",
        {"reviewer": reviewer, "reverses": reverses},
    )
    return vid
