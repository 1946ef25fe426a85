"""Shared plumbing of the services: look-ups, the role check, ids, audit, errors.

Every service function that changes something follows the same steps, all
here: find the entity, take its write lock, find the acting person and
re-check their roles *now* (:func:`require`), allocate ids under the lock,
write an audit record, and turn a refusal by the database backstop into a
:class:`juzhang.errors.IntegrityError`.  :func:`command` wraps each such
function in a savepoint, so a refused command leaves nothing behind even when
the caller goes on using the same transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from json.encoder import encode_basestring as _encode_text
from typing import Any, Concatenate, ParamSpec, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, RootTransaction, Row, Table, event, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.sql.elements import ClauseElement, TextClause
from sqlalchemy.sql.selectable import Select

from juzhang.core.audit import GENESIS_HASH as GENESIS_AUDIT_HASH
from juzhang.core.audit import audit_hashes
from juzhang.core.duty import Action, Role, check_action
from juzhang.errors import AccessDeniedError, IntegrityError, NotFoundError
from juzhang.storage.engine import lock_entity
from juzhang.storage.identity import acting, row_security
from juzhang.storage.schema import Account, AuditLog, Base, Entity, Period, RoleGrant, User

P = ParamSpec("P")
R = TypeVar("R")

AGENCY = 0  # audit_log.entity_id of agency-wide actions
OPERATOR = "operator"  # audit actor of set-up commands run by whoever holds the database


@dataclass(frozen=True, slots=True)
class EntityInfo:
    """An entity as the services need it."""

    id: int
    code: str
    name: str
    chart: str
    start_period: int
    voucher_word: str
    link_window_days: int


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """An account of an entity, with whether it is a leaf (末级科目)."""

    code: str
    name: str
    parent: str | None
    level: int
    category: str
    side: str
    custody: str | None
    active: bool
    leaf: bool


def table(model: type[Base]) -> Table:
    """Return the Core table of a model (``model.__table__``)."""
    return model.__table__


def _processed(rows: Iterable[Sequence[Any]], processors: list[Any]) -> list[tuple[Any, ...]]:
    """Apply the bind processors; each distinct value is processed once (dates repeat)."""
    active: list[tuple[int, Any, dict[Any, Any]]] = [
        (n, f, {}) for n, f in enumerate(processors) if f is not None
    ]
    if not active:
        return [tuple(r) for r in rows]
    out = []
    for r in rows:
        row = list(r)
        for n, f, cache in active:  # only the columns that have a processor
            v = row[n]
            if v is not None:
                done = cache.get(v, _MISSING)
                if done is _MISSING:
                    done = cache[v] = f(v)
                row[n] = done
        out.append(tuple(row))
    return out


_MISSING = object()


def _bound(
    session: Connection, model: type[Base], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> tuple[str, list[str], str, list[tuple[Any, ...]]]:
    """Return the quoted table and columns, the placeholder and the processed rows.

    Values go through each column type's own bind processor, as with Core,
    without building a parameter dict per row.
    """
    t = table(model)
    dialect = session.dialect
    processors = [t.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    values = _processed(rows, processors)
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    return quote(t.name), [quote(c) for c in columns], mark, values


# Host parameters per statement: the lowest limit SQLite has had by default (999
# before 3.32), so a multi-row INSERT never meets the limit of the linked library.
_SQLITE_PARAMETERS = 999


def insert_many(
    session: Connection, model: type[Base], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert rows (tuples in the order of ``columns``) in a few driver calls.

    For the bulk paths (posting a year, importing a statement): the rows Core's
    ``insert()`` would write, a good deal faster.  Every trigger, constraint
    and key of the table applies as usual (SQLite's row triggers row by row
    in the given order).

    On PostgreSQL one ``COPY``: its backstops check a whole statement at once
    (migration 0007), and ``COPY`` is one statement for all the rows.  Where
    row-level security applies (a person's own login, migration 0018), which
    ``COPY`` refuses, one ``INSERT … SELECT FROM unnest(…)`` instead.  On
    SQLite multi-row ``INSERT …
    VALUES (…), (…)`` statements of up to 999 parameters: SQLite takes a
    statement journal for each statement on a table with triggers and copies
    into it every page the statement changes, and one statement per row paid
    that for every row (about 10 µs each for a voucher, a line or a custody
    entry); one statement for a hundred rows pays it once for the pages they
    share.  A refused row refuses its whole statement (the caller's
    transaction or savepoint is rolled back either way).
    """
    name, cols, mark, values = _bound(session, model, columns, rows)
    if not values:
        return
    if session.dialect.name != "sqlite":
        t = table(model)
        if row_security(session):
            # a person's own connection (migration 0018): COPY refuses row-level
            # security, so one INSERT … SELECT FROM unnest(…), still one statement;
            # binary arrays as in update_many
            arrays = ", ".join(f"%b::{t.c[c].type.compile(session.dialect)}[]" for c in columns)
            session.exec_driver_sql(
                f"INSERT INTO {name} ({', '.join(cols)}) SELECT * FROM unnest({arrays})",
                tuple(list(c) for c in zip(*values, strict=True)),
            )
            return
        _copy(session, f"COPY {name} ({', '.join(cols)}) FROM STDIN", values)
        return
    head = f"INSERT INTO {name} ({', '.join(cols)}) VALUES "
    row = f"({', '.join(mark for _ in cols)})"
    per = max(1, _SQLITE_PARAMETERS // len(cols))
    for start in range(0, len(values), per):
        chunk = values[start : start + per]
        session.exec_driver_sql(head + ", ".join([row] * len(chunk)), tuple(chain(*chunk)))


def _copy(conn: Connection, sql: str, values: list[tuple[Any, ...]]) -> None:
    """Run ``COPY … FROM STDIN`` with these rows on the connection's psycopg driver.

    A refusal (a key, a CHECK, a trigger) comes back as SQLAlchemy's own
    exception for the driver's error, as an ``execute`` would raise it.
    """
    dbapi = conn.dialect.loaded_dbapi
    try:
        driver = conn.connection.driver_connection
        with driver.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[union-attr]
            for value in values:
                copy.write_row(value)
    except dbapi.Error as exc:
        raise sa_exc.DBAPIError.instance(sql, None, exc, dbapi.Error) from exc


def update_many(session: Connection, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Update rows by ``(entity_id, id)``.

    Each dict holds ``entity_id``, ``id`` and the columns to set (the same
    columns in every dict).  On SQLite the rows are updated one by one in the
    given order (posting relies on it: SQLite's row trigger refuses number
    ``n`` before ``n - 1`` is posted), by :func:`_sqlite_update_many`.  On
    PostgreSQL one ``UPDATE … FROM unnest(…)``: its backstops check the
    statement's rows together, whatever their order.
    """
    if not rows:
        return
    columns = [k for k in rows[0] if k not in ("entity_id", "id")]
    names = [*columns, "entity_id", "id"]
    name, cols, _mark, values = _bound(session, model, names, ([r[c] for c in names] for r in rows))
    if session.dialect.name == "sqlite":
        _sqlite_update_many(session, name, cols, values)
        return
    t = table(model)
    arrays = ", ".join(f"%b::{t.c[c].type.compile(session.dialect)}[]" for c in names)
    sets = ", ".join(f"{c} = v.{c}" for c in cols[:-2])
    entity, key = cols[-2], cols[-1]
    # One statement whatever the number of rows, each column one array: a
    # VALUES list of a parameter per cell cost more to parse than to run.
    # The arrays go in binary (%b): psycopg's text form quotes every element
    # through a regular expression, 1.3 million searches (about 1 s of the
    # client) when posting 100,000 vouchers; binary has nothing to quote.
    # The ANY conditions let the primary key find the rows: on tables without
    # statistics the planner joined the rows to a scan of the whole table.
    columns_of = [list(c) for c in zip(*values, strict=True)]
    session.exec_driver_sql(
        f"UPDATE {name} AS t SET {sets} FROM unnest({arrays}) AS v ({', '.join(cols)})"
        f" WHERE t.{entity} = v.{entity} AND t.{key} = v.{key}"
        f" AND t.{entity} = ANY(%b) AND t.{key} = ANY(%b)",
        (*columns_of, sorted(set(columns_of[-2])), columns_of[-1]),
    )


# UPDATE … FROM arrived in SQLite 3.33.0 (2020-08); older libraries update row by row.
_SQLITE_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33, 0)


def _sqlite_update_many(
    conn: Connection, name: str, cols: list[str], values: list[tuple[Any, ...]]
) -> None:
    """Update ``values`` (the set columns, then entity and id) in the given order on SQLite.

    One ``UPDATE`` per row (``executemany``) pays SQLite's statement journal
    and statement set-up for every row: at 20,000 vouchers posted that was
    half of the statement's time with every trigger on.  Instead, up to 999
    parameters of rows go into one ``WITH v AS (VALUES …) UPDATE … FROM v``.
    SQLite's UPDATE collects the rows it will change and changes them in
    rowid order, whatever the order of the ``VALUES``; so the rowids are read
    first and a statement holds only a run of rows, in the given order, of
    one entity whose rowids ascend.  Rows given in insertion order (as
    posting gives vouchers drafted in date order) take one statement per
    chunk; rows in any other order still update in that order, in more
    statements.  A refused row refuses its whole statement, as before.
    """
    sets = ", ".join(f"{c} = v.{c}" for c in cols[:-2])
    entity, key = cols[-2], cols[-1]
    if not _SQLITE_UPDATE_FROM or len(values) == 1:
        where = f"{entity} = ? AND {key} = ?"
        sets = ", ".join(f"{c} = ?" for c in cols[:-2])
        conn.exec_driver_sql(f"UPDATE {name} SET {sets} WHERE {where}", values)
        return
    rowid: dict[tuple[Any, Any], int] = {}
    by_entity: dict[Any, list[Any]] = {}
    for v in values:
        by_entity.setdefault(v[-2], []).append(v[-1])
    for ent, keys in by_entity.items():
        for start in range(0, len(keys), _SQLITE_PARAMETERS - 1):
            part = keys[start : start + _SQLITE_PARAMETERS - 1]
            found = conn.exec_driver_sql(
                f"SELECT {key}, rowid FROM {name} WHERE {entity} = ?"
                f" AND {key} IN ({', '.join('?' for _ in part)})",
                (ent, *part),
            )
            rowid.update(((ent, k), r) for k, r in found)
    per = max(1, _SQLITE_PARAMETERS // len(cols))
    run: list[tuple[Any, ...]] = []
    last: tuple[Any, int] | None = None
    for v in values:
        here = rowid.get((v[-2], v[-1]), -1)  # a row not found updates nothing either way
        if run and (last is None or last[0] != v[-2] or here <= last[1] or len(run) == per):
            _sqlite_update_run(conn, name, cols, sets, run)
            run = []
        run.append(v)
        last = (v[-2], here)
    if run:
        _sqlite_update_run(conn, name, cols, sets, run)


def _sqlite_update_run(
    conn: Connection, name: str, cols: list[str], sets: str, run: list[tuple[Any, ...]]
) -> None:
    row = f"({', '.join('?' for _ in cols)})"
    entity, key = cols[-2], cols[-1]
    conn.exec_driver_sql(
        f"WITH v ({', '.join(cols)}) AS (VALUES {', '.join([row] * len(run))})"
        f" UPDATE {name} SET {sets} FROM v"
        f" WHERE {name}.{entity} = v.{entity} AND {name}.{key} = v.{key}",
        tuple(chain(*run)),
    )


def update_range(
    session: Connection, model: type[Base], entity_id: int, ids: range, values: dict[str, Any]
) -> None:
    """Set the same ``values`` on an entity's rows with ids in ``ids``, in one statement.

    For posting a bulk batch (see ``books.post_bulk``).  SQLite updates the
    rows in the order they were inserted (rowid order: it collects the rowids
    first, then updates them in ascending order) and fires the row triggers
    row by row in that order; PostgreSQL checks them together.  One
    statement instead of one per row saves SQLite its statement journal per
    row (see :func:`insert_many`).
    """
    names = [*values, "entity_id", "id", "id"]
    name, cols, mark, bound = _bound(
        session, model, names, [[*values.values(), entity_id, ids.start, ids.stop - 1]]
    )
    sets = ", ".join(f"{c} = {mark}" for c in cols[:-3])
    session.exec_driver_sql(
        f"UPDATE {name} SET {sets}"
        f" WHERE {cols[-3]} = {mark} AND {cols[-2]} BETWEEN {mark} AND {mark}",
        bound[0],
    )


def now() -> dt.datetime:
    """Return the current time in UTC (what the audit log and timestamps store)."""
    return dt.datetime.now(dt.UTC)


def command(
    fn: Callable[Concatenate[Connection, P], R],
) -> Callable[Concatenate[Connection, P], R]:
    """Run a service function in a savepoint; map backstop refusals to IntegrityError."""

    @functools.wraps(fn)
    def wrapper(session: Connection, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with session.begin_nested(), _fewer_collections():
                return fn(session, *args, **kwargs)
        except sa_exc.IntegrityError as exc:
            raise IntegrityError(_db_message(exc)) from exc
        except sa_exc.DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == _INSUFFICIENT_PRIVILEGE:
                raise AccessDeniedError(_db_message(exc)) from exc
            raise

    return wrapper


# The cyclic garbage collector's first threshold while a service runs (Python's
# default is 700 allocations).  The bulk paths allocate a few tuples and dicts per
# row that live until the chunk is written; with the default, every 700 of them
# started a collection, and every hundredth of those a full one over everything
# alive (SQLAlchemy's and juzhang's own objects included): 10-13 % of the CPU of
# accepting, drafting and posting 20,000 lines (gc.callbacks timed).  Memory is
# still reclaimed by reference counting; cycles wait a little longer.
GC_FIRST_THRESHOLD = 10_000
_gc_lock = threading.Lock()
_gc_depth = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold while the outermost service runs; restore it."""
    global _gc_depth, _gc_saved
    with _gc_lock:
        _gc_depth += 1
        if _gc_depth == 1:
            _gc_saved = gc.get_threshold()
            first, *rest = _gc_saved
            if first:  # 0: collection is off; leave it so
                gc.set_threshold(max(first, GC_FIRST_THRESHOLD), *rest)
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_saved is not None:
                if gc.get_threshold()[0] == max(_gc_saved[0], GC_FIRST_THRESHOLD):
                    gc.set_threshold(*_gc_saved)  # unless someone has changed it since
                _gc_saved = None


_INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL: a privilege or row-level security said no


def _db_message(exc: sa_exc.DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0]


# What a transaction has read and may read again without asking: the entities
# by code ("entities") and the charts by entity id ("charts").  Entities are
# only ever added (``agency.add_entity``), never changed or removed: the close
# asked 22 times per community for one, and read its chart nine times, each a
# round trip on PostgreSQL.  A chart is kept only across reads (any statement
# that is not a SELECT forgets the charts, see ``_on_execute``; the bulk
# writers' driver-level SQL never writes an account); a rollback (a refused
# command's savepoint, which may have added the entity) forgets everything.
_MEMOS: WeakKeyDictionary[RootTransaction, dict[str, dict[Any, Any]]] = WeakKeyDictionary()


def _memo(session: Connection, kind: str) -> dict[Any, Any] | None:
    """The transaction's memo of ``kind`` (created on first use); ``None`` outside one."""
    tx = session.get_transaction()
    return None if tx is None else _MEMOS.setdefault(tx, {}).setdefault(kind, {})


def _forget(session: Connection, kind: str | None = None) -> None:
    """Forget the transaction's memo of ``kind`` (every memo when ``None``)."""
    tx = session.get_transaction()
    memos = _MEMOS.get(tx) if tx is not None else None
    if memos is not None:
        if kind is None:
            memos.clear()
        else:
            memos.pop(kind, None)


@event.listens_for(Engine, "rollback_savepoint")
def _on_rollback(conn: Connection, _name: Any, _context: Any) -> None:
    _forget(conn)


@event.listens_for(Engine, "before_execute")
def _on_execute(conn: Connection, statement: Any, _multi: Any, _params: Any, _options: Any) -> None:
    if isinstance(statement, ClauseElement) and not _reads(statement):
        _forget(conn, "charts")


def _reads(statement: ClauseElement) -> bool:
    """Whether a statement only reads: a SELECT, or a text that is a plain SELECT."""
    if isinstance(statement, TextClause):
        return statement.text.lstrip()[:6].upper() == "SELECT"
    return isinstance(statement, Select)


def get_row(session: Connection, model: type[Base], *key: Any) -> Row[Any] | None:
    """Return the row of ``model`` with this primary key (in its columns' order), else ``None``."""
    t = model.__table__
    where = [c == v for c, v in zip(t.primary_key.columns, key, strict=True)]
    return session.execute(select(t).where(*where)).one_or_none()


def get_entity(session: Connection, code: str, *, lock: bool = False) -> EntityInfo:
    """Return the entity with this code; with ``lock`` take its write lock first.

    Asked once per transaction for each code (see ``_MEMOS``); the lock
    is taken every time it is asked for.

    Raises:
        NotFoundError: no such entity.
    """
    memo = _memo(session, "entities")
    info = memo.get(code) if memo is not None else None
    if info is None:
        row = session.execute(select(Entity).where(Entity.code == code)).one_or_none()
        if row is None:
            raise NotFoundError("社区 entity", code)
        info = EntityInfo(
            row.id,
            row.code,
            row.name,
            row.chart,
            row.start_period,
            row.voucher_word,
            row.link_window_days,
        )
        if memo is not None:
            memo[code] = info
    if lock:
        lock_entity(session, info.id)
    return info


def get_user_id(session: Connection, login: str) -> int:
    """Return the id of the user with this login.

    Raises:
        NotFoundError: no such user.
    """
    uid = session.execute(select(User.id).where(User.login == login)).scalar_one_or_none()
    if uid is None:
        raise NotFoundError("用户 user", login)
    return uid


def user_logins(session: Connection, ids: set[int]) -> dict[int, str]:
    """Return ``{user id: login}`` for the given ids."""
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.login).where(User.id.in_(ids)))
    return {uid: login for uid, login in rows}


