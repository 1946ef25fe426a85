"""Roles, actions and the permission table (职责分离 / segregation of duties).

钱账分离 means the money and the books are kept by different people: the
community's cashier (报账员/出纳) holds the cash and the bank account and keeps
the cash and bank journals; the agency's bookkeeper (代理会计) prepares and posts
vouchers; a reviewer (审核) reviews vouchers someone else prepared; the
residents' finance group (民主理财小组, *supervisor*) reads everything and signs
the disclosure; the agency admin (代理中心主任) manages people and reopens
closed months.

This module is pure: it knows roles, actions and which role may do which
action.  :data:`PERMISSIONS` is the one place in the code where that table
lives (``docs/permissions.md`` prints it).  :func:`check_action` is called by
every service function before it changes anything, with the roles the person
holds *now* for the entity, so a grant that was inserted around the service
still cannot act.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from juzhang.errors import SegregationOfDutiesError


class Role(StrEnum):
    """A role a person holds for one entity (one community)."""

    CASHIER = "cashier"  # 报账员 / 出纳
    BOOKKEEPER = "bookkeeper"  # 代理会计 (制单、记账)
    REVIEWER = "reviewer"  # 审核 / 主管会计
    SUPERVISOR = "supervisor"  # 民主理财小组 / 监委会
    ADMIN = "admin"  # 代理中心主任


ROLE_NAMES_ZH: dict[Role, str] = {
    Role.CASHIER: "报账员",
    Role.BOOKKEEPER: "代理会计",
    Role.REVIEWER: "审核",
    Role.SUPERVISOR: "民主理财小组",
    Role.ADMIN: "代理中心主任",
}


class Action(StrEnum):
    """Something a person does to an entity's records."""

    RECORD_CUSTODY = "record custody entry"  # 登记现金/银行日记账
    ACCEPT_STATEMENT = "accept statement line into bank journal"  # 确认对账单入日记账
    COUNT_CASH = "record cash count"  # 现金盘点
    SUBMIT_CLAIMS = "submit claim batch"  # 提交报账单
    SET_OPENING = "set opening balances"  # 录入期初余额
    DRAFT_VOUCHER = "draft voucher"  # 制单
    EDIT_VOUCHER = "edit or delete draft voucher"  # 修改/删除凭证
    REVIEW_VOUCHER = "review voucher"  # 审核
    UNREVIEW_VOUCHER = "withdraw review"  # 取消审核
    POST_VOUCHER = "post voucher"  # 记账
    REVERSE_VOUCHER = "reverse voucher"  # 红字冲销
    CLOSE_PERIOD = "close period"  # 结账
    REOPEN_PERIOD = "reopen period"  # 反结账
    SIGN_DISCLOSURE = "sign disclosure"  # 民主理财小组签字
    ASK_QUESTION = "record resident question"  # 登记居民提问（提问栏）
    ANSWER_QUESTION = "answer resident question"  # 答复居民提问（回音栏）
    READ = "read books and reports"  # 查阅


ACTION_NAMES_ZH: dict[Action, str] = {
    Action.RECORD_CUSTODY: "登记现金/银行日记账",
    Action.ACCEPT_STATEMENT: "确认对账单入银行日记账",
    Action.COUNT_CASH: "登记现金盘点",
    Action.SUBMIT_CLAIMS: "提交报账单",
    Action.SET_OPENING: "录入期初余额",
    Action.DRAFT_VOUCHER: "制单",
    Action.EDIT_VOUCHER: "修改或删除凭证",
    Action.REVIEW_VOUCHER: "审核凭证",
    Action.UNREVIEW_VOUCHER: "取消审核",
    Action.POST_VOUCHER: "记账",
    Action.REVERSE_VOUCHER: "红字冲销凭证",
    Action.CLOSE_PERIOD: "结账",
    Action.REOPEN_PERIOD: "反结账",
    Action.SIGN_DISCLOSURE: "财务公开签字",
    Action.ASK_QUESTION: "登记居民提问",
    Action.ANSWER_QUESTION: "答复居民提问",
    Action.READ: "查阅账簿和报表",
}

