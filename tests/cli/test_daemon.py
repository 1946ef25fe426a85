"""``juzhang daemon``: short commands run in a warm process, as the caller's own (cli._warm).

Real processes: the daemon, and ``juzhang`` commands with ``JUZHANG_DAEMON``
set, each compared with the same command run without it.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from juzhang.cli import _warm
from tests.conftest import World

pytestmark = pytest.mark.skipif(not _warm.supported(), reason="Linux only")

JUZHANG = str(Path(sys.executable).parent / "juzhang")
_OURS = ("JUZHANG_DB", "JUZHANG_USER", "JUZHANG_DAEMON", "JUZHANG_TODAY")


def _env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _OURS} | extra


@dataclass
class Daemon:
    """A running ``juzhang daemon`` and the lines it has logged."""

    socket: Path
    proc: subprocess.Popen[bytes]

    def next_line(self, timeout: float = 30.0) -> str:
        """The daemon's next log line (one per command it takes)."""
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, "the daemon logged nothing"
        return self.proc.stdout.readline().decode("utf-8")


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    sock = tmp_path / "jz.sock"
    proc = subprocess.Popen(
        [JUZHANG, "daemon", "--socket", str(sock)],
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=0,  # unbuffered: select() sees every line still unread
    )
    running = Daemon(sock, proc)
    try:
        assert "listening" in running.next_line()
        assert running.next_line().strip() == f"export JUZHANG_DAEMON={sock}"
        assert sock.stat().st_mode & 0o077 == 0  # its owner alone may connect
        yield running
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert not sock.exists()  # removed on the way out


def _run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[int, str, str]:
    done = subprocess.run(
        [JUZHANG, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout, done.stderr


def test_a_command_run_in_the_daemon_answers_as_it_would_alone(
    world: World, daemon: Daemon
) -> None:
    url = world.engine.url.render_as_string(hide_password=False)
    for args in (
        ["entity", "list", "--format", "json"],
        ["--as", "rv", "voucher", "list", "C001", "--format", "csv"],
        ["--as", "nobody", "voucher", "post", "C001", "--all"],  # refused: exit 1, stderr
        ["voucher", "frobnicate"],  # a usage error: exit 2
    ):
        alone = _run(args, _env(JUZHANG_DB=url))
        warm = _run(args, _env(JUZHANG_DB=url, JUZHANG_DAEMON=str(daemon.socket)))
        assert "command" in daemon.next_line()  # the daemon took it
        assert warm == alone, args
    assert alone[0] == 2


def test_the_command_runs_in_the_callers_folder_with_the_callers_environment(
    daemon: Daemon, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = _env(JUZHANG_DB="sqlite:///relative.db", JUZHANG_DAEMON=str(daemon.socket))
    code, _out, err = _run(["db", "upgrade"], env, cwd=work)
    assert code == 0, err
    assert "command" in daemon.next_line()
    assert (work / "relative.db").exists()  # the caller's folder, the caller's JUZHANG_DB
    code, out, _err = _run(["entity", "list", "--format", "json"], env, cwd=work)
    assert (code, out.strip()) == (0, "[]")


def test_without_a_daemon_the_command_runs_in_its_own_process(tmp_path: Path) -> None:
    env = _env(JUZHANG_DAEMON=str(tmp_path / "nobody-listens.sock"))
    code, out, _err = _run(["--version"], env)
    assert code == 0 and out.startswith("juzhang ")


def test_a_second_daemon_on_the_same_socket_is_refused(daemon: Daemon) -> None:
    code, _out, err = _run(["daemon", "--socket", str(daemon.socket)], _env())
    assert code == 1 and "already listening" in err
    assert daemon.socket.exists()  # the first one still serves


def test_ctrl_c_on_the_caller_interrupts_the_command(daemon: Daemon, tmp_path: Path) -> None:
    env = _env(JUZHANG_DAEMON=str(daemon.socket), JUZHANG_TODAY="2026-12-31")
    caller = subprocess.Popen(
        [JUZHANG, "demo", "--dir", str(tmp_path / "demo")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pid = int(daemon.next_line().rsplit(" ", 1)[1])
    time.sleep(0.5)
    assert caller.poll() is None, "the demo ended before it could be interrupted"
    caller.send_signal(signal.SIGINT)
    _out, err = caller.communicate(timeout=60)
    assert caller.returncode != 0
    assert "Traceback" not in err.decode("utf-8")
    with pytest.raises(ProcessLookupError):  # the command's process is gone with it
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)



def _listen_as(uid: int, path: Path, report: int) -> None:
    """In a forked child: become ``uid``, listen on ``path``, report the bytes received."""
    try:
        os.setgid(uid)
        os.setuid(uid)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen(1)
        os.write(report, b"listening\n")
        conn, _ = listener.accept()
        conn.settimeout(10)
        received = 0
        with contextlib.suppress(OSError):
            while chunk := conn.recv(65536):
                received += len(chunk)
        os.write(report, f"{received}\n".encode())
    finally:
        os._exit(0)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to listen as another user")
def test_a_socket_another_user_listens_on_gets_nothing() -> None:
    shared = Path(tempfile.mkdtemp(prefix="jz-daemon-"))  # not under pytest's 0700 folders
    try:
        shared.chmod(0o777)
        sock = shared / "not-mine.sock"
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            _listen_as(65534, sock, write)  # nobody
        os.close(write)
        with os.fdopen(read) as report:
            assert report.readline().strip() == "listening"
            code, out, err = _run(["--version"], _env(JUZHANG_DAEMON=str(sock)))
            received = report.readline().strip()
        os.waitpid(pid, 0)
        assert (code, out.split()[0]) == (0, "juzhang")  # run here instead
        assert "another user" in err
        assert received == "0"  # not a byte: no arguments, environment or descriptors
    finally:
        shutil.rmtree(shared)


def test_a_daemon_started_with_the_variable_set_runs_in_its_own_process(
    daemon: Daemon, tmp_path: Path
) -> None:
    """``juzhang daemon`` is never handed to the daemon the variable names."""
    env = _env(JUZHANG_DAEMON=str(daemon.socket))
    code, _out, err = _run(["daemon", "--socket", str(daemon.socket)], env)
    assert code == 1 and "already listening" in err  # it ran here, and found the first one
    second = tmp_path / "second.sock"
    proc = subprocess.Popen(
        [JUZHANG, "daemon", "--socket", str(second)], env=env, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None and b"listening" in proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0 and not second.exists()


def test_a_file_where_the_socket_would_go_is_left_alone(tmp_path: Path) -> None:
    kept = tmp_path / "not-a-socket.txt"
    kept.write_text("账", encoding="utf-8")
    code, _out, err = _run(["daemon", "--socket", str(kept)], _env())
    assert code == 1 and "not a socket" in err
    assert kept.read_text(encoding="utf-8") == "账"


def test_a_second_daemons_probe_leaves_no_trace_in_the_first(daemon: Daemon) -> None:
    _run(["daemon", "--socket", str(daemon.socket)], _env())
    assert "command" in daemon.next_line()  # the probe's connection, forked and ended
    code, out, _err = _run(["--version"], _env(JUZHANG_DAEMON=str(daemon.socket)))
    assert (code, out.split()[0]) == (0, "juzhang")
    assert "command" in daemon.next_line()  # the next line is the next command: no traceback
