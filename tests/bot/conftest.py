"""Fixtures shared by the bot end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from tests.bot.history_world import FUSION, HistoryApi
from tests.bot.test_end_to_end import CTGOV, Registry


@pytest.fixture
def registry() -> Iterator[Registry]:
    """The recorded FUSION study and its record history, served by respx (no other URL)."""
    reg = Registry()
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.get(f"{CTGOV}/version").mock(side_effect=reg.version)
        router.get(f"{CTGOV}/studies/{FUSION}").mock(side_effect=reg.by_id)
        router.get(f"{CTGOV}/studies").mock(side_effect=reg.search)
        HistoryApi(router)
        yield reg
