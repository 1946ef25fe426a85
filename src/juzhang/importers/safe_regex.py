"""Safe regular expressions (安全正则) for the categorisation rules.

A rule's ``counterparty_regex = "^(a+)+$"`` made Python's backtracking
engine take 161 s on one statement line (ReDoS).  Rule expressions are
compiled with RE2 (the ``google-re2`` package, module ``re2``), which runs
in time linear in the text whatever the pattern: there is no catastrophic
pattern to refuse, only what RE2 cannot do at all (backreferences ``\\1`` and
lookarounds ``(?=…)``, ``(?<!…)``), refused when the rules are loaded.  A
pattern is also at most :data:`MAX_PATTERN_LENGTH` characters and RE2 gets
a memory budget (:data:`MAX_PATTERN_MEMORY`).

This module is the only one that imports ``re2`` (STYLE.md §8).
"""

from __future__ import annotations

from typing import Protocol

import re2

__all__ = ["MAX_PATTERN_LENGTH", "MAX_PATTERN_MEMORY", "SearchPattern", "compile_safe"]

#: Characters in one rule's expression; real ones are a few dozen.
MAX_PATTERN_LENGTH = 500

#: RE2's memory budget for one compiled expression (bytes).
MAX_PATTERN_MEMORY = 1 << 20


class SearchPattern(Protocol):
    """What a rule needs of a compiled expression: ``search``."""

    def search(self, text: str) -> object | None:
        """Return a match object, or ``None`` where nothing matches."""
        ...


def compile_safe(pattern: str) -> SearchPattern:
    """Compile ``pattern`` with RE2; return it.

    Raises:
        ValueError: too long, or RE2 refuses it; the message is bilingual and
            says why (backreferences and lookarounds are not supported).
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(
            f"正则表达式过长（上限 {MAX_PATTERN_LENGTH} 字）/ the expression is longer than"
            f" {MAX_PATTERN_LENGTH} characters"
        )
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PATTERN_MEMORY
    try:
        compiled: SearchPattern = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise ValueError(
            f"{text}（不支持反向引用和前后断言 / backreferences and lookarounds are not supported)"
        ) from None
    return compiled
