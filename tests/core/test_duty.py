"""The role × action matrix (职责分离): in full, pure, and through every service on both databases.

The expected table below is written out by hand from DOMAIN.md §2, not read
from :data:`juzhang.core.duty.PERMISSIONS`, so a change to the code's table
that the domain does not allow makes these tests fail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from juzhang import agency, books, custody
from juzhang.core.duty import (
    PERMISSIONS,
    RULE_SEPARATION,
    Action,
    Role,
    action_label,
    check_action,
    check_grant,
    role_label,
)
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import SegregationOfDutiesError
from juzhang.storage.schema import AuditLog, RoleGrant
from tests.conftest import World, lock_period
from tests.conftest import dump as _dump

# --------------------------------------------------------------------------- the expected table

ROLES = ("cashier", "bookkeeper", "reviewer", "supervisor", "admin")

# X = may, . = may not.  Columns in the order of ROLES.
MATRIX = """
record custody entry                     X . . . .
accept statement line into bank journal  X . . . .
record cash count                        X . . . .
submit claim batch                       X . . . .
set opening balances                     . X . . .
draft voucher                            . X . . .
edit or delete draft voucher             . X . . .
review voucher                           . . X . .
withdraw review                          . . X . .
post voucher                             . X . . .
reverse voucher                          . X . . .
close period                             . . X . .
reopen period                            . . . . X
sign disclosure                          . . . X .
record resident question                 X . . X .
answer resident question                 . . . X X
read books and reports                   X X X X X
"""


def _expected() -> dict[str, dict[str, bool]]:
    table: dict[str, dict[str, bool]] = {}
    for row in MATRIX.strip().splitlines():
        *words, c1, c2, c3, c4, c5 = row.split()
        marks = (c1, c2, c3, c4, c5)
        assert set(marks) <= {"X", "."}, row
        table[" ".join(words)] = {r: m == "X" for r, m in zip(ROLES, marks, strict=True)}
    return table


EXPECTED = _expected()
PAIRS = [(action, role) for action in Action for role in Role]


def test_matrix_covers_every_action_and_role() -> None:
    assert set(EXPECTED) == {a.value for a in Action}
    assert set(PERMISSIONS) == set(Action)
    assert {r.value for r in Role} == set(ROLES)


def test_no_role_on_both_sides_of_the_money() -> None:
    """What the cashier may do, no books-side role may do, and the other way round."""
    for action, row in EXPECTED.items():
        if action == "read books and reports":
            continue
        books_side = row["bookkeeper"] or row["reviewer"] or row["admin"]
        assert not (row["cashier"] and books_side), action


@pytest.mark.parametrize(("action", "role"), PAIRS, ids=[f"{r}-{a.name}" for a, r in PAIRS])
def test_check_action_matrix(action: Action, role: Role) -> None:
    allowed = EXPECTED[action.value][role.value]
    if allowed:
        assert check_action("张三", action, {role}) == role
        return
    with pytest.raises(SegregationOfDutiesError) as info:
        check_action("张三", action, {role})
    err = info.value
    assert err.person == "张三"
    assert err.role == role_label(role)
    assert err.action == action_label(action)
    assert action.value in err.action
    for may in (r for r in ROLES if EXPECTED[action.value][r]):
        assert may in err.rule
    text = str(err)
    for part in ("张三", role.value, action.value, err.rule):
        assert part in text


@pytest.mark.parametrize("action", list(Action), ids=[a.name for a in Action])
def test_no_role_at_all_is_refused(action: Action) -> None:
    with pytest.raises(SegregationOfDutiesError) as info:
        check_action("路人", action, set())
    assert "no role" in info.value.role


@pytest.mark.parametrize("action", list(Action), ids=[a.name for a in Action])
@pytest.mark.parametrize("other", ["bookkeeper", "reviewer", "admin"])
def test_conflicting_grants_refuse_every_action(action: Action, other: str) -> None:
    """Cashier with a books-side role can do nothing, not even what either role allows."""
    for extra in ((), (Role.SUPERVISOR,)):
        held = {Role.CASHIER, Role(other), *extra}
        with pytest.raises(SegregationOfDutiesError) as info:
            check_action("李四", action, held)
        err = info.value
        assert err.person == "李四"
        assert "cashier" in err.role and other in err.role
        assert err.action == action_label(action)
        assert err.rule == RULE_SEPARATION
        assert "钱账分离" in str(err)


@pytest.mark.parametrize("action", list(Action), ids=[a.name for a in Action])
def test_several_roles_allow_the_union(action: Action) -> None:
    """A person holding several roles (never both sides) may do what any of them may."""
    for held in (
        {Role.BOOKKEEPER, Role.REVIEWER},
        {Role.CASHIER, Role.SUPERVISOR},
        {Role.REVIEWER, Role.ADMIN, Role.SUPERVISOR},
    ):
        may = any(EXPECTED[action.value][r.value] for r in held)
        if may:
            assert check_action("王五", action, held) in held
        else:
            with pytest.raises(SegregationOfDutiesError):
                check_action("王五", action, held)


GRANT_CASES = [
    # (role to grant, roles held, refused?)
    ("cashier", set(), False),
    ("cashier", {"supervisor"}, False),
    ("cashier", {"bookkeeper"}, True),
    ("cashier", {"reviewer"}, True),
    ("cashier", {"admin"}, True),
    ("cashier", {"supervisor", "admin"}, True),
    ("bookkeeper", {"cashier"}, True),
    ("reviewer", {"cashier"}, True),
    ("admin", {"cashier"}, True),
    ("bookkeeper", {"reviewer"}, False),
    ("reviewer", {"bookkeeper"}, False),
    ("admin", {"bookkeeper", "reviewer"}, False),
    ("supervisor", {"cashier"}, False),
    ("supervisor", {"bookkeeper"}, False),
]


@pytest.mark.parametrize(("role", "held", "refused"), GRANT_CASES)
def test_check_grant(role: str, held: set[str], refused: bool) -> None:
    held_roles = {Role(r) for r in held}
    if not refused:
        check_grant("赵六", Role(role), held_roles)
        return
    with pytest.raises(SegregationOfDutiesError) as info:
        check_grant("赵六", Role(role), held_roles)
    err = info.value
    assert err.person == "赵六"
    assert role in err.action
    assert err.rule == RULE_SEPARATION
    # the role named is the one already held that conflicts
    assert any(h in err.role for h in held)


# --------------------------------------------------------------------------- the services

OCT06 = dt.date(2026, 10, 6)


def _draft(amount: str = "10.00") -> VoucherDraft:
    return VoucherDraft(
        OCT06, (Line("112", "应收", debit=D(amount)), Line("501", "收入", credit=D(amount)))
    )


def _prepare(world: World, *, post: bool = True) -> dict[str, int]:
    """Vouchers in every state, a custody entry, and a closed 2026-09.

    With ``post``: 记-1 of 2026-10 posted and reversed (the reversal is 记-3),
    记-2 posted; then a reviewed and a draft voucher.
    """
    w = world
    ids: dict[str, int] = {}
    if post:
        first, second = w.run(books.draft_vouchers, "C001", "bk", [_draft(), _draft("11.00")])
        w.run(books.review_vouchers, "C001", "rv", [first, second])
        assert w.run(books.post_vouchers, "C001", "bk", [first, second]) == [1, 2]
        red = w.run(books.reverse_voucher, "C001", "bk", 202610, 1)
        w.run(books.review_vouchers, "C001", "rv", [red])
        assert w.run(books.post_vouchers, "C001", "bk", [red]) == [3]
    ids["reviewed"] = w.run(books.draft_voucher, "C001", "bk", _draft("20.00"))
    w.run(books.review_vouchers, "C001", "rv", [ids["reviewed"]])
    ids["draft"] = w.run(books.draft_voucher, "C001", "bk", _draft("30.00"))
    ids["entry"] = w.run(custody.record_entry, "C001", "cash", OCT06, "101", D("5.00"), "零钱")
    w.run(lock_period, "C001", "rv", 202609)
    return ids


SERVICE_ACTIONS: dict[str, tuple[Action, Callable[[World, str, dict[str, int]], object]]] = {
    "record custody": (
        Action.RECORD_CUSTODY,
        lambda w, p, ids: w.run(custody.record_entry, "C001", p, OCT06, "101", D("1"), "x"),
    ),
    "delete custody": (
        Action.RECORD_CUSTODY,
        lambda w, p, ids: w.run(custody.delete_entry, "C001", p, ids["entry"]),
    ),
    "set opening": (
        Action.SET_OPENING,
        lambda w, p, ids: w.run(books.set_opening, "C001", p, {"112": D("1")}),
    ),
    "draft": (
        Action.DRAFT_VOUCHER,
        lambda w, p, ids: w.run(books.draft_voucher, "C001", p, _draft()),
    ),
    "edit": (
        Action.EDIT_VOUCHER,
        lambda w, p, ids: w.run(books.edit_voucher, "C001", p, ids["draft"], _draft("1.00")),
    ),
    "delete": (
        Action.EDIT_VOUCHER,
        lambda w, p, ids: w.run(books.delete_voucher, "C001", p, ids["draft"]),
    ),
    "review": (
        Action.REVIEW_VOUCHER,
        lambda w, p, ids: w.run(books.review_vouchers, "C001", p, [ids["draft"]]),
    ),
    "unreview": (
        Action.UNREVIEW_VOUCHER,
        lambda w, p, ids: w.run(books.unreview_voucher, "C001", p, ids["reviewed"]),
    ),
    "post": (
        Action.POST_VOUCHER,
        lambda w, p, ids: w.run(books.post_vouchers, "C001", p, [ids["reviewed"]]),
    ),
    "reverse": (
        Action.REVERSE_VOUCHER,
        lambda w, p, ids: w.run(books.reverse_voucher, "C001", p, 202610, 2),
    ),
    "correct": (
        Action.DRAFT_VOUCHER,
        lambda w, p, ids: w.run(books.draft_correction, "C001", p, 202610, 1, _draft()),
    ),
    "close": (
        Action.CLOSE_PERIOD,
        lambda w, p, ids: w.run(lock_period, "C001", p, 202611),
    ),
    "reopen": (
        Action.REOPEN_PERIOD,
        lambda w, p, ids: w.run(books.reopen_period, "C001", p, 202609, "补记漏账"),
    ),
}

# who may not do what, through the service (DOMAIN.md §2)
REFUSED = {
    "cash": [
        "set opening",
        "draft",
        "edit",
        "delete",
        "review",
        "unreview",
        "post",
        "reverse",
        "correct",
        "close",
        "reopen",
    ],
    "bk": ["record custody", "delete custody", "review", "unreview", "close", "reopen"],
    "rv": [
        "record custody",
        "delete custody",
        "set opening",
        "draft",
        "edit",
        "delete",
        "post",
        "reverse",
        "correct",
        "reopen",
    ],
    "sup": list(SERVICE_ACTIONS),
    "adm": [
        "record custody",
        "delete custody",
        "set opening",
        "draft",
        "edit",
        "delete",
        "review",
        "unreview",
        "post",
        "reverse",
        "correct",
        "close",
    ],
}
ROLE_OF = {
    "cash": "cashier",
    "bk": "bookkeeper",
    "rv": "reviewer",
    "sup": "supervisor",
    "adm": "admin",
}


def test_refusal_table_agrees_with_expected_matrix() -> None:
    for person, role in ROLE_OF.items():
        for name, (action, _fn) in SERVICE_ACTIONS.items():
            may = EXPECTED[action.value][role]
            assert (name in REFUSED[person]) == (not may), (person, name)


@pytest.mark.parametrize("person", list(REFUSED))
def test_service_refuses_person_without_role(world: World, person: str) -> None:
    """Each refused action, one after the other on the same books (a refusal changes nothing)."""
    ids = _prepare(world)
    before = _dump(world.engine)
    for name in REFUSED[person]:
        action, attempt = SERVICE_ACTIONS[name]
        with pytest.raises(SegregationOfDutiesError) as info:
            attempt(world, person, ids)
        err = info.value
        assert person in err.person and "C001" in err.person, name
        assert ROLE_OF[person] in err.role, name
        assert action.value in err.action and action_label(action) == err.action, name
        assert "only" in err.rule, name
        for role in ROLES:
            if EXPECTED[action.value][role]:
                assert role in err.rule, name
        for part in (person, ROLE_OF[person], action.value, err.rule):
            assert part in str(err), name
        assert _dump(world.engine) == before, name


@pytest.mark.parametrize("name", list(SERVICE_ACTIONS))
def test_service_allows_the_right_role(world: World, name: str) -> None:
    """Control: the same calls succeed for a person who holds the role."""
    ids = _prepare(world, post=name != "set opening")
    action, attempt = SERVICE_ACTIONS[name]
    person = {"cashier": "cash", "bookkeeper": "bk", "reviewer": "rv", "admin": "adm"}[
        next(r for r in ROLES if EXPECTED[action.value][r])
    ]
    attempt(world, person, ids)


def test_person_without_any_role_for_the_entity(world: World) -> None:
    world.run(agency.add_user, "guest", "过路人")
    with pytest.raises(SegregationOfDutiesError) as info:
        world.run(books.draft_voucher, "C001", "guest", _draft())
    assert "no role" in info.value.role and "guest" in info.value.person


@pytest.mark.parametrize(
    ("login", "role"),
    [
        ("cash", "bookkeeper"),
        ("cash", "reviewer"),
        ("cash", "admin"),
        ("bk", "cashier"),
        ("rv", "cashier"),
        ("adm", "cashier"),
    ],
)
def test_grant_refused_by_the_agency(world: World, login: str, role: str) -> None:
    before = _dump(world.engine)
    with pytest.raises(SegregationOfDutiesError) as info:
        world.run(agency.grant, login, role, "C001")
    err = info.value
    assert login in err.person and "C001" in err.person
    assert role in err.action
    assert err.rule == RULE_SEPARATION
    assert _dump(world.engine) == before


def test_grants_that_keep_money_and_books_apart_are_allowed(world: World) -> None:
    world.run(agency.grant, "bk", "reviewer", "C001")
    world.run(agency.grant, "cash", "supervisor", "C001")
    world.run(agency.grant, "bk", "reviewer", "C001")  # idempotent
    with world.engine.connect() as conn:
        n = len(conn.execute(select(RoleGrant)).all())
        grants = conn.execute(select(AuditLog.subject).where(AuditLog.action == "role.grant"))
        logged = sorted(s for (s,) in grants)
    assert n == 8  # six people, one role each, plus two
    assert logged.count("bk") == 2 and logged.count("cash") == 2


def test_grant_is_per_entity(world: World) -> None:
    """The cashier of one community may keep the books of another."""
    agency_add = world.run(agency.add_entity, "C002", "另一社区", start_period=202609)
    assert agency_add > 0
    world.run(agency.grant, "cash", "bookkeeper", "C002")
    world.run(books.draft_voucher, "C002", "cash", _draft())
    with pytest.raises(SegregationOfDutiesError):
        world.run(books.draft_voucher, "C001", "cash", _draft())


def test_reviewer_may_not_review_own_voucher(world: World) -> None:
    world.run(agency.grant, "bk", "reviewer", "C001")
    vid = world.run(books.draft_voucher, "C001", "bk", _draft())
    before = _dump(world.engine)
    with pytest.raises(SegregationOfDutiesError) as info:
        world.run(books.review_vouchers, "C001", "bk", [vid])
    err = info.value
    assert "bk" in err.person and "reviewer" in err.role
    assert "review own voucher" in err.action and f"#{vid}" in err.action
    assert "preparer" in err.rule
    assert _dump(world.engine) == before
    # in a batch with someone else's voucher: nothing is reviewed
    other = world.run(books.draft_voucher, "C001", "bk2", _draft())
    with pytest.raises(SegregationOfDutiesError):
        world.run(books.review_vouchers, "C001", "bk", [other, vid])
    assert world.run(books.get_voucher, "C001", other).status == "draft"
    # the same person may review a colleague's voucher, and another reviewer hers
    world.run(books.review_vouchers, "C001", "bk", [other])
    world.run(books.review_vouchers, "C001", "rv", [vid])
    # ...and post both (bookkeeper), including the one she reviewed
    assert world.run(books.post_vouchers, "C001", "bk", [vid, other]) == [1, 2]


def test_bulk_reviewer_may_not_be_preparer(world: World) -> None:
    world.run(agency.grant, "bk", "reviewer", "C001")
    before = _dump(world.engine)
    with pytest.raises(SegregationOfDutiesError) as info:
        world.run(books.post_bulk, "C001", [_draft()], preparer="bk", reviewer="bk", poster="bk2")
    assert "preparer" in info.value.rule
    assert _dump(world.engine) == before
    assert (
        len(
            world.run(
                books.post_bulk, "C001", [_draft()], preparer="bk", reviewer="rv", poster="bk"
            )
        )
        == 1
    )


def test_only_preparer_edits_or_deletes(world: World) -> None:
    vid = world.run(books.draft_voucher, "C001", "bk", _draft())
    attempts: list[Callable[[], object]] = [
        lambda: world.run(books.edit_voucher, "C001", "bk2", vid, _draft("2.00")),
        lambda: world.run(books.delete_voucher, "C001", "bk2", vid),
    ]
    for attempt in attempts:
        with pytest.raises(SegregationOfDutiesError) as info:
            attempt()
        assert "bk2" in info.value.person and "preparer" in info.value.rule
