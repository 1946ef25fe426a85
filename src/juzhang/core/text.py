"""Texts and limits (文字与上限): the one table of what a text or a file may hold.

Every text that enters the books (摘要, names, counterparties, reasons …) is
checked once, at the door, by :func:`text_problem`, with the same rule on
SQLite and PostgreSQL:

* no control characters (NUL, escape, …): SQLite would store a NUL that
  PostgreSQL refuses with a bare database error; only the fields in
  :data:`MULTILINE` may hold a newline (a reopening's reason, a note);
* no bidirectional overrides or isolates (U+202A–U+202E, U+2066–U+2069),
  which make a printed 摘要 read differently from what is stored
  ("Trojan Source");
* at most :data:`TEXT_LIMITS` characters for the field (the default
  :data:`DEFAULT_TEXT_LIMIT` for a field not named).

The other limits sit here too, so that one table says what juzhang accepts:
:data:`MAX_VOUCHER_LINES` lines per voucher and :data:`MAX_FORMAT_WIDTH` for
the width or precision in a 摘要 template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "DEFAULT_TEXT_LIMIT",
    "ENTITY_CODE_PATTERN",
    "MAX_FORMAT_WIDTH",
    "MAX_VOUCHER_LINES",
    "MULTILINE",
    "TEXT_LIMITS",
    "entity_code_problem",
    "text_problem",
]

#: Characters per field.  A 记账凭证's 摘要 column holds a sentence (the printed
#: voucher has room for about 30 characters; 200 leaves room for a bank's long
#: remark copied in); names of people, communities and accounts are short.
TEXT_LIMITS: Mapping[str, int] = {
    "summary": 200,  # 摘要
    "counterparty": 200,  # 对方户名
    "reference": 100,  # 票据号、流水号
    "purpose": 200,
    "remark": 500,
    "entity_name": 100,  # 社区名称
    "user_name": 100,  # 姓名
    "login": 64,
    "account_name": 100,  # 科目名称
    "reason": 500,  # 反结账原因、作废原因
    "note": 1000,
    "question": 500,  # 居民提问
    "answer": 1000,  # 答复
}

#: A field not in :data:`TEXT_LIMITS`.
DEFAULT_TEXT_LIMIT = 500

#: Fields where a line break is legitimate (a reason or a note written on several lines).
MULTILINE = frozenset({"reason", "note", "remark", "question", "answer"})

#: Lines per voucher.  A 记账凭证 of the Ministry of Finance's standard form has
#: five or six lines and a long allocation (a month's wages) a few hundred;
#: 1,000 is far above any real voucher and keeps one voucher's memory and time
#: small (a voucher of 1,000,000 lines took 1.1 GB).
MAX_VOUCHER_LINES = 1000

#: Width and precision allowed in a 摘要 template's format spec
#: (``{summary:>400000000}`` drew 842 MB).
MAX_FORMAT_WIDTH = 200

#: A community's code (社区代码): letters, digits, ``_`` and ``-``, starting with a
#: letter or digit, at most 32 characters.  It names a folder under ``--out``, so
#: ``../x`` or ``/tmp/x`` must never be one.  The database holds the same CHECK.
ENTITY_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}\Z")

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Every character :func:`_bad_char` may refuse (and a few it lets through:
# tab, and newlines in :data:`MULTILINE` fields).  A text without any is
# good whatever the field: one regex scan instead of a Python call per
# character (a 20,000-row statement has 400,000 characters to check).
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _bad_char(ch: str, field: str) -> bool:
    if ch in _BIDI:
        return True
    code = ord(ch)
    if ch in "\n\r\t" and field in MULTILINE:
        return False
    if ch == "\t":
        return False  # a tab is read as a space by every report; harmless
    return code < 0x20 or 0x7F <= code < 0xA0


def text_problem(value: str, field: str) -> str | None:
    """Return why ``value`` may not be stored in ``field`` (bilingual), or ``None``.

    ``field`` is a key of :data:`TEXT_LIMITS` (another key gets
    :data:`DEFAULT_TEXT_LIMIT`).
    """
    limit = TEXT_LIMITS.get(field, DEFAULT_TEXT_LIMIT)
    if len(value) > limit:
        return f"文字过长（{len(value)} 字，上限 {limit}）/ text too long ({len(value)} > {limit})"
    if _SUSPECT.search(value) is None:
        return None
    for ch in value:
        if _bad_char(ch, field):
            if ch in _BIDI:
                return (
                    f"含有双向控制字符 U+{ord(ch):04X} / holds a bidirectional control"
                    f" character U+{ord(ch):04X}"
                )
            return f"含有控制字符 U+{ord(ch):04X} / holds a control character U+{ord(ch):04X}"
    return None


def entity_code_problem(code: str) -> str | None:
    """Return why ``code`` is not a valid community code, or ``None``."""
    if ENTITY_CODE_PATTERN.match(code):
        return None
    return (
        f"社区代码 {code!r} 只能由字母、数字、_ 和 - 组成（首字符为字母或数字，最多 32 个）"
        " / an entity code is letters, digits, _ and - (first a letter or digit, at most 32)"
    )
