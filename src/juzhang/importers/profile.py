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
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from juzhang.errors import Problem, ProblemsError, ValidationError

__all__ = [
    "DEFAULT_ACCOUNT_LABELS",
    "DEFAULT_FOOTER",
    "DEFAULT_NAME_LABELS",
    "DEFAULT_OPENING",
    "DIRECTIONS",
    "FIELDS",
    "BankProfile",
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


_PROFILE_KEYS = frozenset(
    {"name", "title", "direction", "columns", "detect", "marker", "signed_positive",
     "out_negative", "metadata", "footer", "opening"}
)  # fmt: skip


def parse_profile(data: dict[str, Any], source: str = "") -> BankProfile:
    """Build a :class:`BankProfile` from parsed TOML, checking every key.

    Returns the profile.  Raises :class:`~juzhang.errors.ProblemsError`
    listing every problem: unknown keys or fields, missing ``name`` or
    ``columns``, an unknown ``direction``, lists that are not lists of text,
    and fields the direction needs but the columns do not map.
    """
    problems: list[Problem] = []
    where = source or "profile"

    def bad(key: str, message: str) -> None:
        problems.append(Problem(f"{where}:{key}", message, "profile"))

    for key in sorted(set(data) - _PROFILE_KEYS):
        bad(key, f"未知的键 / unknown key {key!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        bad("name", "缺少名称 / name must be a non-empty text")
    direction = data.get("direction", "split")
    if direction not in DIRECTIONS:
        bad("direction", f"方向应为 {', '.join(DIRECTIONS)} / unknown direction {direction!r}")
    columns: dict[str, tuple[str, ...]] = {}
    raw_columns = data.get("columns")
    if not isinstance(raw_columns, dict):
        bad("columns", "缺少 [columns] 表 / a [columns] table is required")
        raw_columns = {}
    for key, aliases in raw_columns.items():
        if key not in FIELDS:
            bad(f"columns.{key}", f"未知字段 / unknown field {key!r}; fields: {', '.join(FIELDS)}")
        elif _text_list(aliases) is None:
            bad(f"columns.{key}", "应为文字列表 / must be a list of header texts")
        elif aliases:
            columns[key] = tuple(aliases)
    for key in DIRECTIONS.get(direction, ()):
        if key not in columns:
            bad(f"columns.{key}", f"方向 {direction} 需要此字段 / direction {direction} needs it")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict) or set(metadata) - {"account", "name"}:
        bad("metadata", "只能有 account 与 name / metadata takes only account and name")
        metadata = {}
    lists = {
        "detect": data.get("detect", []),
        "footer": data.get("footer", list(DEFAULT_FOOTER)),
        "opening": data.get("opening", list(DEFAULT_OPENING)),
        "metadata.account": metadata.get("account", list(DEFAULT_ACCOUNT_LABELS)),
        "metadata.name": metadata.get("name", list(DEFAULT_NAME_LABELS)),
    }
    for key, value in lists.items():
        if _text_list(value) is None:
            bad(key, "应为文字列表 / must be a list of texts")
            lists[key] = []
    positive = data.get("signed_positive", "credit")
    if positive not in ("credit", "debit"):
        bad("signed_positive", "应为 credit 或 debit / must be credit or debit")
    if not isinstance(data.get("out_negative", False), bool):
        bad("out_negative", "应为 true 或 false / must be a boolean")
    for key in ("title", "marker"):
        if not isinstance(data.get(key, ""), str):
            bad(key, "应为文字 / must be a text")
    if problems:
        raise ProblemsError(f"对账单格式文件有误 / bad statement profile {where}", problems)
    return BankProfile(
        name=str(name).strip(),
        title=str(data.get("title", name)),
        direction=direction,
        columns=columns,
        detect=tuple(lists["detect"]),
        marker=str(data.get("marker", "")),
        signed_positive=positive,
        out_negative=bool(data.get("out_negative", False)),
        account_labels=tuple(lists["metadata.account"]),
        name_labels=tuple(lists["metadata.name"]),
        footer=tuple(lists["footer"]),
        opening=tuple(lists["opening"]),
        source=source,
    )


def _text_list(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def load_profile(path: str | Path) -> BankProfile:
    """Read a user-written mapping file (TOML, the profile schema) for any bank.

    Returns the profile.  Raises :class:`~juzhang.errors.ProblemsError` if the
    file is missing, is not valid TOML, or breaks the schema (every problem
    listed).
    """
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProblemsError(
            "对账单格式文件 / statement profile",
            [Problem(source.name, "文件不存在 / file not found", "profile")],
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProblemsError(
            "对账单格式文件 / statement profile",
            [Problem(source.name, f"不是有效的 TOML / not valid TOML: {exc}", "profile")],
        ) from None
    return parse_profile(data, source.name)


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
