"""Config files checked by pydantic models (配置文件校验).

Bank profiles, categorisation rules, the disclosure config and claim-batch
configs are TOML files a person writes.  Each is described by a pydantic model
(STYLE.md §2: pydantic at the edges); :func:`validate` checks a parsed mapping
against it and :func:`load` reads and checks a file.  Whatever is wrong is
raised at once as one :class:`~juzhang.errors.ProblemsError`, each
:class:`~juzhang.errors.Problem` naming the file and the key
(``where = "mapping.toml:columns.debit"``), the line of that key when the TOML
text is known (``"（第3行 line 3）"`` after the message), and the reason in
Chinese and English.

A model says what is wrong in its own words by raising ``ValueError`` with a
bilingual message from a validator (the text after pydantic's ``"Value
error, "`` is kept as it is); pydantic's own errors of the common kinds get a
Chinese translation in front of the English.  Checks that span several keys
and must name one of them go in a ``problems()`` method returning
``(key path, message)`` pairs (:class:`CrossChecked`); it runs once the fields
are valid.

Adopting it for a new file kind::

    class MyConfig(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        name: Annotated[str, BeforeValidator(non_empty_text("name"))]

    cfg = load(MyConfig, path, title="我的配置 / my config", subject="my config")
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import pydantic
from pydantic import BaseModel

from juzhang.errors import Problem, ProblemsError

__all__ = [
    "CrossChecked",
    "Loc",
    "dotted",
    "key_lines",
    "load",
    "parse_toml",
    "problems_of",
    "read_text",
    "read_toml",
    "text_list",
    "unknown_key",
    "validate",
]

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]
"""A key path in the file: ``("columns", "debit")``, ``("rule", 2, "account")``."""

Where = Callable[[Loc], str]
"""Turns a key path into a Problem's ``where``."""


@runtime_checkable
class CrossChecked(Protocol):
    """A model with checks across keys, run after its fields are valid."""

    def problems(self) -> Iterable[tuple[Loc, str]]:
        """Return ``(key path, message)`` for everything wrong across keys."""
        ...


_ZH = {
    "missing": "缺少此项",
    "string_type": "应为文字",
    "string_too_short": "不能为空",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于零",
    "greater_than_equal": "不能为负",
    "less_than_equal": "太大",
    "list_type": "应为列表",
    "dict_type": "应为表",
    "model_type": "应为表",
    "model_attributes_type": "应为表",
    "literal_error": "不是可选值之一",
    "decimal_type": "应为金额",
    "decimal_parsing": "应为金额",
}


def unknown_key(loc: Loc) -> str:
    """The default message for a key the model does not know."""
    return f"未知的键 / unknown key {loc[-1]!r}"


def dotted(loc: Loc) -> str:
    """``("approval", 0, "above")`` → ``"approval[1].above"`` (items counted from 1)."""
    out = ""
    for part in loc:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def text_list(message: str) -> Callable[[object], object]:
    """A before-validator: the value must be a list of texts, else ``message``."""

    def check(value: object) -> object:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        raise ValueError(message)

    return check


def _message(error: Mapping[str, Any], unknown: Callable[[Loc], str]) -> str:
    kind = str(error["type"])
    if kind == "extra_forbidden":
        return unknown(_loc(error["loc"]))
    msg = str(error["msg"])
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    zh = _ZH.get(kind)
    return f"{zh} / {msg}" if zh else msg


def _ctx_unknown(error: Mapping[str, Any]) -> list[str]:
    return [str(key) for key in (error.get("ctx") or {}).get("unknown", ())]


def _loc(loc: Sequence[str | int]) -> Loc:
    """Drop pydantic's markers (``"[key]"``, ``"function-before[...]"``) from a location."""
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or "(" in p)))


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-.]+)\s*=""")


def _split_key(key: str) -> tuple[str, ...]:
    if key[:1] in "\"'":
        return (key[1:-1],)
    return tuple(part.strip() for part in key.split("."))


def key_lines(text: str) -> dict[Loc, int]:
    """Return the line (1-based) of every table header and ``key =`` in TOML ``text``.

    ``[a.b]`` gives ``("a", "b")``; the n-th ``[[rule]]`` gives ``("rule", n - 1)``;
    ``k = …`` under them gives the table's path plus ``k``.  Keys inside inline
    tables and multi-line values are not tracked (a path's nearest known parent
    is used instead).
    """
    lines: dict[Loc, int] = {}
    table: Loc = ()
    counts: dict[Loc, int] = {}
    in_string = False
    for n, line in enumerate(text.split("\n"), 1):
        if line.count('"""') % 2 or line.count("'''") % 2:
            in_string = not in_string
            if not in_string:
                continue
        if in_string:
            continue
        header = _HEADER.match(line)
        if header:
            path: Loc = (
                _split_key(header[2])
                if header[2][:1] in "\"'"
                else tuple(p.strip().strip("\"'") for p in header[2].split("."))
            )
            if header[1] == "[[":
                counts[path] = counts.get(path, -1) + 1
                path = (*path, counts[path])
            table = path
            lines.setdefault(table, n)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault((*table, *_split_key(key[1])), n)
    return lines


