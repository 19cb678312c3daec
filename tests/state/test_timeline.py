"""A trial's timeline from its registry versions, and which move a live date change is."""

from __future__ import annotations

from state.fields import humanize_enum
from state.poll.diff import diff
from state.timeline import annotate_moves, ordinal, shift_words, timeline_lines
from state.types import StoredObservation
from tests.bot.history_world import FUSION, history_list, version_body
from tests.factories import T0, result, trial
from watchers.ctgov.history import RegistryVersion, VersionEntry, parse_version


def fusion_versions() -> list[RegistryVersion]:
    entries = [
        VersionEntry(c["version"], c["date"], c["status"], tuple(c["moduleLabels"]))
        for c in history_list()["changes"]
    ]
    return [parse_version(version_body(FUSION, e.version), FUSION, e) for e in entries]


def test_timeline_shows_status_changes_and_each_dates_moves_with_total_slip() -> None:
    lines = timeline_lines(fusion_versions(), status_words=humanize_enum)
    assert lines == [
        "Registry history: 4 versions, 2021-02-22 to 2025-03-10",
        "Status: Not yet recruiting (2021-02-22) -> Recruiting (2021-06-15)",
        "Start moved once: 2021-06 (est.) -> 2021-06-14 (actual, 2021-06-15)",
        "Primary completion moved twice: 2023-06 (est.) -> 2025-06 (est., 2023-02-01) "
        "-> 2026-09 (est., 2025-03-10) (39 months later in total)",
        "Completion moved twice: 2023-12 (est.) -> 2025-12 (est., 2023-02-01) "
        "-> 2028-12 (est., 2025-03-10) (60 months later in total)",
    ]


def test_a_date_that_never_moved_says_so_and_no_history_says_nothing() -> None:
    assert "Primary completion: 2023-06 (est.), never moved" in timeline_lines(
        fusion_versions()[:2]
    )
    assert timeline_lines([]) == []


def test_a_live_date_move_says_which_move_it_is() -> None:
    before = StoredObservation(trial(), first_seen=T0, last_seen=T0, last_changed=T0)
    moved = trial(primary_completion_date="2026-12 (estimated)")
    changes = diff({FUSION: before}, result(moved))
    [change] = annotate_moves(changes, {FUSION: fusion_versions()})
    assert [fc.text for fc in change.field_changes] == [
        "Primary completion: 2026-09 (estimated) → 2026-12 (estimated) "
        "(3rd move, 3 months later; 42 months later than first registered; "
        "now estimated to the month)"
    ]
    # Without history, the alert still says how sure the moved date is.
    [change] = annotate_moves(changes, {})
    assert [fc.text for fc in change.field_changes] == [
        "Primary completion: 2026-09 (estimated) → 2026-12 (estimated) (now estimated to the month)"
    ]


def moved(before: str, after: str) -> str:
    """The alert line of a live primary completion move from `before` to `after`, no history."""
    stored = StoredObservation(
        trial(primary_completion_date=before), first_seen=T0, last_seen=T0, last_changed=T0
    )
    [change] = annotate_moves(
        diff({FUSION: stored}, result(trial(primary_completion_date=after))), {}
    )
    [line] = [fc.text for fc in change.field_changes]
    return line


def test_a_date_moving_30_days_or_more_says_how_sure_the_new_date_is() -> None:
    assert moved("2026-09-01 (estimated)", "2026-09-29 (estimated)").endswith("(estimated)")
    assert moved("2026-09-01 (estimated)", "2026-10-01 (estimated)").endswith(
        "(now estimated to the day)"
    )
    assert moved("2026-09-14 (estimated)", "2026-12-31 (estimated)").endswith("(now placeholder)")
    assert moved("2026-09-14 (estimated)", "2027-01-01 (estimated)").endswith("(now placeholder)")
    assert moved("2026-09 (estimated)", "2025-06-14 (actual)").endswith("(now actual)")


def test_an_actual_date_going_back_to_an_estimate_says_so_even_when_close() -> None:
    assert moved("2026-09-14 (actual)", "2026-09-20 (estimated)").endswith(
        "(back to an estimate: now estimated to the day)"
    )
    assert moved("2026-09-14 (actual)", "2026-09 (estimated)").endswith(
        "(back to an estimate: now estimated to the month)"
    )


def test_ordinals() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
    ]


def test_the_live_record_adds_its_move_so_the_lines_agree_with_the_chart() -> None:
    moved = trial(primary_completion_date="2026-12 (estimated)")
    changed = T0.replace(year=2026, month=11, day=2)
    live = StoredObservation(
        moved,
        first_seen=T0,
        last_seen=changed,
        last_changed=changed,
        field_changed_at={"primary_completion_date": changed},
    )
    lines = timeline_lines(fusion_versions(), status_words=humanize_enum, live=live)
    assert (
        "Primary completion moved 3 times: 2023-06 (est.) -> 2025-06 (est., 2023-02-01) "
        "-> 2026-09 (est., 2025-03-10) -> 2026-12 (est., live 2026-11-02) "
        "(42 months later in total)"
    ) in lines
    # Dates the live record gives as the newest version did are not moves.
    assert (
        "Completion moved twice: 2023-12 (est.) -> 2025-12 (est., 2023-02-01) "
        "-> 2028-12 (est., 2025-03-10) (60 months later in total)"
    ) in lines
    assert "Start moved once: 2021-06 (est.) -> 2021-06-14 (actual, 2021-06-15)" in lines


def test_a_date_moved_earlier_says_earlier_in_words_singular_or_plural() -> None:
    before = StoredObservation(trial(), first_seen=T0, last_seen=T0, last_changed=T0)
    earlier = trial(primary_completion_date="2026-08 (estimated)")  # was 2026-09
    [change] = annotate_moves(diff({FUSION: before}, result(earlier)), {FUSION: fusion_versions()})
    assert change.field_changes[0].text.endswith(
        "(3rd move, 1 month earlier; 38 months later than first registered; "
        "now estimated to the month)"
    )
    # Before the first registered date (2023-06): the total slip is earlier too.
    live = StoredObservation(
        trial(primary_completion_date="2023-04 (estimated)"),
        first_seen=T0,
        last_seen=T0,
        last_changed=T0,
    )
    lines = timeline_lines(fusion_versions(), live=live)
    assert any(
        line.endswith("-> 2023-04 (est., live) (2 months earlier in total)") for line in lines
    )
    assert not any("-1 " in line or "-2 " in line or "+" in line for line in lines)


def test_shift_words_for_both_signs() -> None:
    assert [shift_words(n) for n in (1, 3, -1, -14, 0)] == [
        "1 month later",
        "3 months later",
        "1 month earlier",
        "14 months earlier",
        "the same month",
    ]
