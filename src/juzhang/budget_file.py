"""The budget file (预算文件, ``budget.toml``) that ``juzhang budget set`` and ``adjust`` read.

One ``[[line]]`` table per budget line::

    [[line]]
    name = "办公设备"            # 预算项目
    kind = "expense"            # income 收入 | expense 支出
    accounts = ["541"]          # account code prefixes it covers
    amount = "3000.00"          # 元: a string or an integer, never a float

Checked with :mod:`juzhang.config_file`: every problem at once, each naming
the file, the key (``line[2].amount``), its line in the file and the reason.
The books then check the accounts (:func:`juzhang.budget.set_budget`).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from juzhang.budget import BudgetInput
from juzhang.config_file import load
from juzhang.money import parse_money

__all__ = ["BudgetFile", "read_budget_file"]


class LineModel(BaseModel):
    """One ``[[line]]`` of the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: Literal["income", "expense"]
    accounts: list[str] = Field(min_length=1)
    amount: Decimal

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("accounts", mode="before")
    @classmethod
    def _accounts(cls, value: object) -> object:
        if isinstance(value, str):  # one prefix may be written without the list
            value = [value]
        if isinstance(value, list) and not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError("科目前缀应为非空文本 / account prefixes must be non-empty strings")
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> object:
        if isinstance(value, float):
            raise ValueError(
                '金额请写成字符串如 "3000.00" / write the amount as a string such as "3000.00"'
            )
        if isinstance(value, str | int) and not isinstance(value, bool):
            amount = parse_money(value)
            if amount < 0:
                raise ValueError("金额不能为负 / the amount cannot be negative")
            return amount
        raise ValueError("金额应为字符串 / an amount must be a string")


class BudgetFile(BaseModel):
    """The whole file: its ``[[line]]`` tables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line: list[LineModel] = Field(default_factory=list)

    def inputs(self) -> list[BudgetInput]:
        """The lines as :class:`~juzhang.budget.BudgetInput` for the books."""
        return [
            BudgetInput(ln.name, ln.kind, tuple(a.strip() for a in ln.accounts), ln.amount)
            for ln in self.line
        ]


def read_budget_file(path: str | Path) -> list[BudgetInput]:
    """Read and check a budget file; return its lines.

    Raises:
        ProblemsError: the file is missing, not TOML, or a line is bad (all listed).
    """
    model = load(BudgetFile, path, title="预算文件 budget file", subject="budget", decimal=True)
    return model.inputs()
