"""The embedded defaults on loopback for bench/day_of_service.py, and urlwatch's cron lines."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

DEFAULTS = Path(__file__).resolve().parents[1] / "bot" / "default_config.toml"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(text: str) -> float:
    """A configured interval ("15m", "1h", "90") in seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text.strip())
    if match is None:
        raise ValueError(f"not an interval: {text!r}")
    return float(match[1]) * UNITS[match[2] or "s"]


def day_config(
    defaults: str,
    *,
    web_port: int,
    scale: float,
    topics: int,
    db: Path,
    server_port: int,
    pace: float | None = None,
) -> str:
    """The embedded defaults on loopback: each real host one 127.0.0.x address, plain HTTP,
    intervals divided by `scale` and pacing by `pace` (default: `scale`), `topics` topics."""
    hosts: dict[str, str] = {}

    def scaled(interval: str) -> str:
        # The service schedules in whole seconds of grace: it refuses a job under one second.
        if (wall := seconds(interval) / scale) < 1:
            raise ValueError(f"--scale {scale:g} makes {interval} {wall:.2f} s: under 1 s")
        return f"{wall:.3f}"

    def loopback(match: re.Match[str]) -> str:
        address = hosts.setdefault(match[1], f"127.0.0.{2 + len(hosts)}")
        return f"http://{address}:{web_port}"

    text = re.sub(r"https://([^/\"]+)", loopback, defaults)
    text = re.sub(
        r'^interval = "([^"]+)"', lambda m: f"interval = {scaled(m[1])}", text, flags=re.MULTILINE
    )
    text = text.replace('url = "sqlite:///trialwatch.db"', f'url = "sqlite:///{db}"')
    text = text.replace("port = 8080", f"port = {server_port}")
    more = "".join(f'[[topics]]\nname = "drug-{n:02d}"\n\n' for n in range(2, topics + 1))
    text = text.replace("[sources.clinicaltrials]", f"{more}[sources.clinicaltrials]", 1)
    return f"{text}\n[http]\nmin_interval = {1 / (pace or scale):.4f}\n"


def source_intervals(config: str, scale: float) -> dict[str, float]:
    """Each configured source URL and its simulated interval in seconds (a `day_config` text)."""
    sources = tomllib.loads(config)["sources"]
    out: dict[str, float] = {}
    for entry in [s for v in sources.values() for s in (v if isinstance(v, list) else [v])]:
        url = entry.get("base_url") or entry.get("url")
        if url and entry.get("enabled", True):
            out[str(url)] = round(float(entry["interval"]) * scale)
    return out


def cron_lines(urls: list[str], intervals: dict[str, float]) -> dict[float, list[str]]:
    """Fetched URLs grouped by the interval of the source whose URL is their longest prefix."""
    lines: dict[float, list[str]] = {}
    for url in sorted(urls):
        owners = [source for source in intervals if url.startswith(source)]
        if owners:
            lines.setdefault(intervals[max(owners, key=len)], []).append(url)
    return dict(sorted(lines.items()))
