"""The agency's set-up (代理中心设置): communities, people and their roles.

These are operator commands: whoever holds the database (or the host
application) decides who may run them.  They need no acting user and are
recorded in the audit log as ``operator`` unless an actor is named.

A new entity gets the accounts of its chart template (科目表, see
:mod:`juzhang.charts`) except the optional ones (可增设科目), which
:func:`add_optional_account` adds when a community needs one.  Granting a role checks 钱账分离 first
(:func:`juzhang.core.duty.check_grant`) against every role the person has
ever held for the community; the database refuses the same grant when the
service is bypassed.  A revocation ends a grant and keeps it (the grants are
a history).
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, text, update

from juzhang.charts import CHART_KEYS, DEFAULT_CHART, load_chart
from juzhang.core.duty import PERMISSIONS, Action, Role, check_grant
from juzhang.core.period import format_period
from juzhang.core.text import entity_code_problem, text_problem
from juzhang.errors import ConflictError, NotFoundError, ValidationError
from juzhang.storage.access import (
    AGENCY,
    OPERATOR,
    audit,
    command,
    get_entity,
    get_user_id,
    now,
    roles_ever,
    roles_of,
)
from juzhang.storage.engine import is_sqlite, lock_entity
from juzhang.storage.identity import acting, check_db_login
from juzhang.storage.schema import Account, Entity, RoleGrant, User


@command
def add_entity(
    session: Connection,
    code: str,
    name: str,
    *,
    chart: str = DEFAULT_CHART,
    start_period: int,
    actor: str = OPERATOR,
) -> int:
    """Create a community with the accounts of its chart template; return its id.

    Raises:
        ConflictError: the code is taken.
        NotFoundError: unknown chart.
        ValidationError: empty code or name, a code outside
            :data:`~juzhang.core.text.ENTITY_CODE_PATTERN`, a bad name.
    """
    if not code.strip() or not name.strip():
        raise ValidationError("社区 entity", "代码和名称不能为空 / code and name are required")
    bad = entity_code_problem(code)
    if bad is not None:
        raise ValidationError("社区代码 entity code", bad)
    bad = text_problem(name, "entity_name")
    if bad is not None:
        raise ValidationError("社区名称 entity name", bad)
    if chart not in CHART_KEYS:
        raise NotFoundError("科目表 chart", chart)
    template = load_chart(chart)
    lock_entity(session, AGENCY)
    if session.execute(select(Entity.id).where(Entity.code == code)).first():
        raise ConflictError("社区 entity", code)
    entity_id = session.execute(
        insert(Entity)
        .values(
            code=code,
            name=name,
            chart=chart,
            start_period=start_period,
            voucher_word="记",
            link_window_days=10,
            created_at=now(),
        )
        .returning(Entity.id)
    ).scalar_one()
    top = template.top_level_length
    session.execute(
        insert(Account),
        [
            {
                "entity_id": entity_id,
                "code": a.code,
                "name": a.name,
                "parent_code": a.parent,
                "level": 1 + (len(a.code) - top) // 2,
                "category": a.category,
                "side": a.side,
                "custody": a.custody,
                "active": True,
            }
            for a in template.default_accounts()
        ],
    )
    audit(
        session,
        entity_id,
        actor,
        "entity.add",
        code,
        {"name": name, "chart": chart, "start": format_period(start_period)},
    )
    return entity_id


@command
def add_optional_account(
    session: Connection, entity: str, code: str, *, actor: str = OPERATOR
) -> None:
    """Add a first-level account the chart lets a community add (可增设科目).

    The 2004 rural chart's 附注 allows 161 无形资产, 171 拨付所属单位资金 and
    241 专项应付款; the account takes the chart's name, category and side, and
    the forms show it on its line.

    Raises:
        NotFoundError: unknown entity, or the chart has no such account.
        ValidationError: the chart's account is not optional (a new entity has it).
        ConflictError: the entity has the account already.
    """
    ent = get_entity(session, entity, lock=True)
    template = load_chart(ent.chart)
    account = template.account(code)
    if not account.optional:
        raise ValidationError(
            f"科目 account {code}",
            f"{ent.chart} 的 {code} {account.name} 不是可增设科目 / not an optional account",
        )
    if session.execute(
        select(Account.code).where(Account.entity_id == ent.id, Account.code == code)
    ).first():
        raise ConflictError("科目 account", f"{entity} {code}")
    session.execute(
        insert(Account).values(
            entity_id=ent.id,
            code=account.code,
            name=account.name,
            parent_code=None,
            level=1,
            category=account.category,
            side=account.side,
            custody=account.custody,
            active=True,
        )
    )
    audit(session, ent.id, actor, "account.add", code, {"name": account.name, "optional": True})


@command
def add_user(session: Connection, login: str, name: str, *, actor: str = OPERATOR) -> int:
    """Create an agency-wide user; return the id.

    Raises:
        ConflictError: the login is taken.
        ValidationError: empty login or name.
    """
    if not login.strip() or not name.strip():
        raise ValidationError("用户 user", "登录名和姓名不能为空 / login and name are required")
    for value, field, label in ((login, "login", "登录名 login"), (name, "user_name", "姓名 name")):
        bad = text_problem(value, field)
        if bad is not None:
            raise ValidationError(label, bad)
    lock_entity(session, AGENCY)
    if session.execute(select(User.id).where(User.login == login)).first():
        raise ConflictError("用户 user", login)
    uid = session.execute(
        insert(User).values(login=login, name=name, created_at=now()).returning(User.id)
    ).scalar_one()
    audit(session, AGENCY, actor, "user.add", login, {"name": name})
    return uid


@command
def grant(
    session: Connection, login: str, role: Role | str, entity: str, *, actor: str = OPERATOR
) -> None:
    """Grant ``role`` for ``entity`` to a user (idempotent).

    Raises:
        SegregationOfDutiesError: the grant would put money and books in one hand.
        NotFoundError: unknown user, entity or role.
    """
    r = _role(role)
    ent = get_entity(session, entity, lock=True)
    uid = get_user_id(session, login)
    if r in roles_of(session, ent.id, uid):
        return
    # 钱账分离 over the whole history: a former cashier never keeps the books
    check_grant(f"{login} ({ent.code})", r, roles_ever(session, ent.id, uid))
    session.execute(
        insert(RoleGrant).values(entity_id=ent.id, user_id=uid, role=r.value, granted_at=now())
    )
    audit(session, ent.id, actor, "role.grant", login, {"role": r.value})


@command
def revoke(
    session: Connection, login: str, role: Role | str, entity: str, *, actor: str = OPERATOR
) -> None:
    """Take a role away: the open grant is ended (``revoked_at``), never deleted.

    The grants stay a history: who held which role when, and 钱账分离 holds
    over all of it (a former cashier of the entity is never given a
    books-side role for it, nor the other way round).

    Raises:
        NotFoundError: unknown user, entity or role, or the role was not held.
    """
    r = _role(role)
    actor = acting(session, actor)
    ent = get_entity(session, entity, lock=True)
    uid = get_user_id(session, login)
    result = session.execute(
        update(RoleGrant)
        .where(
            RoleGrant.entity_id == ent.id,
            RoleGrant.user_id == uid,
            RoleGrant.role == r.value,
            RoleGrant.revoked_at.is_(None),
        )
        .values(revoked_at=now(), revoked_by=actor)
    )
    if result.rowcount == 0:
        raise NotFoundError("角色 role", f"{login} {r.value} {entity}")
    audit(session, ent.id, actor, "role.revoke", login, {"role": r.value})


SYSTEM_USER = ("system", "系统")
"""The month-end machine's user (``juzhang.books.SYSTEM_LOGIN``), made with the first login."""


