"""``juzhang daemon``: a warm process that runs short commands (常驻进程).

See :mod:`juzhang.cli._warm`.  The agency's software, or a cashier's login,
starts it once; every ``juzhang`` run with ``JUZHANG_DAEMON`` set to its
socket then skips Python's start-up and imports (about 0.3 s a command).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from juzhang.cli import _warm


def daemon(
    path: Annotated[
        Path | None,
        typer.Option(
            "--socket",
            help="套接字 / the socket (default: $XDG_RUNTIME_DIR/juzhang.sock,"
            " else juzhang-<uid>.sock in the temporary folder)",
        ),
    ] = None,
) -> None:
    """Keep every command's modules imported and run each ``juzhang`` command sent to the socket.

    Runs until Ctrl-C or SIGTERM.  Commands use it when ``JUZHANG_DAEMON``
    names the socket; each still runs in a process of its own, with the
    caller's arguments, folder, environment, input and output.
    """
    if not _warm.supported():
        typer.echo("错误 / error: juzhang daemon 需要 Linux / needs Linux", err=True)
        raise typer.Exit(2)
    from juzhang.cli import run_command  # noqa: PLC0415 — the package that holds this module

    where = path or _warm.default_socket()
    _warm.preload()

    def ready() -> None:
        typer.echo(
            f"juzhang daemon: {len(sys.modules)} 个模块已载入 / modules loaded; 监听 / listening on"
            f" {where}\n  export {_warm.ENV}={where}"
        )
        sys.stdout.flush()

    def log(line: str) -> None:
        print(line, flush=True)

    try:
        _warm.serve(where, run_command, ready=ready, log=log)
    except FileExistsError as exc:
        typer.echo(f"错误 / error: {exc}", err=True)
        raise typer.Exit(1) from None
