"""Beancount files into an entity's books (beancount 导入): history as drafts, or opening balances.

:mod:`juzhang.importers.beancount_file` reads and checks the file (the only
module that imports beancount; its docstring says what is refused); this
service writes: one voucher draft per transaction through
:func:`juzhang.claims.draft_located` (the default), or the opening balances
(``opening=True``, 期初余额) through :func:`juzhang.books.set_opening`.

Re-importing the same file (same SHA-256) in the same mode adds nothing: the
result says which batch it was (``already_imported``).  Every import records
an ``import_batch`` (kind ``beancount``, profile ``vouchers`` or ``opening``;
:mod:`juzhang.import_batch`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection

from juzhang import books
from juzhang.claims import draft_located
from juzhang.core.duty import Action
from juzhang.import_batch import earlier_batch, record_batch
from juzhang.importers.beancount_file import (
    AccountMapping,
    ignored_directives,
    load_ledger,
    mapping_for,
    opening_balances,
    read_ledger_file,
    voucher_drafts,
)
from juzhang.storage.access import accounts_of, audit, command, get_entity, require

__all__ = ["BeancountResult", "import_beancount"]


@dataclass(frozen=True, slots=True)
class BeancountResult:
    """What :func:`import_beancount` did.

    ``voucher_ids`` are the drafts made (voucher mode); ``balances`` the
    opening balances set, ``(code, amount)`` debit positive (opening mode);
    ``end_date`` the date of the file's last transaction; ``ignored`` counts
    the directives that became neither (``("Open", 12)``, …).
    ``already_imported`` means the same file was imported in the same mode
    before as batch ``batch_id`` and nothing was written.
    """

    batch_id: int
    file_name: str
    sha256: str
    already_imported: bool
    opening: bool
    transactions: int
    voucher_ids: tuple[int, ...]
    balances: tuple[tuple[str, Decimal], ...]
    end_date: dt.date | None
    ignored: tuple[tuple[str, int], ...]


@command
def import_beancount(
    session: Connection,
    entity: str,
    actor: str,
    path: str | Path,
    *,
    mapping: AccountMapping | Mapping[str, str] | str | Path,
    opening: bool = False,
) -> BeancountResult:
    """Import a beancount file into an entity as draft vouchers, or as opening balances.

    ``mapping`` is an :class:`AccountMapping`, a ``{name or pattern: code}``
    dict or the path (``str`` or ``Path``) of a mapping TOML file.  Drafting needs a bookkeeper
    (制单); ``opening=True`` (期初余额) too.  Returns a :class:`BeancountResult`.
    A file imported before in the same mode is skipped (``already_imported``).
    One transaction: all or nothing.

    Raises:
        SegregationOfDutiesError: the actor may not draft vouchers or set opening balances.
        ProblemsError: the file, the mapping or a transaction is refused (every
            problem listed with ``file:line``; nothing written).
        StateError: opening balances after vouchers were posted.
        NotFoundError: unknown entity or user.
    """
    source = Path(path)
    name = source.name
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.SET_OPENING if opening else Action.DRAFT_VOUCHER)
    rules = mapping_for(mapping)
    data, text = read_ledger_file(source, name)
    sha = hashlib.sha256(data).hexdigest()
    profile = "opening" if opening else "vouchers"
    earlier = earlier_batch(session, ent, "beancount", sha, profile)
    if earlier is not None:
        return BeancountResult(
            earlier.id, name, sha, True, opening, earlier.rows_read, (), (), None, ()
        )
    entries = load_ledger(text, name)
    accounts = accounts_of(session, ent.id)
    if opening:
        balances, end, count = opening_balances(entries, name, rules, accounts, ent.start_period)
        books.set_opening(session, ent.code, actor, dict(balances))
        ids: tuple[int, ...] = ()
    else:
        drafts, places, end = voucher_drafts(entries, name, rules, accounts)
        ids = tuple(draft_located(session, ent.code, actor, drafts, places))
        balances, count = (), len(drafts)
    batch_id = record_batch(
        session,
        ent,
        uid,
        kind="beancount",
        file_name=name,
        sha=sha,
        profile=profile,
        rows_read=count,
        rows_new=len(ids or balances),
    )
    audit(
        session,
        ent.id,
        actor,
        "beancount.import",
        f"batch #{batch_id}",
        {"file": name, "sha256": sha, "mode": profile, "mapping": rules.source},
    )
    return BeancountResult(
        batch_id, name, sha, False, opening, count, ids, balances, end, ignored_directives(entries)
    )
