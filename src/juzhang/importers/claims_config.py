"""Claim rules (报账规则): one community's rules for claims, a TOML file checked by pydantic.

The rules are per community and are data (:class:`ClaimsConfig`, a TOML file
read by :func:`load_claims_config` and checked by the pydantic model
:class:`ClaimsConfigFile`)::

    entity = "C001"              # optional: refuse to apply these rules to another community

    [rules]
    categories = ["expense"]     # account categories a claim may be charged to
    min_attachments = 1          # originals attached, at least
    require_invoice = false      # 发票号码 required on every claim
    witness_not_handler = true   # 证明人 may not be the 经手人

    [payment]                    # 支付方式 as written → cash or bank account (a leaf custody
    "现金" = "101"               # account); default: the one leaf cash account and the one
    "银行" = "102"               # leaf bank account (10201 when 102 has it alone; with two
    "农商行" = "10202"           # the import asks for this table).  现金/库存现金/cash and
                                 # 银行/银行存款/转账/网银/bank are understood as 现金 and 银行.

    [aliases]                    # 科目或类别 as the cashier writes it → account code
    "办公费" = "51301"

    [[approval]]                 # approval tiers; every tier whose threshold the amount
    at_least = "300"             # reaches applies: at_least (≥) or above (>), in 元
    approvers = 2                # different names in 审批人 (split at 、,，;/ and spaces)
    [[approval]]
    above = "1000"
    decision = true              # a 决议文号 is required
    decision_kinds = []          # optional: the reference must mention one of these,
                                 # e.g. ["两委", "居民会议", "居民代表会议", "一事一议"]

Without a file the defaults follow DOMAIN §3: under 300 元 one approver (the
director) signs, from 300 元 two (director and secretary), above 1000 元 a
collective decision is required; categories ``expense``; at least one
attachment.  A 科目或类别 cell resolves, in this order, through ``[aliases]``,
an account code (``51301`` or ``51301 办公费``), an account name (``办公费``) or
a path (``管理费用—办公费``); the account must be an active leaf account of an
allowed category and not a cash or bank account.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from juzhang.config_file import Loc, dotted, parse_toml, read_text, validate
from juzhang.errors import MoneyError
from juzhang.money import format_amount, parse_money

__all__ = [
    "DEFAULT_APPROVAL",
    "DEFAULT_CONFIG",
    "ApprovalTier",
    "ClaimsConfig",
    "ClaimsConfigFile",
    "RulesTable",
    "TierTable",
    "load_claims_config",
    "parse_claims_config",
]


@dataclass(frozen=True, slots=True)
class ApprovalTier:
    """An approval rule for amounts from a threshold on (审批权限).

    ``inclusive`` means amounts of at least ``threshold`` (≥); otherwise
    amounts above it (>).  ``approvers`` is the number of different names
    needed in 审批人; ``decision`` requires a 决议文号, and ``decision_kinds``,
    when given, a reference that mentions one of them.
    """

    threshold: Decimal
    inclusive: bool = False
    approvers: int = 1
    decision: bool = False
    decision_kinds: tuple[str, ...] = ()

    def applies(self, amount: Decimal) -> bool:
        """Return whether a claim of ``amount`` falls under this tier."""
        return amount >= self.threshold if self.inclusive else amount > self.threshold

    @property
    def label(self) -> str:
        """``"≥ 300.00"`` or ``"> 1,000.00"``."""
        return f"{'≥' if self.inclusive else '>'} {format_amount(self.threshold)}"


DEFAULT_APPROVAL: tuple[ApprovalTier, ...] = (
    ApprovalTier(Decimal("300.00"), inclusive=True, approvers=2),
    ApprovalTier(Decimal("1000.00"), inclusive=False, decision=True),
)
"""DOMAIN §3: two approvers from 300 元, a collective decision above 1000 元."""


@dataclass(frozen=True, slots=True)
class ClaimsConfig:
    """One community's claim rules (报账规则); see the module docstring for the TOML form.

    ``payment`` and ``aliases`` are ``(text, account code)`` pairs; an empty
    ``payment`` means the one active leaf cash account and the one leaf bank
    account (a kind with several leaves must be named here).
    """

    entity: str | None = None
    categories: tuple[str, ...] = ("expense",)
    min_attachments: int = 1
    require_invoice: bool = False
    witness_not_handler: bool = True
    payment: tuple[tuple[str, str], ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    approval: tuple[ApprovalTier, ...] = DEFAULT_APPROVAL
    source: str = "默认规则 default rules"

    @property
    def digest(self) -> str:
        """A short fingerprint of the rules, recorded with each batch."""
        text = repr(
            (
                self.entity,
                self.categories,
                self.min_attachments,
                self.require_invoice,
                self.witness_not_handler,
                self.payment,
                self.aliases,
                self.approval,
            )
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


DEFAULT_CONFIG = ClaimsConfig()

_WHAT = "报账规则 claim rules"
_CATEGORIES = frozenset({"asset", "liability", "equity", "net_assets", "cost", "income", "expense"})


# --------------------------------------------------------------------------- the rules file


def _refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError("claims_config", message)


def _flag(value: object) -> object:
    if not isinstance(value, bool):
        raise _refuse("应为 true 或 false / must be true or false")
    return value


def _code(value: object) -> object:
    if not isinstance(value, str) or not value.strip().isdigit():
        raise _refuse('应为科目代码文字，如 "101" / must be an account code as text')
    return value.strip()


def _table(value: object) -> object:
    if not isinstance(value, dict):
        raise _refuse("应为表 / must be a table ([...])")
    return value


_AccountCode = Annotated[str, BeforeValidator(_code)]
_Flag = Annotated[bool, BeforeValidator(_flag)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RulesTable(_Strict):
    """``[rules]``: categories, attachments, invoice, witness (defaults: DOMAIN §3)."""

    categories: tuple[str, ...] = ("expense",)
    min_attachments: int = 1
    require_invoice: _Flag = False
    witness_not_handler: _Flag = True

    @field_validator("categories", mode="before")
    @classmethod
    def _categories(cls, value: object) -> object:
        if not isinstance(value, list) or not value or any(c not in _CATEGORIES for c in value):
            raise _refuse(f"应为科目类别的列表 / a list of: {', '.join(sorted(_CATEGORIES))}")
        return tuple(value)

    @field_validator("min_attachments", mode="before")
    @classmethod
    def _minimum(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _refuse("应为不小于 0 的整数 / a whole number ≥ 0")
        return value


class TierTable(_Strict):
    """One ``[[approval]]`` table: exactly one of ``at_least``/``above`` (元), and what it needs."""

    at_least: Decimal | None = None
    above: Decimal | None = None
    approvers: int = 1
    decision: _Flag = False
    decision_kinds: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _one_threshold(cls, data: object) -> object:
        if not isinstance(data, dict):
            raise _refuse("应为表 / must be a table")
        if ("at_least" in data) == ("above" in data):
            raise PydanticCustomError(
                "claims_config_tier",
                "at_least 和 above 必须且只能写一个 / give exactly one of at_least, above",
                {"unknown": sorted(set(data) - set(cls.model_fields))},
            )
        return data

    @field_validator("at_least", "above", mode="before")
    @classmethod
    def _threshold(cls, value: Any) -> object:
        try:
            return parse_money(value)
        except MoneyError as exc:
            raise _refuse(f'{exc.reason}（请写成 "300" / write it as text: "300"）') from None

    @field_validator("approvers", mode="before")
    @classmethod
    def _approvers(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _refuse("应为不小于 1 的整数 / a whole number ≥ 1")
        return value

    @field_validator("decision_kinds", mode="before")
    @classmethod
    def _kinds(cls, value: object) -> object:
        if not isinstance(value, list) or not all(isinstance(k, str) and k for k in value):
            raise _refuse("应为文字列表 / must be a list of texts")
        return tuple(value)

    def to_tier(self) -> ApprovalTier:
        """Return the :class:`ApprovalTier` this table describes."""
        threshold = self.at_least if self.at_least is not None else self.above
        assert threshold is not None  # _one_threshold
        inclusive = self.at_least is not None
        return ApprovalTier(
            threshold, inclusive, self.approvers, self.decision, self.decision_kinds
        )


class ClaimsConfigFile(_Strict):
    """A claim rules file (报账规则) as its TOML holds it; :meth:`to_config` gives the rules.

    Every value is checked with the reason people read (Chinese / English);
    :func:`parse_claims_config` lists every refusal as a problem naming
    ``file:key``.  A key left out takes the default of :class:`ClaimsConfig`.
    """

    entity: str = ""
    rules: RulesTable = RulesTable()
    payment: dict[str, _AccountCode] = {}
    aliases: dict[str, _AccountCode] = {}
    approval: tuple[TierTable, ...] = ()

    @field_validator("entity", mode="before")
    @classmethod
    def _entity(cls, value: object) -> object:
        if not isinstance(value, str):
            raise _refuse("应为文字 / must be text")
        return value

    @field_validator("rules", "payment", "aliases", mode="before")
    @classmethod
    def _tables(cls, value: object) -> object:
        return _table(value)

    @field_validator("approval", mode="before")
    @classmethod
    def _tiers(cls, value: object) -> object:
        if not isinstance(value, list):
            raise _refuse("应为 [[approval]] 表的列表 / must be [[approval]] tables")
        return value

    def to_config(self, source: str) -> ClaimsConfig:
        """Return the :class:`ClaimsConfig` this file describes, named ``source``."""
        given = self.model_fields_set
        tiers = tuple(t.to_tier() for t in self.approval)
        return ClaimsConfig(
            entity=self.entity if "entity" in given else None,
            categories=self.rules.categories,
            min_attachments=self.rules.min_attachments,
            require_invoice=self.rules.require_invoice,
            witness_not_handler=self.rules.witness_not_handler,
            payment=tuple(self.payment.items()),
            aliases=tuple(self.aliases.items()),
            approval=tiers if "approval" in given else DEFAULT_APPROVAL,
            source=source,
        )


def load_claims_config(path: str | Path) -> ClaimsConfig:
    """Read a community's claim rules from a TOML file.

    Returns a :class:`ClaimsConfig`.  Raises :class:`ProblemsError` listing
    every problem (missing file, bad TOML, unknown keys, bad values).
    """
    source = Path(path)
    text = read_text(source, title=_WHAT, subject="config", where=str(source))
    return parse_claims_config(text, source.name)


def parse_claims_config(text: str, source: str = "<rules>") -> ClaimsConfig:
    """Read claim rules from TOML text (see the module docstring).

    Amounts are written as text or whole 元 (``"300"``, ``1000``); a float
    such as ``300.0`` is refused.  Returns a :class:`ClaimsConfig`.  Raises
    :class:`ProblemsError` listing every problem, in the order of the file,
    each naming ``file:key`` (``bad.toml:approval[1].above``) and its line.
    """
    data = parse_toml(text, source=source, title=_WHAT, subject="config")
    model = validate(
        ClaimsConfigFile,
        data,
        source=source,
        title=_WHAT,
        subject="config",
        text=text,
        where=lambda loc: f"{source}:{dotted(loc)}",
        unknown=_unknown,
        in_file_order=True,
    )
    return model.to_config(source)


_KNOWN: dict[str, frozenset[str]] = {
    "": frozenset(ClaimsConfigFile.model_fields),
    "rules": frozenset(RulesTable.model_fields),
    "approval": frozenset(TierTable.model_fields),
}


def _unknown(loc: Loc) -> str:
    section = str(loc[0]) if len(loc) > 1 else ""
    return f"未知的设置项 / unknown key (known: {', '.join(sorted(_KNOWN[section]))})"
