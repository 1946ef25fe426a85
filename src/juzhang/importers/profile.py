"""Bank statement profiles (对账单格式) as data: the schema, the shipped ones, user mappings.

Each bank layout is a TOML file under ``importers/profiles/`` read into a
:class:`BankProfile`; a user writes a mapping file of the same schema for any
other bank (:func:`load_profile`).  :mod:`.bank` reads statements with them.

A profile file::

    name = "mybank"                 # unique name
    title = "某某银行 账户明细"
    direction = "split"             # split | signed | flag | payer_payee
    signed_positive = "credit"      # signed: what a positive amount means
    out_negative = false            # split: the out column prints negative numbers
    detect = ["支出金额", "收入金额"] # headers that must all be present
    marker = ""                     # optional text in a cell above the header
    footer = ["合计", "以上数据仅供参考"]   # optional: footer markers (defaults)
    opening = ["期初余额"]                  # optional: opening balance rows (defaults)

    [columns]                       # field → header texts, preferred first
    date = ["交易日期"]
    debit = ["支出金额"]
    credit = ["收入金额"]
    balance = ["余额"]

    [metadata]                      # optional: labels of rows above the header
    account = ["账号", "账户号"]
    name = ["户名", "账户名称"]

Fields (:data:`FIELDS`): ``date``, ``time``, ``debit`` (out, 支出/借方),
``credit`` (in, 收入/贷方), ``amount`` (one amount column), ``direction``
(a 借/贷 flag), ``balance``, ``counterparty``, ``counterparty_account``,
``counterparty_bank``, ``summary``, ``purpose``, ``remark``, ``serial``,
``own_account`` / ``own_name`` (the account itself, repeated on each row),
``currency``, and for ``payer_payee`` the ``payer_*`` / ``payee_*`` account,
name and bank.  Header texts match after full-width forms, case and spaces are
folded; a bracketed suffix (``交易金额[ Trade Amount ]``, ``借方发生额（支取）``)
may be left out of the alias.

A profile that breaks the schema is refused with every problem listed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from juzhang.config_file import Loc, read_toml, text_list, unknown_key, validate
from juzhang.errors import ValidationError

__all__ = [
    "DEFAULT_ACCOUNT_LABELS",
    "DEFAULT_FOOTER",
    "DEFAULT_NAME_LABELS",
    "DEFAULT_OPENING",
    "DIRECTIONS",
    "FIELDS",
    "BankProfile",
    "ProfileFile",
    "builtin_profiles",
    "get_profile",
    "load_profile",
    "parse_profile",
]

FIELDS: tuple[str, ...] = (
    "date",
    "time",
    "debit",
    "credit",
    "amount",
    "direction",
    "balance",
    "counterparty",
    "counterparty_account",
    "counterparty_bank",
    "summary",
    "purpose",
    "remark",
    "serial",
    "own_account",
    "own_name",
    "currency",
    "payer_account",
    "payer_name",
    "payer_bank",
    "payee_account",
    "payee_name",
    "payee_bank",
)
"""The normalised fields a profile can map header texts to."""

DIRECTIONS: dict[str, tuple[str, ...]] = {
    "split": ("date", "debit", "credit"),
    "signed": ("date", "amount"),
    "flag": ("date", "amount", "direction"),
    "payer_payee": ("date", "amount", "payer_account", "payee_account"),
}
"""How direction is told → the fields a profile of that kind must map."""

DEFAULT_ACCOUNT_LABELS = (
    "账号",
    "帐号",
    "账户",
    "账户号",
    "账户号码",
    "帐户号",
    "查询账号",
    "本方账号",
    "卡号",
    "account",
    "accountno",
    "accountnumber",
)
DEFAULT_NAME_LABELS = (
    "户名",
    "账户名称",
    "帐户名称",
    "账户名",
    "单位名称",
    "客户名称",
    "本方户名",
    "accountname",
)
DEFAULT_FOOTER = (
    "合计",
    "总计",
    "本页合计",
    "本页小计",
    "小计",
    "累计",
    "以上数据仅供参考",
    "总笔数",
    "交易笔数",
    "借方笔数",
    "贷方笔数",
    "借方总",
    "贷方总",
    "打印日期",
    "打印时间",
    "打印人",
    "制表",
    "说明",
    "注:",
    "total",
)
DEFAULT_OPENING = ("期初余额", "上期余额", "上日余额", "承前页", "承上页", "期初", "上年结转")


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True, slots=True)
class BankProfile:
    """A bank statement layout (对账单格式), read from TOML; see the module docstring."""

    name: str
    title: str
    direction: Literal["split", "signed", "flag", "payer_payee"]
    columns: dict[str, tuple[str, ...]]
    detect: tuple[str, ...] = ()
    marker: str = ""
    signed_positive: Literal["credit", "debit"] = "credit"
    out_negative: bool = False
    account_labels: tuple[str, ...] = DEFAULT_ACCOUNT_LABELS
    name_labels: tuple[str, ...] = DEFAULT_NAME_LABELS
    footer: tuple[str, ...] = DEFAULT_FOOTER
    opening: tuple[str, ...] = DEFAULT_OPENING
    source: str = ""

    @property
    def required(self) -> tuple[str, ...]:
        """The fields this profile cannot do without."""
        return DIRECTIONS[self.direction]


_TEXTS = "应为文字列表 / must be a list of texts"


def _name(value: object) -> object:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("缺少名称 / name must be a non-empty text")
    return value


def _direction(value: object) -> object:
    if value not in DIRECTIONS:
        raise ValueError(f"方向应为 {', '.join(DIRECTIONS)} / unknown direction {value!r}")
    return value


def _columns(value: object) -> object:
    if not isinstance(value, dict):
        raise ValueError("缺少 [columns] 表 / a [columns] table is required")
    return value


def _choice(*allowed: str, message: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if value not in allowed:
            raise ValueError(message)
        return value

    return check


def _strict_bool(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("应为 true 或 false / must be a boolean")
    return value


def _text(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("应为文字 / must be a text")
    return value


Texts = Annotated[list[str], BeforeValidator(text_list(_TEXTS))]
Aliases = Annotated[
    list[str], BeforeValidator(text_list("应为文字列表 / must be a list of header texts"))
]
Text = Annotated[str, BeforeValidator(_text)]


class _Metadata(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account: Texts = list(DEFAULT_ACCOUNT_LABELS)
    name: Texts = list(DEFAULT_NAME_LABELS)


def _field(key: str) -> str:
    if key not in FIELDS:
        raise ValueError(f"未知字段 / unknown field {key!r}; fields: {', '.join(FIELDS)}")
    return key


_Columns = dict[Annotated[str, AfterValidator(_field)], Aliases]


def _metadata(value: object) -> object:
    if not isinstance(value, dict):
        raise ValueError("只能有 account 与 name / metadata takes only account and name")
    return value


class ProfileFile(BaseModel):
    """A bank profile file as written (the schema of the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, BeforeValidator(_name)] = Field(default="", validate_default=True)
    title: Text | None = None
    direction: Annotated[str, BeforeValidator(_direction)] = "split"
    columns: Annotated[_Columns, BeforeValidator(_columns)] = Field(
        default=None, validate_default=True
    )
    detect: Texts = []
    marker: Text = ""
    signed_positive: Annotated[
        str,
        BeforeValidator(
            _choice("credit", "debit", message="应为 credit 或 debit / must be credit or debit")
        ),
    ] = "credit"
    out_negative: Annotated[bool, BeforeValidator(_strict_bool)] = False
    metadata: Annotated[_Metadata, BeforeValidator(_metadata)] = _Metadata()
    footer: Texts = list(DEFAULT_FOOTER)
    opening: Texts = list(DEFAULT_OPENING)

    def mapped(self) -> dict[str, tuple[str, ...]]:
        """Return field → header texts, for the fields given a non-empty list."""
        return {key: tuple(aliases) for key, aliases in self.columns.items() if aliases}

    def problems(self) -> list[tuple[Loc, str]]:
        """The fields the direction needs that the columns do not map."""
        mapped = self.mapped()
        return [
            (
                ("columns", key),
                f"方向 {self.direction} 需要此字段 / direction {self.direction} needs it",
            )
            for key in DIRECTIONS[self.direction]
            if key not in mapped
        ]

    def to_profile(self, source: str) -> BankProfile:
        """Return the :class:`BankProfile`."""
        return BankProfile(
            name=self.name.strip(),
            title=self.name if self.title is None else self.title,
            direction=self.direction,  # type: ignore[arg-type]
            columns=self.mapped(),
            detect=tuple(self.detect),
            marker=self.marker,
            signed_positive=self.signed_positive,  # type: ignore[arg-type]
            out_negative=self.out_negative,
            account_labels=tuple(self.metadata.account),
            name_labels=tuple(self.metadata.name),
            footer=tuple(self.footer),
            opening=tuple(self.opening),
            source=source,
        )


