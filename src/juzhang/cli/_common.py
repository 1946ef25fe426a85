"""Context shared by the command modules: database URL, acting user, one transaction.

The root command of :mod:`juzhang.cli` stores ``--db`` and ``--as`` on the
click context; the sub-command modules read them here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.orm import Session

from juzhang.storage.engine import make_engine, transaction


def options(ctx: typer.Context) -> tuple[str, str | None]:
    """Return the database URL and acting user set by the root command of :mod:`juzhang.cli`."""
    obj = ctx.find_root().obj
    url = getattr(obj, "url", None)
    actor = getattr(obj, "actor", None)
    if not isinstance(url, str):  # pragma: no cover - the root callback always sets it
        raise RuntimeError("juzhang.cli did not set up the command context")
    return url, actor if isinstance(actor, str) and actor else None


def actor(ctx: typer.Context) -> str:
    """Return the acting user, or stop with a usage error (exit 2)."""
    who = options(ctx)[1]
    if who is None:
        raise typer.BadParameter(
            "需要操作人：请用 --as LOGIN 或设置 JUZHANG_USER"
            " / an acting user is required: pass --as LOGIN or set JUZHANG_USER",
            ctx,
            param_hint="--as",
        )
    return who


@contextmanager
def session(ctx: typer.Context, *, write: bool = True) -> Iterator[Session]:
    """Open one database transaction on the command's database (see :func:`transaction`)."""
    engine = make_engine(options(ctx)[0])
    try:
        with transaction(engine, write=write) as s:
            yield s
    finally:
        engine.dispose()
