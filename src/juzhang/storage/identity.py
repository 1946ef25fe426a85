"""Who is connected (数据库登录即操作人): the person behind a PostgreSQL connection.

On PostgreSQL each person may have their own login role (migration 0018,
:func:`juzhang.agency.add_db_login`).  The role acting now is the one of
``SET [LOCAL] ROLE`` (a pooled service login acting for a person) or else the
login itself; ``app_user.db_role`` maps it to a juzhang login.  When it maps
to a person, that person is the acting user whatever the caller claims
(:func:`acting`), and the database's privileges and row-level security
decide what the connection may read and write.

A connection as the owner (the role that ran the migrations) or as any role
that is no person's has no identity: the services trust the actor they are
given, as they do on SQLite, where whoever can write the file is the operator.
"""

from __future__ import annotations

import re
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, RootTransaction, text

from juzhang.errors import IdentityError, ValidationError
from juzhang.storage.engine import is_sqlite

#: The duty roles a person's login role joins while they hold the duty somewhere.
DUTY_ROLES = ("cashier", "bookkeeper", "reviewer", "supervisor", "admin")
#: Every NOLOGIN role of a store: the duties, what every person may do, set-up, services.
GROUP_ROLES = ("person", *DUTY_ROLES, "operator", "service")

DB_LOGIN = re.compile(r"[a-z][a-z0-9_]{0,31}")
"""A login that may have a database role: PostgreSQL role names are compared
exactly, so only plain lower-case names are allowed (the database checks too)."""

# Claimed actors that stand for "whoever is connected": set-up commands' default
# and the month-end machine's audit name.
STAND_INS = frozenset({"operator", "system"})


# What the connection is, asked once per transaction (every command asks).
_PER_TRANSACTION: WeakKeyDictionary[RootTransaction, dict[str, Any]] = WeakKeyDictionary()


def _asked(session: Connection, key: str, sql: str) -> Any:
    tx = session.get_transaction()
    memo = _PER_TRANSACTION.setdefault(tx, {}) if tx is not None else {}
    if key not in memo:
        memo[key] = session.execute(text(sql)).scalar_one_or_none()
    return memo[key]


def db_actor(session: Connection) -> str | None:
    """Return the juzhang login of the person connected, or ``None``.

    ``None`` on SQLite, and on PostgreSQL for the owner or a role that is no
    person's (a service login that has not run ``SET ROLE``).  Asked once per
    transaction: a service login runs ``SET LOCAL ROLE`` first thing in the
    transaction (a later change of role is still judged by the database).
    """
    if is_sqlite(session):
        return None
    who = _asked(session, "actor", "SELECT jz_actor()")
    return None if who is None else str(who)


def row_security(session: Connection) -> bool:
    """Return whether row-level security applies to this connection (asked once per transaction).

    True on a person's own login (and on any role but the owner); the bulk
    paths then cannot ``COPY`` (PostgreSQL refuses it under row-level security).
    """
    return bool(_asked(session, "rls", "SELECT row_security_active('voucher')"))


def acting(session: Connection, claimed: str) -> str:
    """Return who acts: the person connected, else ``claimed``.

    A set-up command's ``operator`` and the machine's ``system`` stand for
    the person connected.

    Raises:
        IdentityError: a person is connected and ``claimed`` names someone else.
    """
    me = db_actor(session)
    if me is None or claimed == me:
        return claimed
    if claimed in STAND_INS:
        return me
    raise IdentityError(me, claimed)


def namespace(session: Connection) -> str:
    """Return the namespace of this store's PostgreSQL roles (``<namespace>.cashier``)."""
    return str(session.execute(text("SELECT jz_namespace()")).scalar_one())


def check_db_login(login: str) -> None:
    """Refuse a login that cannot be a database role's name.

    Raises:
        ValidationError: not a lower-case letter followed by up to 31 letters, digits or ``_``.
    """
    if not DB_LOGIN.fullmatch(login):
        raise ValidationError(
            f"数据库登录 database login {login!r}",
            "须为小写字母开头，其后最多 31 个小写字母、数字或 _"
            " / a lower-case letter, then up to 31 lower-case letters, digits or _",
        )
