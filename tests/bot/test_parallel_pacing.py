"""Per-host pacing holds across parallel workers; a paced host holds up no other host."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from bot.polling.pool import run_lanes
from watchers.net.http import Http

_PATIENCE = 10.0


@pytest.fixture
def web() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.get(url__regex=r"https://[a-z]+\.example/.*").respond(200, text="ok")
        yield router


def test_one_host_gets_its_gap_across_workers_other_hosts_do_not_wait(
    web: respx.MockRouter,
) -> None:
    waits: dict[str, list[float]] = {}
    lock = threading.Lock()
    local = threading.local()

    def sleep(seconds: float) -> None:  # time stands still: every wait is a reserved slot
        with lock:
            waits.setdefault(local.host, []).append(seconds)

    http = Http(
        httpx.Client(),
        min_interval=0.0,
        host_intervals={"paced.example": 1.0, "sec.example": 0.1},
        sleep=sleep,
        monotonic=lambda: 50.0,
    )

    def get(host: str, n: int) -> Callable[[], str]:
        def job() -> str:
            local.host = host
            return http.get(f"https://{host}/{n}").text

        return job

    hosts = ("paced", "sec", "open")
    lanes = [[(i * 4 + n, get(f"{h}.example", n))] for i, h in enumerate(hosts) for n in range(4)]
    assert run_lanes(lanes, 12) == ["ok"] * 12  # twelve workers, four per host, all at once
    assert sorted(waits["paced.example"]) == [1.0, 2.0, 3.0]  # one a second, whoever asks
    assert sorted(waits["sec.example"]) == pytest.approx([0.1, 0.2, 0.3])
    assert "open.example" not in waits  # pacing off for the rest: nobody waited


def test_a_paced_host_holds_up_nobody_else(web: respx.MockRouter) -> None:
    others_done = threading.Event()

    def sleep(_seconds: float) -> None:  # the paced host's pause lasts until the others finish
        assert others_done.wait(_PATIENCE)

    http = Http(
        httpx.Client(),
        min_interval=0.0,
        host_intervals={"paced.example": 3600.0},
        sleep=sleep,
        monotonic=lambda: 0.0,
    )
    finished: list[str] = []

    def done(url: str) -> None:
        finished.append(url)
        if sum(u.startswith("https://free") for u in finished) == 3:
            others_done.set()

    def get(url: str) -> Callable[[], str]:
        return lambda: str(http.get(url).url)

    paced = [(0, get("https://paced.example/1")), (1, get("https://paced.example/2"))]
    free = [(2 + n, get(f"https://free.example/{n}")) for n in range(3)]
    run_lanes([paced, free], 2, done)
    assert finished.index("https://paced.example/2") == len(finished) - 1
