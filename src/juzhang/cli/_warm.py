"""A warm process for short commands (常驻进程): ``juzhang daemon``, and ``juzhang`` using it.

A cashier's ``custody accept-statement`` of 300 lines does about 0.05 s of
work and spends 0.3 s (SQLite) to 0.35 s (PostgreSQL) starting Python and
importing SQLAlchemy, the database driver and the command's code, in every
process (``docs/performance.md``).  ``juzhang daemon`` pays that once: it
imports every command's modules and then waits on a Unix socket.  A
``juzhang`` started with ``JUZHANG_DAEMON`` naming that socket does not run
the command itself: it passes its arguments, working folder, environment and
its own stdin, stdout and stderr to the daemon, which forks a child for the
command.  The child is a process of its own, as a plain ``juzhang`` would be:
it reads and writes the caller's terminal or files directly (the file
descriptors travel with the request), sees the caller's environment
(``JUZHANG_DB``, ``JUZHANG_USER``, …) and folder, opens its own database
connection, and its exit status becomes the caller's.  Ctrl-C on the caller
interrupts the child.

Nothing is shared between commands but the imported modules: the daemon
never connects to a database, and every command starts from the state the
imports left.  Only the same operating-system user can use the socket (it
is created readable and writable by its owner alone), so the daemon gives
no one a right they did not have.  With ``JUZHANG_DAEMON`` unset, or naming
a socket no daemon listens on, ``juzhang`` runs the command itself as
before.  Both ends check the other's user id (``SO_PEERCRED``): a socket
another user listens on gets nothing.  Linux (``fork``, descriptor passing
and peer credentials); elsewhere ``juzhang`` runs every command itself.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import json
import os
import signal
import socket
import stat
import struct
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

ENV = "JUZHANG_DAEMON"
"""Environment variable naming the daemon's socket; ``juzhang`` uses the daemon when it is set."""

_HEADER = struct.Struct("!I")
_STATUS = struct.Struct("!i")
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

PRELOADED = ("sqlalchemy", "sqlalchemy.dialects.sqlite", "juzhang.storage.engine")
"""Modules the daemon imports besides every command's module."""

OPTIONAL = ("psycopg", "sqlalchemy.dialects.postgresql.psycopg")
"""Imported when installed (PostgreSQL's driver is an extra)."""


def supported() -> bool:
    """Whether this system can run the daemon: ``fork``, descriptor passing, peer credentials."""
    return all(
        hasattr(m, a) for m, a in ((socket, "send_fds"), (os, "fork"), (socket, "SO_PEERCRED"))
    )


def _peer_uid(sock: socket.socket) -> int:
    """The user id of the process at the other end of a Unix socket (``SO_PEERCRED``)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size)
    return int(_CREDENTIALS.unpack(raw)[1])


def default_socket() -> Path:
    """Return the socket path ``juzhang daemon`` uses by default.

    ``$XDG_RUNTIME_DIR/juzhang.sock`` (a folder only its user can enter) when
    set, else ``juzhang-<uid>.sock`` in the temporary folder.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "juzhang.sock"
    import tempfile  # noqa: PLC0415 — start-up time

    return Path(tempfile.gettempdir()) / f"juzhang-{os.getuid()}.sock"


# --------------------------------------------------------------------------- the caller


def forward(argv: Sequence[str]) -> int | None:
    """Run ``argv`` in the daemon named by :data:`ENV`; return its exit status.

    ``None`` when there is no daemon to run it (the variable is unset, or
    nothing listens on the socket): the caller runs the command itself.
    """
    path = os.environ.get(ENV)
    if not path or not supported():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        if _peer_uid(sock) != os.getuid():  # never hand the environment to someone else
            print(
                f"注意 / warning: {ENV}={path} 由另一个用户监听，命令在本进程运行"
                " / is another user's socket: the command runs here",
                file=sys.stderr,
            )
            sock.close()
            return None
        body = json.dumps({"argv": list(argv), "cwd": os.getcwd(), "env": dict(os.environ)}).encode(
            "utf-8"
        )
        socket.send_fds(sock, [_HEADER.pack(len(body))], [0, 1, 2])
        sock.sendall(body)
        pid = _HEADER.unpack(_exactly(sock, _HEADER.size))[0]
    except OSError:
        sock.close()
        return None  # no daemon (or it went away before it took the command)
    with sock:
        return _wait(sock, pid)


