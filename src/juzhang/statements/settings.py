"""Import settings (导入设置): the rules and layout a community's statements are imported with.

A bookkeeper who imports one community's statements every month gives the
same ``--rules`` and ``--mapping`` (or ``--profile``) each time, and again to
``statement draft``.  :func:`set_import_settings` remembers them, per
community and, where one bank account needs its own, per bank detail
account; :func:`~juzhang.statements.import_statement` and
:func:`~juzhang.statements.draft_pending` use them whenever the caller gives
none.  For one account, the account's own setting wins field by field (its
rules, its layout) over the community's (``account`` ``""``).

What is stored is the **text** of the rules and mapping files, checked as
they would be on import (:func:`~juzhang.importers.rules.parse_rules`,
:func:`~juzhang.importers.profile.parse_profile`) — not their paths: a path
means something else on the next machine, and a file edited later would
change past behaviour unseen.  Storing again replaces the text; each change
is audited with what it set, and the database refuses a row with both a
mapping and a profile (table ``import_setting``).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, delete, insert, select, update

from juzhang.core.duty import Action
from juzhang.errors import ValidationError
from juzhang.importers.bank import BankProfile, get_profile, load_profile, parse_profile
from juzhang.importers.rules import Rules, load_rules, parse_rules
from juzhang.statements.accounts import check_bank_account
from juzhang.storage.access import accounts_of, audit, command, get_entity, get_row, now, require
from juzhang.storage.schema import ImportSetting, User

__all__ = [
    "ImportSettings",
    "Stored",
    "clear_import_settings",
    "import_settings",
    "set_import_settings",
    "stored_for",
    "stored_layouts",
]


@dataclass(frozen=True, slots=True)
class ImportSettings:
    """One stored setting: for ``account`` (``""``: the whole community), who set it, when."""

    entity: str
    account: str
    rules: str | None
    mapping: str | None
    profile: str | None
    set_by: str
    set_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Stored:
    """What an import of one account takes from the settings: rules and layout, parsed."""

    rules: Rules | None = None
    layout: str | BankProfile | None = None
    used: tuple[str, ...] = ()  # "rules", "mapping", "profile" as taken, for a note


def _read(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")


@command
def set_import_settings(
    session: Connection,
    entity: str,
    actor: str,
    *,
    account: str | None = None,
    rules: str | Path | None = None,
    mapping: str | Path | None = None,
    profile: str | None = None,
) -> ImportSettings:
    """Remember the rules file, the mapping file or a profile for ENTITY (and ``account``).

    Each of ``rules``, ``mapping`` (file paths) and ``profile`` (a shipped
    layout's name) that is given replaces the stored one; those not given
    stay.  A mapping replaces a stored profile and a profile a stored
    mapping.  Files are checked first and their text stored.  For the
    bookkeeper (代理会计) of the entity, who imports statements.

    Returns the setting as stored.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        NotFoundError: unknown entity or account.
        ValidationError: not a bank detail account, an unknown profile, both a
            mapping and a profile, or nothing to set.
        ProblemsError: a rules or mapping file that is missing or wrong (every
            problem, with its line).
    """
    if mapping is not None and profile is not None:
        raise ValidationError(
            "导入设置 import settings", "--mapping 与 --profile 只能给一个 / not both"
        )
    if rules is None and mapping is None and profile is None:
        raise ValidationError(
            "导入设置 import settings", "请给出 --rules、--mapping 或 --profile / nothing to set"
        )
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.DRAFT_VOUCHER)
    code = account or ""
    if code:
        check_bank_account(accounts_of(session, ent.id), code, entity)
    values: dict[str, str | None] = {}
    if rules is not None:
        load_rules(rules)
        values["rules"] = _read(rules)
    if mapping is not None:
        load_profile(mapping)
        values["mapping"], values["profile"] = _read(mapping), None
    if profile is not None:
        get_profile(profile)
        values["profile"], values["mapping"] = profile, None
    row = get_row(session, ImportSetting, ent.id, code)
    stamp = {"set_by": uid, "set_at": now()}
    if row is None:
        session.execute(
            insert(ImportSetting).values(entity_id=ent.id, account_code=code, **values, **stamp)
        )
    else:
        session.execute(
            update(ImportSetting)
            .where(ImportSetting.entity_id == ent.id, ImportSetting.account_code == code)
            .values(**values, **stamp)
        )
    audit(session, ent.id, actor, "import.settings", code or ent.code, dict(values))
    (found,) = [s for s in import_settings(session, entity) if s.account == code]
    return found


@command
def clear_import_settings(
    session: Connection, entity: str, actor: str, *, account: str | None = None
) -> bool:
    """Forget the stored setting of ENTITY (and ``account``); return whether there was one.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.DRAFT_VOUCHER)
    code = account or ""
    if get_row(session, ImportSetting, ent.id, code) is None:
        return False
    session.execute(
        delete(ImportSetting).where(
            ImportSetting.entity_id == ent.id, ImportSetting.account_code == code
        )
    )
    audit(session, ent.id, actor, "import.settings.clear", code or ent.code, None)
    return True


