"""The processes bench/day_of_service.py starts, and how it watches and always stops them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    from bench.vs_urlwatch import BENCH, CONTROL, free_port
except ModuleNotFoundError:  # run as `python bench/day_of_service.py`: bench/ is on sys.path
    from vs_urlwatch import BENCH, CONTROL, free_port  # type: ignore[no-redef]

STOP_GRACE = 20.0  # seconds a child gets to stop on SIGTERM (the service's own budget is 8)


def stop(child: subprocess.Popen[Any], grace: float = STOP_GRACE) -> None:
    """End a child that still runs: SIGTERM, then SIGKILL after `grace` seconds; reap it."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(grace)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(10)


@contextmanager
def started(command: Sequence[str], **popen: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A child process for the body's length: stopped however the body ends (Ctrl-C included)."""
    child: subprocess.Popen[bytes] = subprocess.Popen(command, **popen)
    try:
        yield child
    finally:
        stop(child)


def raise_on_sigterm() -> None:
    """`kill` of the benchmark unwinds like Ctrl-C, so every `finally` stops its children."""

    def interrupted(_signal: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)


class DayWebProcess:
    """bench/day_web.py in its own process (its CPU is nobody's)."""

    def __init__(self, hosts: int, scale: float) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "day_web.py"), "--port", str(self.port),
             "--hosts", str(hosts), "--scale", str(scale)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            stop(self.process)
            raise RuntimeError("day web did not start")

    def call(self, path: str) -> dict[str, object]:
        with urllib.request.urlopen(f"http://{CONTROL}:{self.port}{path}", timeout=10) as answer:
            result: dict[str, object] = json.loads(answer.read())
            return result

    def requests(self) -> int:
        """Requests answered since the last /_reset."""
        count = self.call("/_stats")["requests"]
        assert isinstance(count, int)
        return count

    def stop(self) -> None:
        stop(self.process, grace=10)


def cpu_seconds(pid: int) -> float:
    """utime + stime + reaped children's, in seconds, of a live process and every live
    descendant (trialwatch's parse workers and their forkserver work for it)."""
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended between the listing and the read
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The VmHWM of the process and its live descendants, summed (an upper bound)."""
    total = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def process_tree(pid: int) -> list[int]:
    """`pid` and its live descendants, from /proc's parent links."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        member = todo.pop()
        tree.append(member)
        todo.extend(children.get(member, []))
    return tree


def wait_alive(child: subprocess.Popen[bytes], until: float, log: Path) -> None:
    """Wait until the monotonic time `until`; a service that exits meanwhile is an error."""
    while time.monotonic() < until:
        _check_alive(child, log)
        time.sleep(0.5)
    _check_alive(child, log)


def wait_listening(child: subprocess.Popen[bytes], port: int, log: Path, limit: float) -> None:
    """Wait (at most `limit` s) until the service answers on its port: it has started."""
    until = time.monotonic() + limit
    while time.monotonic() < until:
        _check_alive(child, log)
        try:
            with urllib.request.urlopen(f"http://{CONTROL}:{port}/healthz", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # an answer, even "unhealthy", means it is up
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"trialwatch run did not answer on {port} within {limit:.0f} s")


def wait_quiet(
    child: subprocess.Popen[bytes], web: DayWebProcess, log: Path, quiet: float, limit: float
) -> None:
    """Wait (at most `limit` s) until the web has seen no request for `quiet` seconds."""
    until = time.monotonic() + limit
    seen, since = web.requests(), time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > until:
            raise RuntimeError(f"the service kept polling for {limit:.0f} s: never idle")
        wait_alive(child, time.monotonic() + 1.0, log)
        if (now := web.requests()) != seen:
            seen, since = now, time.monotonic()


def _check_alive(child: subprocess.Popen[bytes], log: Path) -> None:
    if child.poll() is not None:
        raise RuntimeError(f"trialwatch run exited: {log.read_text()[-2000:]}")
