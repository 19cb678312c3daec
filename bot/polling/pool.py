"""Polls in parallel: one lane per source (its topics in turn), at most `max_parallel` at once.

A lane per source keeps one source's topics from racing each other for the same host (its
pacing would serialise them anyway) and means a paced or slow host ties up one worker, not
the pool. Per-host pacing itself lives in `watchers.net.http.Http`, shared by every worker.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["run_lanes"]

T = TypeVar("T")

Job = Callable[[], T]


def run_lanes(
    lanes: Sequence[Sequence[tuple[int, Job[T]]]],
    max_parallel: int,
    on_done: Callable[[T], None] | None = None,
    stop: threading.Event | None = None,
) -> list[T]:
    """Run each lane's jobs in order, lanes in parallel; results by each job's index.

    `on_done` is called in the calling thread as each job finishes (progress lines stay on
    one thread). If a job raises, `stop` is set: no new job starts, running ones finish, and
    the error is re-raised.
    """
    total = sum(len(lane) for lane in lanes)
    if total == 0:
        return []
    done: queue.Queue[tuple[int, T] | BaseException] = queue.Queue()
    stop = stop or threading.Event()

    def drive(lane: Sequence[tuple[int, Job[T]]]) -> None:
        for index, job in lane:
            if stop.is_set():
                return
            try:
                done.put((index, job()))
            except BaseException as exc:  # handed to the caller's thread, which re-raises it
                done.put(exc)
                return

    results: dict[int, T] = {}
    workers = max(1, min(max_parallel, len(lanes)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poll") as pool:
        try:
            for lane in lanes:
                pool.submit(drive, lane)
            while len(results) < total:
                item = done.get()
                if isinstance(item, BaseException):
                    raise item
                index, result = item
                results[index] = result
                if on_done is not None:
                    on_done(result)
        finally:
            stop.set()  # on error or Ctrl-C: lanes finish the poll in hand, start no other
    return [results[index] for index in sorted(results)]