def _unknown(loc: Loc) -> str:
    if loc[:1] == ("metadata",):
        return "只能有 account 与 name / metadata takes only account and name"
    return unknown_key(loc)


def parse_profile(data: dict[str, Any], source: str = "", text: str | None = None) -> BankProfile:
    """Build a :class:`BankProfile` from parsed TOML, checking every key.

    Returns the profile.  Raises :class:`~juzhang.errors.ProblemsError`
    listing every problem: unknown keys or fields, missing ``name`` or
    ``columns``, an unknown ``direction``, lists that are not lists of text,
    and fields the direction needs but the columns do not map.  With ``text``
    (the TOML the data came from) each problem names its line.
    """
    where = source or "profile"
    model = validate(
        ProfileFile,
        data,
        source=where,
        title=f"对账单格式文件有误 / bad statement profile {where}",
        subject="profile",
        text=text,
        unknown=_unknown,
    )
    return model.to_profile(source)


def load_profile(path: str | Path) -> BankProfile:
    """Read a user-written mapping file (TOML, the profile schema) for any bank.

    Returns the profile.  Raises :class:`~juzhang.errors.ProblemsError` if the
    file is missing, is not valid TOML, or breaks the schema (every problem
    listed, each with its key and line).
    """
    source = Path(path)
    data, text = read_toml(source, title="对账单格式文件 / statement profile", subject="profile")
    return parse_profile(data, source.name, text)


@cache
def builtin_profiles() -> tuple[BankProfile, ...]:
    """Return the profiles shipped with juzhang, in name order."""
    folder = resources.files("juzhang.importers") / "profiles"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".toml"):
            found.append(parse_profile(tomllib.loads(entry.read_text("utf-8")), entry.name))
    return tuple(found)


def get_profile(name: str) -> BankProfile:
    """Return the shipped profile called ``name``.

    Raises :class:`~juzhang.errors.ValidationError` naming the known profiles
    when there is none by that name.
    """
    for profile in builtin_profiles():
        if profile.name == name:
            return profile
    known = ", ".join(p.name for p in builtin_profiles())
    raise ValidationError(
        f"对账单格式 {name!r}", f"不存在，已知: {known} / no such profile; known: {known}"
    )