def _wait(sock: socket.socket, pid: int) -> int:
    """Pass Ctrl-C and termination on to the child; return its exit status."""

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    previous = {s: signal.signal(s, pass_on) for s in _FORWARDED}
    try:
        return int(_STATUS.unpack(_exactly(sock, _STATUS.size))[0])
    except OSError:  # the child died without a word (killed)
        print(
            "错误 / error: juzhang daemon 的子进程意外结束 / the command's process ended",
            file=sys.stderr,
        )
        return 1
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        part = sock.recv(n - len(data))
        if not part:
            raise ConnectionError("closed")
        data += part
    return data


# --------------------------------------------------------------------------- the daemon


def preload() -> None:
    """Import every command's module and the database layers (the driver when installed)."""
    from juzhang.cli import COMMANDS  # noqa: PLC0415 — the daemon's own start

    for name in (*PRELOADED, *sorted({f"juzhang.cli.{m}" for _c, m, _a, _h in COMMANDS})):
        importlib.import_module(name)
    for name in OPTIONAL:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def serve(
    path: Path,
    run: Callable[[list[str]], int],
    *,
    ready: Callable[[], None],
    log: Callable[[str], None],
) -> None:
    """Listen on ``path`` and run each request's command in a child; until SIGTERM or Ctrl-C.

    ``log`` gets a line for each command taken (its number and the child's
    process id; never its arguments, which may hold a database password).

    Raises:
        FileExistsError: a daemon already listens on ``path``, or ``path`` is
            something other than a socket (it is never removed then).
    """
    if path.is_symlink() or (path.exists() and not stat.S_ISSOCK(path.stat().st_mode)):
        raise FileExistsError(f"{path} exists and is not a socket")
    if path.exists():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # left by a daemon that ended without removing it
        else:
            raise FileExistsError(f"juzhang daemon is already listening on {path}")
        finally:
            probe.close()
    gc.collect()
    gc.freeze()  # the children share the imported modules' pages with the daemon
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mask = os.umask(0o177)  # the socket: its owner alone may connect
    try:
        listener.bind(str(path))
    finally:
        os.umask(mask)
    listener.listen(64)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    served = 0
    try:  # a SIGTERM from the moment the socket exists removes it on the way out
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
        ready()
        while True:
            conn, _ = listener.accept()  # retried by Python when a signal interrupts it
            if _peer_uid(conn) != os.getuid():  # the socket's mode should prevent it
                conn.close()
                log("juzhang daemon: 拒绝其他用户 / refused another user's command")
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                _child(conn, run)  # never returns
            conn.close()
            served += 1
            log(f"juzhang daemon: 命令 / command {served} → pid {pid}")
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _child(conn: socket.socket, run: Callable[[list[str]], int]) -> None:
    """Take the request, become the caller's process, run the command, report its status."""
    os.setsid()  # not in the daemon's terminal: a Ctrl-C there stops the daemon alone
    for s in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        conn.sendall(_HEADER.pack(os.getpid()))  # first: the caller waits for it, then the status
        head, fds, _flags, _addr = socket.recv_fds(conn, _HEADER.size, 3)
        if len(head) < _HEADER.size:
            head += _exactly(conn, _HEADER.size - len(head))
        request = json.loads(_exactly(conn, _HEADER.unpack(head)[0]).decode("utf-8"))
    except (OSError, ValueError):  # no command came (a second daemon's probe): nobody to tell
        os._exit(0)
    code = 1
    try:
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ.pop(ENV, None)
        if hasattr(time, "tzset"):
            time.tzset()
        _new_stdio()
        code = run(list(request["argv"]))
    except BaseException:  # the child must always report and end
        import traceback  # noqa: PLC0415

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        with contextlib.suppress(OSError):
            conn.sendall(_STATUS.pack(code))
        os._exit(code & 0xFF if code >= 0 else 1)


def _new_stdio() -> None:
    """Point ``sys.stdin``/``stdout``/``stderr`` at descriptors 0–2 (now the caller's)."""
    encoding = os.environ.get("PYTHONIOENCODING", "").split(":")[0] or sys.stdout.encoding
    sys.stdin = io.TextIOWrapper(
        io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding=encoding
    )
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(fd, "w", closefd=False)),
            encoding=encoding,
            errors="backslashreplace" if fd == 2 else "strict",
            line_buffering=fd == 2 or os.isatty(fd),
        )
        setattr(sys, name, stream)
