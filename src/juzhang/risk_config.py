"""Thresholds of the risk signals (廉政风险提示设置), stored per community.

Each risk check (:mod:`juzhang.risk`) compares the books with a threshold
that varies by locality, so the thresholds are settings, not code (DOMAIN
§3: "Thresholds are local").  :class:`RiskSettings` is a pydantic model with
the defaults below; a community's own values are a small TOML file stored
with :func:`set_risk_settings` (``juzhang risk config set ENTITY FILE``),
every key optional::

    # 廉政风险提示设置 / risk signal settings
    cash_settlement_limit = "1000.00"  # 现金结算起点: cash payments above it should go by bank
    approval_threshold = "1000.00"     # 审批限额: claims just under it, split, are flagged
    split_days = 7                     # … when their sum within this many days crosses it
    cash_limit = "5000.00"             # 库存现金限额: cash on hand at day end
    cash_limit_days = 3                # … above the limit for more than this many days
    deposit_days = 3                   # cash received is deposited within this many days (坐收坐支)
    no_invoice_threshold = "200.00"    # 白条: expenses without an invoice above this
    cadre_standard = "0.00"            # 干部补贴、奖金: one payment above it (0: not checked)
    round_sum = false                  # 整数金额按月重复支付 (off by default)
    round_unit = "100.00"              # … a multiple of this
    round_months = 3                   # … to the same payee in this many months in a row

Without a stored file the defaults apply.  The defaults follow common
practice: 1,000 元 is the cash-settlement starting point of the 现金管理暂行条例
and the amount above which DOMAIN §3's example rule asks for a collective
decision; a village's cash limit is often a fixed 5,000 元; cash received is
handed in "within a few days".
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from sqlalchemy import Connection, insert, select, update

from juzhang.config_file import dotted, read_toml, validate
from juzhang.core.duty import Action
from juzhang.errors import MoneyError
from juzhang.money import parse_money
from juzhang.storage.access import audit, command, get_entity, get_row, now, require
from juzhang.storage.schema import RiskSetting

__all__ = [
    "RiskSettings",
    "load_risk_settings",
    "parse_risk_settings",
    "risk_settings_toml",
    "set_risk_settings",
    "stored_risk_settings",
]


def _money(value: object) -> object:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('应为金额文字，如 "1000.00" / must be an amount as text, e.g. "1000.00"')
    try:
        amount = parse_money(str(value))
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if amount < 0:
        raise ValueError("不能为负 / cannot be negative")
    return amount


def _days(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 366:
        raise ValueError("应为 1–366 的天数 / must be a number of days from 1 to 366")
    return value


def _months(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 24:
        raise ValueError("应为 2–24 的月数 / must be a number of months from 2 to 24")
    return value


def _flag(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("应为 true 或 false / must be true or false")
    return value


_Money = Annotated[Decimal, BeforeValidator(_money)]
_Days = Annotated[int, BeforeValidator(_days)]


class RiskSettings(BaseModel):
    """A community's risk thresholds (see the module docstring for each key and its default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cash_settlement_limit: _Money = Decimal("1000.00")
    approval_threshold: _Money = Decimal("1000.00")
    split_days: _Days = 7
    cash_limit: _Money = Decimal("5000.00")
    cash_limit_days: _Days = 3
    deposit_days: _Days = 3
    no_invoice_threshold: _Money = Decimal("200.00")
    cadre_standard: _Money = Decimal("0.00")
    round_sum: Annotated[bool, BeforeValidator(_flag)] = False
    round_unit: _Money = Decimal("100.00")
    round_months: Annotated[int, BeforeValidator(_months)] = 3

    def to_json(self) -> dict[str, Any]:
        """The settings as the file's schema (amounts as strings)."""
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.model_dump().items()}


def parse_risk_settings(
    data: dict[str, Any], source: str = "<risk settings>", text: str | None = None
) -> RiskSettings:
    """Check parsed TOML (or :meth:`RiskSettings.to_json`'s form); return the settings.

    Raises:
        ProblemsError: every problem (unknown key, bad amount or number), each
            naming ``source: key`` (and the line, given ``text``).
    """
    return validate(
        RiskSettings,
        data,
        source=source,
        title=f"廉政风险提示设置 risk settings {source}",
        subject="",
        text=text,
        where=lambda loc: f"{source}: {dotted(loc)}",
        in_file_order=text is not None,
    )


def load_risk_settings(path: str | Path) -> RiskSettings:
    """Read a risk settings TOML file.

    Raises:
        ProblemsError: the file cannot be read, is not TOML, or has problems (all listed).
    """
    source = str(path)
    data, text = read_toml(
        path, title=f"廉政风险提示设置 risk settings {source}", subject="", where=source
    )
    return parse_risk_settings(data, source, text)


def risk_settings_toml(settings: RiskSettings) -> str:
    """Return the settings as a TOML file text (a starting point to edit)."""
    lines = ["# 廉政风险提示设置 / risk signal settings (see juzhang.risk_config)"]
    for key, value in settings.to_json().items():
        text = ("true" if value else "false") if isinstance(value, bool) else None
        if text is None:
            text = str(value) if isinstance(value, int) else json.dumps(value)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


@command
def set_risk_settings(
    session: Connection, entity: str, actor: str, settings: RiskSettings
) -> RiskSettings:
    """Store the community's risk thresholds; return them.

    For whoever closes the month (审核, reviewer), who sees the signals at
    the close; audited as ``risk.settings`` with the JSON it sets.

    Raises:
        NotFoundError: unknown entity or user.
        SegregationOfDutiesError: the actor is not a reviewer of the entity.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.CLOSE_PERIOD)
    text = json.dumps(settings.to_json(), ensure_ascii=False, sort_keys=True)
    values = {"config": text, "set_by": uid, "set_at": now()}
    if get_row(session, RiskSetting, ent.id) is None:
        session.execute(insert(RiskSetting).values(entity_id=ent.id, **values))
    else:
        session.execute(update(RiskSetting).where(RiskSetting.entity_id == ent.id).values(**values))
    audit(session, ent.id, actor, "risk.settings", ent.code, {"config": text})
    return settings


def stored_risk_settings(session: Connection, entity: str) -> RiskSettings:
    """Return the community's stored risk thresholds, or the defaults when none are stored.

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    text = session.execute(
        select(RiskSetting.config).where(RiskSetting.entity_id == ent.id)
    ).scalar_one_or_none()
    if text is None:
        return RiskSettings()
    return parse_risk_settings(json.loads(text), f"{ent.code} 已存设置 stored settings")
