"""Reading availability the way teachers type it."""

from __future__ import annotations

from datetime import date

import pytest

from core.availability_text import (
    PRESETS,
    describe_windows,
    parse_date,
    parse_override,
    parse_windows,
)
from core.errors import InvalidInput
from core.windows import Override, Window

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(("text", "windows"), [
    ("mon-fri 18:00-21:00", [Window(d, 1080, 1260) for d in range(5)]),
    ("sat 10-12", [Window(5, 600, 720)]),
    ("mon-fri 18:00-21:00, sat 10-12", [*(Window(d, 1080, 1260) for d in range(5)),
                                        Window(5, 600, 720)]),
    ("weekends 9am-1pm", [Window(5, 540, 780), Window(6, 540, 780)]),
    ("mon, wed 9-1pm", [Window(0, 540, 780), Window(2, 540, 780)]),
    ("tue 9-10 10-12", [Window(1, 540, 720)]),
    ("daily 22:00-24:00", [Window(d, 1320, 1440) for d in range(7)]),
    ("fri-mon 8.30-9.30", [Window(d, 510, 570) for d in (0, 4, 5, 6)]),
    ("Thursday 7–8", [Window(3, 420, 480)]),
])
def test_typed_hours_become_weekly_windows(text: str, windows: list[Window]) -> None:
    assert parse_windows(text) == windows


@pytest.mark.parametrize("text", ["", "   ", "blah", "mon", "18-21", "mon 25-26", "mon 21-18",
                                  "xyz 10-12", "mon 10:75-11", "mon 13pm-14", "mon 24-25",
                                  "x" * 600])
def test_unreadable_hours_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(InvalidInput, match="mon-fri 18:00-21:00"):
        parse_windows(text)


def test_windows_read_back_grouped_by_day() -> None:
    windows = parse_windows("mon-fri 18-21; sat 10-12 14-16")
    assert describe_windows(windows) == ["Mon–Fri 18:00–21:00", "Sat 10:00–12:00, 14:00–16:00"]


def test_every_preset_parses() -> None:
    for label, text in PRESETS.values():
        assert parse_windows(text), label


@pytest.mark.parametrize(("text", "expected"), [
    ("dec 24", Override(date(2026, 12, 24), "blocked")),
    ("24/12", Override(date(2026, 12, 24), "blocked")),
    ("2026-12-24 14-18", Override(date(2026, 12, 24), "blocked", 840, 1080)),
    ("extra 27 dec 10-12", Override(date(2026, 12, 27), "extra", 600, 720)),
    ("jan 3", Override(date(2027, 1, 3), "blocked")),  # already past this year: next year
    ("tomorrow", Override(date(2026, 11, 23), "blocked")),
])
def test_days_off_and_extra_hours_are_read(text: str, expected: Override) -> None:
    assert parse_override(text, TODAY) == expected


@pytest.mark.parametrize("text", ["dec 32", "13/13", "extra dec 27", "smarch 3", "dec 24 25-26"])
def test_unreadable_dates_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_override(text, TODAY)


def test_dates_in_the_past_roll_to_next_year() -> None:
    assert parse_date("nov 21", TODAY) == date(2027, 11, 21)
    assert parse_date("nov 22", TODAY) == date(2026, 11, 22)
