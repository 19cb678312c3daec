"""Real processes without a fresh interpreter's start-up: forked from a server that imported us.

A `python -m ...` child spends about a second of CPU importing trialwatch before it does
anything; the crash and multi-process tests start dozens. Here each child is forked from one
multiprocessing fork server per test process that imported `PRELOAD` once: still a separate
process with its own memory, database connections, pipes and signals (SIGKILL kills it for
real), started in milliseconds. `Forked` offers the part of `subprocess.Popen` the tests use.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import selectors
import signal
import subprocess
import sys
import time
from multiprocessing import reduction
from typing import IO, Any

__all__ = ["PRELOAD", "Forked"]

# Imported once by the fork server; children get them already loaded.
PRELOAD = ["bot.app", "bot.cli", "bot.service.run", "tests.fakes.driver", "tests.fakes.run_entry"]
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)


class _Fd:
    """A file descriptor that travels to the child (duplicated into it as it starts)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return _rebuild_fd, (reduction.DupFd(self.fd),)


def _rebuild_fd(duplicate: Any) -> _Fd:
    return _Fd(duplicate.detach())


def _child(entry: str, argv: list[str], cwd: str, env: dict[str, str], stdio: list[_Fd]) -> None:
    """In the child: take the pipes as fds 0-2, then call `entry` as its console script would."""
    for target, pipe in enumerate(stdio):
        os.dup2(pipe.fd, target)
        os.close(pipe.fd)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives as long as we do
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    module, _, function = entry.partition(":")
    sys.argv = [module, *argv]
    getattr(importlib.import_module(module), function)()


class Forked:
    """`entry` ("module:function") with `argv` in a forked child, with text pipes for stdio."""

    def __init__(
        self, entry: str, *argv: str, cwd: str | os.PathLike[str], env: dict[str, str]
    ) -> None:
        pipes = [os.pipe() for _ in range(3)]
        child_ends = [_Fd(pipes[0][0]), _Fd(pipes[1][1]), _Fd(pipes[2][1])]
        self._process = _CONTEXT.Process(
            target=_child, args=(entry, list(argv), os.fspath(cwd), env, child_ends)
        )
        try:
            self._process.start()
        finally:
            for end in child_ends:  # ours are closed, so EOF comes when the child's are
                os.close(end.fd)
        self.pid = self._process.pid
        self.stdin: IO[str] = open(pipes[0][1], "w", encoding="utf-8")  # noqa: SIM115
        self.stdout: IO[str] = open(pipes[1][0], encoding="utf-8")  # noqa: SIM115
        self.stderr: IO[str] = open(pipes[2][0], encoding="utf-8")  # noqa: SIM115
        self._read = {id(self.stdout): bytearray(), id(self.stderr): bytearray()}

    @property
    def returncode(self) -> int | None:
        """The exit code, -N for signal N, None while it runs (as `subprocess.Popen`)."""
        return self._process.exitcode

    def poll(self) -> int | None:
        """The exit code if the child has exited, else None (as `subprocess.Popen.poll`)."""
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self._process.pid or 0, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(["forked"], timeout or 0)
        return self.returncode

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """Close stdin, read stdout and stderr to their end, wait for the exit (as Popen's)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.stdin.closed:
            self.stdin.close()
        read = self._read  # kept across calls, as Popen does after a timeout
        with selectors.DefaultSelector() as selector:
            for stream in (self.stdout, self.stderr):
                if not stream.closed:
                    selector.register(stream, selectors.EVENT_READ, stream)
            while selector.get_map():
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                events = selector.select(left)
                if not events and left == 0.0:
                    raise subprocess.TimeoutExpired(["forked"], timeout or 0)
                for key, _ in events:
                    chunk = os.read(key.fd, 65536)
                    read[id(key.data)] += chunk
                    if not chunk:  # end of file: the child (and every copy of its end) closed it
                        selector.unregister(key.fileobj)
                        key.data.close()
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        self.wait(left)
        out, err = (read[id(s)].decode("utf-8", "replace") for s in (self.stdout, self.stderr))
        return out, err