def roles_of(session: Connection, entity_id: int, user_id: int) -> set[Role]:
    """Return the roles a user holds for an entity, read from the database now."""
    rows = session.execute(
        select(RoleGrant.role).where(
            RoleGrant.entity_id == entity_id,
            RoleGrant.user_id == user_id,
            RoleGrant.revoked_at.is_(None),
        )
    )
    return {Role(r) for (r,) in rows}


def roles_ever(session: Connection, entity_id: int, user_id: int) -> set[Role]:
    """Return every role a user has held for an entity, revoked or not (the grants' history)."""
    rows = session.execute(
        select(RoleGrant.role).where(RoleGrant.entity_id == entity_id, RoleGrant.user_id == user_id)
    )
    return {Role(r) for (r,) in rows}


def require(session: Connection, entity: EntityInfo, login: str, action: Action) -> int:
    """Check that ``login`` may perform ``action`` on ``entity``; return the user's id.

    On PostgreSQL, when a person is connected with their own login,
    ``login`` must be that person (:func:`juzhang.storage.identity.acting`).

    Raises:
        NotFoundError: unknown user.
        IdentityError: a person is connected and ``login`` names someone else.
        SegregationOfDutiesError: conflicting grants or no role that allows it.
    """
    login = acting(session, login)
    uid = get_user_id(session, login)
    check_action(f"{login} ({entity.code})", action, roles_of(session, entity.id, uid))
    return uid


