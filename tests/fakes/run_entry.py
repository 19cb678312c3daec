"""`trialwatch run` for a forked test process (tests/fakes/forked.py), first poll at once.

The service normally waits FIRST_POLL_DELAY seconds before its first poll; a test that needs the
poll to start never waits on the real clock for it.
"""

from __future__ import annotations

import bot.service.scheduler as scheduler
from bot.cli import main

__all__ = ["run_at_once"]


def run_at_once() -> None:
    """`trialwatch ARGS` as its console script runs it, with the first poll due at once."""
    scheduler.FIRST_POLL_DELAY = 0.0
    main()
