"""Who holds which duty, in juzhang and in the database (职责核对, for auditors).

``juzhang audit roles`` lists, per community, each open grant of juzhang
(``role_grant``) and, on PostgreSQL, whether the person's own login role is
a member of the duty's database role (``<namespace>.<duty>``, migration
0018).  It reports a :class:`~juzhang.errors.Problem` for

* a grant whose holder has a database login that is not a member of the duty
  role, or a membership of a duty role the person holds no open grant for
  (the two are kept in step by ``jz_grant_sync``; a difference means someone
  changed the database's roles by hand);
* a database login recorded in ``app_user.db_role`` that does not exist;
* a person holding the cashier's duty and a books-side duty (bookkeeper,
  reviewer, admin) for one community (钱账分离; the grant is refused by the
  service and the trigger, so this is old data or a change around both).

On SQLite there are no database logins: only the grants and 钱账分离 are checked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, select, text

from juzhang.core.duty import BOOKS_SIDE, RULE_SEPARATION, Role
from juzhang.errors import Problem
from juzhang.storage.engine import is_sqlite
from juzhang.storage.identity import DUTY_ROLES, namespace
from juzhang.storage.schema import Entity, RoleGrant, User


@dataclass(frozen=True, slots=True)
class DutyHeld:
    """One open grant: the community, the person, the duty, and the database's side.

    ``db_role`` is the person's login role (``None``: no database login, or
    SQLite); ``db_member`` whether that role is a member of the duty's role
    (``None`` without a login).
    """

    entity: str
    login: str
    role: str
    db_role: str | None
    db_member: bool | None


@dataclass(frozen=True, slots=True)
class RolesAudit:
    """What :func:`audit_roles` found: every open grant, and the problems."""

    held: tuple[DutyHeld, ...]
    problems: tuple[Problem, ...]


def audit_roles(session: Connection) -> RolesAudit:
    """Compare juzhang's grants with the database's role memberships; check 钱账分离.

    Returns every open grant (by community, login, role) and the problems
    (see the module's description).  Reads only; on PostgreSQL a person's
    own login sees only their communities, the owner or an operator all.
    """
    rows = session.execute(
        select(Entity.code, User.login, RoleGrant.role, User.db_role)
        .join(RoleGrant, RoleGrant.entity_id == Entity.id)
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.revoked_at.is_(None))
        .order_by(Entity.code, User.login, RoleGrant.role)
    ).all()
    members, logins, problems = _database_side(session)
    held = tuple(
        DutyHeld(
            code,
            login,
            role,
            db_role,
            None if db_role is None or is_sqlite(session) else role in members[db_role],
        )
        for code, login, role, db_role in rows
    )
    for h in held:
        if h.db_member is False:
            problems.append(
                Problem(
                    f"{h.entity} {h.login}",
                    f"有 {h.role} 授权，但数据库登录 {h.db_role} 不是该职责角色的成员"
                    f" / holds {h.role} in juzhang, but the database login is not a member",
                    "roles",
                )
            )
    granted: dict[str, set[str]] = defaultdict(set)
    for h in held:
        if h.db_role is not None:
            granted[h.db_role].add(h.role)
    for db_role, duties in sorted(members.items()):
        for duty in sorted(duties - granted[db_role]):
            problems.append(
                Problem(
                    f"{logins.get(db_role, db_role)}",
                    f"数据库登录 {db_role} 是 {duty} 角色的成员，但没有该职责的授权"
                    f" / the database login is a member of {duty} without a grant of it",
                    "roles",
                )
            )
    problems += _separation(held)
    return RolesAudit(held, tuple(problems))


def _database_side(
    session: Connection,
) -> tuple[dict[str, set[str]], dict[str, str], list[Problem]]:
    """Return {login role: duties it is a member of}, {login role: login}, missing roles."""
    members: dict[str, set[str]] = defaultdict(set)
    if is_sqlite(session):
        return members, {}, []
    ns = namespace(session)
    problems: list[Problem] = []
    logins = {
        str(db_role): login
        for login, db_role in session.execute(
            select(User.login, User.db_role).where(User.db_role.is_not(None))
        )
    }
    existing = {
        name for (name,) in session.execute(text("SELECT rolname FROM pg_catalog.pg_roles"))
    }
    for db_role, login in sorted(logins.items()):
        if db_role not in existing:
            problems.append(
                Problem(
                    login,
                    f"数据库登录 {db_role} 不存在 / the database login does not exist",
                    "roles",
                )
            )
    duty_roles = {f"{ns}.{d}": d for d in DUTY_ROLES}
    pairs = session.execute(
        text(
            "SELECT m.rolname, g.rolname FROM pg_catalog.pg_auth_members a"
            " JOIN pg_catalog.pg_roles m ON m.oid = a.member"
            " JOIN pg_catalog.pg_roles g ON g.oid = a.roleid"
            " WHERE g.rolname = ANY(:groups)"
        ),
        {"groups": list(duty_roles)},
    )
    for member, group in pairs:
        if member in logins:
            members[member].add(duty_roles[group])
    return members, logins, problems


def _separation(held: tuple[DutyHeld, ...]) -> list[Problem]:
    by_person: dict[tuple[str, str], set[str]] = defaultdict(set)
    for h in held:
        by_person[(h.entity, h.login)].add(h.role)
    books_side = {r.value for r in BOOKS_SIDE}
    return [
        Problem(
            f"{entity} {login}",
            f"同时担任 / holds {Role.CASHIER.value} + {', '.join(sorted(roles & books_side))}:"
            f" {RULE_SEPARATION}",
            "roles",
        )
        for (entity, login), roles in sorted(by_person.items())
        if Role.CASHIER.value in roles and roles & books_side
    ]