def accounts_of(session: Connection, entity_id: int) -> dict[str, AccountInfo]:
    """Return every account of an entity by code, with leaf flags (a new dict each call).

    Read once per transaction until it writes (see ``_MEMOS``).
    """
    memo = _memo(session, "charts")
    if memo is not None and entity_id in memo:
        return dict(memo[entity_id])
    # Columns, not ORM objects: every report and posting call reads the whole
    # chart, and building 56 Account objects was most of a trial balance's CPU.
    rows = session.execute(
        select(
            Account.code,
            Account.name,
            Account.parent_code,
            Account.level,
            Account.category,
            Account.side,
            Account.custody,
            Account.active,
        ).where(Account.entity_id == entity_id)
    ).all()
    parents = {r.parent_code for r in rows if r.parent_code is not None}
    chart = {r.code: AccountInfo(*r, r.code not in parents) for r in rows}
    if memo is not None:
        memo[entity_id] = chart
    return dict(chart)


def next_id(session: Connection, table: Table, entity_id: int, column: str = "id") -> int:
    """Return the next free per-entity id (call under the entity's write lock)."""
    col = table.c[column]
    # ORDER BY … LIMIT 1 rather than max(): PostgreSQL, without statistics,
    # aggregated every row of the entity instead of reading the last key.
    current = session.execute(
        select(col).where(table.c.entity_id == entity_id).order_by(col.desc()).limit(1)
    ).scalar_one_or_none()
    return int(current or 0) + 1