@command
def add_db_login(
    session: Connection, login: str, *, operator: bool = False, actor: str = OPERATOR
) -> str:
    """Give an existing user their own PostgreSQL login role; return the role's name.

    The role is ``<namespace>.<login>`` (``jz_create_login``, migration 0018):
    a LOGIN role without a password (authentication is PostgreSQL's:
    ``pg_hba.conf``, SCRAM, certificates), a member of the store's
    ``person`` role, of each duty role the user's open grants give (kept in
    step by every later grant and revocation), and given to the store's
    ``service`` role so that a pooled service login may ``SET ROLE`` to it.
    ``operator=True`` makes the person an operator (set-up commands).  The
    month-end machine's ``system`` user is added first if missing, so that a
    reviewer closing a month never needs to add a user.

    Raises:
        ValidationError: SQLite (one file, one operator: no database logins),
            or a login PostgreSQL cannot take as a role name.
        NotFoundError: no such user.
        ConflictError: the user has a database login already.
        AccessDeniedError: the person connected is not an operator.
    """
    if is_sqlite(session):
        raise ValidationError(
            f"数据库登录 database login {login}",
            "SQLite 是单人账套，能写文件的人就是操作人；多人代理中心请用 PostgreSQL"
            " / SQLite is a single-operator store (whoever can write the file is the"
            " operator); an agency of several people uses PostgreSQL logins",
        )
    check_db_login(login)
    held = session.execute(select(User.db_role).where(User.login == login)).first()
    if held is None:
        raise NotFoundError("用户 user", login)
    if held[0] is not None:
        raise ConflictError("数据库登录 database login", held[0])
    if session.execute(select(User.id).where(User.login == SYSTEM_USER[0])).first() is None:
        add_user(session, *SYSTEM_USER, actor=actor)
    role = session.execute(
        text("SELECT jz_create_login(:login, :operator)"), {"login": login, "operator": operator}
    ).scalar_one()
    audit(session, AGENCY, actor, "user.db_login", login, {"role": role, "operator": operator})
    return str(role)


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise NotFoundError("角色 role", f"{role} (有效 valid: {', '.join(Role)})") from None


def list_entities(session: Connection) -> list[tuple[str, str, str]]:
    """Return ``(code, name, chart)`` of every entity, by code."""
    rows = session.execute(select(Entity.code, Entity.name, Entity.chart).order_by(Entity.code))
    return [(c, n, ch) for c, n, ch in rows]


def list_users(session: Connection) -> list[tuple[str, str]]:
    """Return ``(login, name)`` of every user, by login."""
    rows = session.execute(select(User.login, User.name).order_by(User.login))
    return [(login, name) for login, name in rows]


def list_grants(session: Connection, *, login: str | None = None) -> list[tuple[str, str, str]]:
    """Return ``(login, role, entity code)`` of every role grant in force (of one user), sorted.

    Revoked grants stay in the table as history (migration 0012) and are not listed.
    """
    query = (
        select(User.login, RoleGrant.role, Entity.code)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .join(Entity, Entity.id == RoleGrant.entity_id)
        .where(RoleGrant.revoked_at.is_(None))
        .order_by(User.login, Entity.code, RoleGrant.role)
    )
    if login is not None:
        query = query.where(User.login == login)
    return [(u, r, c) for u, r, c in session.execute(query)]


def entities_for(session: Connection, login: str, action: Action) -> list[str]:
    """Return the codes of the entities where ``login`` holds a role that may do ``action``."""
    allowed = {r.value for r in PERMISSIONS[action]}
    return sorted({code for _u, role, code in list_grants(session, login=login) if role in allowed})