def import_settings(session: Connection, entity: str) -> list[ImportSettings]:
    """Return ENTITY's stored settings, the community's (account ``""``) first.

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    rows = session.execute(
        select(ImportSetting, User.login.label("set_by_login"))
        .join(User, User.id == ImportSetting.set_by)
        .where(ImportSetting.entity_id == ent.id)
        .order_by(ImportSetting.account_code)
    )
    return [
        ImportSettings(
            ent.code, s.account_code, s.rules, s.mapping, s.profile, s.set_by_login, s.set_at
        )
        for s in rows
    ]


def stored_for(session: Connection, entity_id: int, entity: str, account: str) -> Stored:
    """The rules and layout an import into ``account`` takes from the settings (parsed).

    The account's own setting wins, field by field, over the community's.
    Raises :class:`~juzhang.errors.ProblemsError` if a stored text no longer
    parses (it was checked when stored).
    """
    rows = {
        s.account_code: s
        for s in session.execute(
            select(ImportSetting).where(
                ImportSetting.entity_id == entity_id,
                ImportSetting.account_code.in_(("", account)),
            )
        )
    }
    mine, theirs = rows.get(account), rows.get("")
    rules_text = next((r.rules for r in (mine, theirs) if r is not None and r.rules), None)
    layout_row = next(
        (r for r in (mine, theirs) if r is not None and (r.mapping or r.profile)), None
    )
    used: list[str] = []
    rules = None
    if rules_text is not None:
        rules = parse_rules(rules_text, f"{entity} 已存规则 stored rules")
        used.append("rules")
    layout: str | BankProfile | None = None
    if layout_row is not None and layout_row.mapping:
        source = f"{entity} 已存映射 stored mapping"
        layout = parse_profile(tomllib.loads(layout_row.mapping), source, layout_row.mapping)
        used.append("mapping")
    elif layout_row is not None and layout_row.profile:
        layout = layout_row.profile
        used.append("profile")
    return Stored(rules, layout, tuple(used))


def stored_layouts(session: Connection) -> list[str | BankProfile]:
    """Every layout stored in any community's settings, once each (mappings parsed).

    ``import bank --dir`` reads the account number of a file no shipped
    layout reads with these before routing it.
    """
    found: list[str | BankProfile] = []
    seen: set[str] = set()
    for mapping, profile in session.execute(
        select(ImportSetting.mapping, ImportSetting.profile).order_by(
            ImportSetting.entity_id, ImportSetting.account_code
        )
    ):
        key = mapping or profile
        if key is None or key in seen:
            continue
        seen.add(key)
        found.append(
            parse_profile(tomllib.loads(mapping), "已存映射 stored mapping", mapping)
            if mapping
            else key
        )
    return found