def audit(
    session: Connection,
    entity_id: int,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one record to the audit log (who, what, when)."""
    audit_many(session, entity_id, actor, action, [(subject, detail)])


def audit_many(
    session: Connection,
    entity_id: int,
    actor: str,
    action: str,
    items: list[tuple[str, dict[str, Any] | None]],
) -> None:
    """Append several audit records of one action in one statement.

    The actor recorded is the person connected when there is one
    (:func:`juzhang.storage.identity.acting`; the database refuses any other).
    """
    if not items:
        return
    if entity_id == AGENCY:
        lock_entity(session, AGENCY)
    AuditChain(session, entity_id, actor).append(session, action, items)


_AUDIT_COLUMNS = ("entity_id", "seq", "at", "actor", "action", "subject", "detail", "hash")


class AuditChain:
    """An entity's audit chain as a step that holds the entity's lock writes to it.

    The chain's head (the last ``seq`` and hash) is read once; :meth:`rows`
    numbers and hashes the records of one action from it and moves it on,
    without the database, so that a step can make a chunk's records while
    the previous chunk's are still being written (:class:`WriteBehind`).
    Nothing else may write the entity's audit log meanwhile: the caller
    holds the entity's lock (the agency's, ``AGENCY``, for agency-wide
    actions).
    """

    def __init__(self, session: Connection, entity_id: int, actor: str) -> None:
        self.entity_id = entity_id
        self.actor = acting(session, actor)
        last = session.execute(
            select(AuditLog.seq, AuditLog.hash)
            .where(AuditLog.entity_id == entity_id)
            .order_by(AuditLog.seq.desc())
            .limit(1)
        ).first()
        self.seq, self.prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS_AUDIT_HASH)

    def rows(
        self, action: str, items: list[tuple[str, dict[str, Any] | None]]
    ) -> list[tuple[Any, ...]]:
        """Return the rows of ``items`` (subject, detail) as the chain's next records."""
        at = now()
        texts: dict[int, str] = {}  # one text per detail object: bulk calls share one
        shown = [(subject, _detail_json(detail, texts)) for subject, detail in items]
        hashes = list(
            audit_hashes(
                self.prev,
                entity_id=self.entity_id,
                first_seq=self.seq,
                at=at,
                actor=self.actor,
                action=action,
                items=shown,
            )
        )
        rows = [
            (self.entity_id, self.seq + i, at, self.actor, action, subject, text, digest)
            for i, ((subject, text), digest) in enumerate(zip(shown, hashes, strict=True))
        ]
        if rows:
            self.seq += len(rows)
            self.prev = hashes[-1]
        return rows

    @staticmethod
    def write(session: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Insert rows made by :meth:`rows`, in one statement."""
        insert_many(session, AuditLog, _AUDIT_COLUMNS, rows)

    def append(
        self, session: Connection, action: str, items: list[tuple[str, dict[str, Any] | None]]
    ) -> None:
        """Make and insert the records of ``items``."""
        self.write(session, self.rows(action, items))


# json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) with one
# encoder: json.dumps builds a new encoder on every call with options.
_DETAIL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)


def _detail_json(detail: dict[str, Any] | None, texts: dict[int, str]) -> str:
    text = texts.get(id(detail))
    if text is None:
        text = detail_text(detail)
        texts[id(detail)] = text
    return text


def detail_text(detail: dict[str, Any] | None) -> str:
    """Return an audit detail's text: ``json.dumps(detail, ensure_ascii=False, sort_keys=True,
    default=str)`` (``"{}"`` for none).

    The bulk paths write a small flat detail per row (``{"entry": 7,
    "recorded": true}``); such a dict — text keys, values exactly ``int``,
    ``bool``, ``str`` or ``None`` — is written here directly, in the
    encoder's own text (its separators, its string escape), at less than
    half the encoder's cost.  Anything else goes through the encoder.
    """
    if not detail:
        return "{}"
    parts = []
    for key in sorted(detail):
        value = detail[key]
        kind = type(value)
        if type(key) is not str:
            return _DETAIL.encode(detail)
        if kind is int:
            shown = int.__repr__(value)
        elif kind is str:
            shown = _encode_text(value)
        elif kind is bool:
            shown = "true" if value else "false"
        elif value is None:
            shown = "null"
        else:
            return _DETAIL.encode(detail)
        parts.append(f"{_encode_text(key)}: {shown}")
    return "{" + ", ".join(parts) + "}"


def closed_periods(session: Connection, entity_id: int) -> set[int]:
    """Return the entity's closed periods."""
    rows = session.execute(
        select(Period.period).where(Period.entity_id == entity_id, Period.status == "closed")
    )
    return {p for (p,) in rows}