#: Which roles may perform each action.  The one table; everything else asks it.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.RECORD_CUSTODY: frozenset({Role.CASHIER}),
    Action.ACCEPT_STATEMENT: frozenset({Role.CASHIER}),
    Action.COUNT_CASH: frozenset({Role.CASHIER}),
    Action.SUBMIT_CLAIMS: frozenset({Role.CASHIER}),
    Action.SET_OPENING: frozenset({Role.BOOKKEEPER}),
    Action.DRAFT_VOUCHER: frozenset({Role.BOOKKEEPER}),
    Action.EDIT_VOUCHER: frozenset({Role.BOOKKEEPER}),
    Action.REVIEW_VOUCHER: frozenset({Role.REVIEWER}),
    Action.UNREVIEW_VOUCHER: frozenset({Role.REVIEWER}),
    Action.POST_VOUCHER: frozenset({Role.BOOKKEEPER}),
    Action.REVERSE_VOUCHER: frozenset({Role.BOOKKEEPER}),
    Action.CLOSE_PERIOD: frozenset({Role.REVIEWER}),
    Action.REOPEN_PERIOD: frozenset({Role.ADMIN}),
    Action.SIGN_DISCLOSURE: frozenset({Role.SUPERVISOR}),
    # A resident's question is written down by the community's own people: its
    # cashier (community staff at the counter) or the finance group.  The
    # community answers: the finance group or the agency's admin — never the
    # agency's bookkeeper or reviewer, whose work the question may be about.
    Action.ASK_QUESTION: frozenset({Role.CASHIER, Role.SUPERVISOR}),
    Action.ANSWER_QUESTION: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Action.READ: frozenset(Role),
}

#: Roles that may never be held together with ``cashier`` for the same entity.
BOOKS_SIDE: frozenset[Role] = frozenset({Role.BOOKKEEPER, Role.REVIEWER, Role.ADMIN})

RULE_SEPARATION = (
    "钱账分离：同一社区的报账员不得兼任代理会计、审核或管理员 / "
    "money and books apart: a community's cashier may not also keep, review or administer its books"
)


def role_label(role: Role | str) -> str:
    """Return ``"cashier 报账员"``: the role's code and its Chinese name."""
    r = Role(role)
    return f"{r.value} {ROLE_NAMES_ZH[r]}"


def action_label(action: Action) -> str:
    """Return the action in Chinese and English, e.g. ``"制单 draft voucher"``."""
    return f"{ACTION_NAMES_ZH[action]} {action.value}"


def allowed_roles(action: Action) -> frozenset[Role]:
    """Return the roles that may perform ``action``."""
    return PERMISSIONS[action]


def check_grant(person: str, role: Role, held: Iterable[Role]) -> None:
    """Refuse a grant of ``role`` to a person who already holds ``held`` for the entity.

    Raises:
        SegregationOfDutiesError: the grant would put money and books in one hand.
    """
    held_set = set(held)
    if role == Role.CASHIER and held_set & BOOKS_SIDE:
        other = sorted(held_set & BOOKS_SIDE)[0]
        raise SegregationOfDutiesError(
            person, role_label(other), f"兼任 / also hold {role_label(role)}", RULE_SEPARATION
        )
    if role in BOOKS_SIDE and Role.CASHIER in held_set:
        raise SegregationOfDutiesError(
            person,
            role_label(Role.CASHIER),
            f"兼任 / also hold {role_label(role)}",
            RULE_SEPARATION,
        )


def check_action(person: str, action: Action, held: Iterable[Role]) -> Role:
    """Check that a person holding ``held`` for an entity may perform ``action``.

    Conflicting grants (cashier together with a books-side role) are refused
    for every action, whatever else the person holds.

    Returns:
        The role under which the action is allowed.

    Raises:
        SegregationOfDutiesError: conflicting grants, or no role that allows it.
    """
    held_set = {Role(r) for r in held}
    if Role.CASHIER in held_set and held_set & BOOKS_SIDE:
        other = sorted(held_set & BOOKS_SIDE)[0]
        raise SegregationOfDutiesError(
            person,
            f"{role_label(Role.CASHIER)} + {role_label(other)}",
            action_label(action),
            RULE_SEPARATION,
        )
    allowed = PERMISSIONS[action]
    for role in sorted(held_set):
        if role in allowed:
            return role
    held_text = ", ".join(role_label(r) for r in sorted(held_set)) or "无角色 / no role"
    need = ", ".join(role_label(r) for r in sorted(allowed))
    raise SegregationOfDutiesError(
        person,
        held_text,
        action_label(action),
        f"只有 {need} 可以这样做 / only {need} may do this",
    )