def _line_of(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _default_where(source: str) -> Where:
    return lambda loc: f"{source}:{'.'.join(str(p) for p in loc)}" if loc else source


def problems_of(
    model: type[M],
    data: Mapping[str, Any],
    *,
    source: str,
    subject: str,
    text: str | None = None,
    where: Where | None = None,
    unknown: Callable[[Loc], str] = unknown_key,
    in_file_order: bool = False,
) -> tuple[M | None, list[Problem]]:
    """Check ``data`` against ``model``; return the model (or None) and every problem.

    ``where`` turns a key path into the Problem's place (default
    ``"source:key.path"``); ``unknown`` words the message for an unknown key.
    With ``text`` (the TOML the data came from) each message ends with the
    key's line, and ``in_file_order`` lists the problems by that line (keys
    without one first).  A validator that refuses a whole table may name its
    unknown keys in its error's context (``{"unknown": [...]}``); each is
    reported as an unknown key too.  For callers that gather problems of
    several parts.
    """
    place = where or _default_where(source)
    lines = key_lines(text) if text is not None else {}
    found: list[tuple[Loc, str]] = []
    value: M | None = None
    try:
        value = model.model_validate(data)
    except pydantic.ValidationError as exc:
        for e in exc.errors():
            loc = _loc(e["loc"])
            # A before-validator that refuses a whole table may name its unknown keys
            # (ctx "unknown"), which would otherwise go unreported with it.
            found.extend(((*loc, key), unknown((*loc, key))) for key in _ctx_unknown(e))
            found.append((loc, _message(e, unknown)))
    if value is not None and isinstance(value, CrossChecked):
        found = list(value.problems())
        if found:
            value = None
    if in_file_order:
        found.sort(key=lambda item: _line_of(lines, item[0]) or 0)
    problems = []
    for loc, message in found:
        line = _line_of(lines, loc)
        suffix = f"（第{line}行 line {line}）" if line else ""
        problems.append(Problem(place(loc), message + suffix, subject))
    return value, problems


def validate(
    model: type[M],
    data: Mapping[str, Any],
    *,
    source: str,
    title: str,
    subject: str,
    text: str | None = None,
    where: Where | None = None,
    unknown: Callable[[Loc], str] = unknown_key,
    in_file_order: bool = False,
) -> M:
    """Check ``data`` (parsed TOML) against ``model`` and return the model.

    Raises :class:`~juzhang.errors.ProblemsError` titled ``title`` listing
    every problem (see :func:`problems_of` for the arguments).
    """
    value, problems = problems_of(
        model,
        data,
        source=source,
        subject=subject,
        text=text,
        where=where,
        unknown=unknown,
        in_file_order=in_file_order,
    )
    if value is None:
        raise ProblemsError(title, problems)
    return value


def read_text(path: str | Path, *, title: str, subject: str, where: str | None = None) -> str:
    """Read a config file's text (UTF-8).

    ``where`` names the file in problems (default: its name).  Raises
    :class:`~juzhang.errors.ProblemsError` titled ``title`` when the file is
    missing, cannot be read or is not UTF-8.
    """
    p = Path(path)
    name = where if where is not None else p.name

    def refuse(message: str) -> ProblemsError:
        return ProblemsError(title, [Problem(name, message, subject)])

    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise refuse("文件不存在 / file not found") from None
    except UnicodeDecodeError as exc:
        raise refuse(f"不是 UTF-8 文本 / not UTF-8 text: {exc}") from None
    except OSError as exc:
        raise refuse(f"无法读取 / cannot read: {exc}") from None


def parse_toml(
    text: str, *, source: str, title: str, subject: str, decimal: bool = False
) -> dict[str, Any]:
    """Parse TOML ``text``; ``decimal`` reads TOML floats as :class:`~decimal.Decimal`.

    Returns the mapping.  Raises :class:`~juzhang.errors.ProblemsError` titled
    ``title`` (the problem at ``source``) when it is not valid TOML.
    """
    try:
        return tomllib.loads(text, parse_float=Decimal if decimal else float)
    except tomllib.TOMLDecodeError as exc:
        raise ProblemsError(
            title, [Problem(source, f"不是有效的 TOML / not valid TOML: {exc}", subject)]
        ) from None


def read_toml(
    path: str | Path, *, title: str, subject: str, where: str | None = None, decimal: bool = False
) -> tuple[dict[str, Any], str]:
    """Read a TOML file (UTF-8); return the parsed mapping and the text.

    ``where`` names the file in problems (default: its name); ``decimal``
    reads TOML floats as :class:`~decimal.Decimal`.  Raises
    :class:`~juzhang.errors.ProblemsError` titled ``title`` when the file is
    missing, cannot be read, is not UTF-8 or is not valid TOML.
    """
    name = where if where is not None else Path(path).name
    text = read_text(path, title=title, subject=subject, where=where)
    return parse_toml(text, source=name, title=title, subject=subject, decimal=decimal), text


def load(
    model: type[M],
    path: str | Path,
    *,
    title: str,
    subject: str,
    where: Where | None = None,
    unknown: Callable[[Loc], str] = unknown_key,
    decimal: bool = False,
) -> M:
    """Read the TOML file ``path`` and check it against ``model``.

    Returns the model.  Raises :class:`~juzhang.errors.ProblemsError` titled
    ``title``: the file is missing, not UTF-8 or not TOML, or breaks the
    model (every problem listed, each with file, key, line and reason).
    """
    source = Path(path).name
    data, text = read_toml(path, title=title, subject=subject, decimal=decimal)
    return validate(
        model,
        data,
        source=source,
        title=title,
        subject=subject,
        text=text,
        where=where,
        unknown=unknown,
    )
