"""The global options of the command line, apart so ``juzhang --help`` imports nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_URL = "sqlite:///juzhang.db"
"""The database when neither ``--db`` nor ``JUZHANG_DB`` is given (same as the library's)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The global options: database URL and acting person."""

    url: str
    actor: str | None
