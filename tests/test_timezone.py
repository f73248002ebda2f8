"""Reading what people type as a timezone, naming zones, and showing local times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.timezone import format_local, parse_timezone, zone_label


@pytest.mark.parametrize(("text", "zone"), [
    ("Berlin", "Europe/Berlin"),
    ("  BERLIN ", "Europe/Berlin"),
    ("new york", "America/New_York"),
    ("New   York", "America/New_York"),
    ("new_york", "America/New_York"),
    ("Tokyo", "Asia/Tokyo"),
    ("Europe/Paris", "Europe/Paris"),
    ("europe/paris", "Europe/Paris"),
    ("America/New_York", "America/New_York"),
    ("UTC+2", "Etc/GMT-2"),
    ("utc+2", "Etc/GMT-2"),
    ("UTC +2", "Etc/GMT-2"),
    ("GMT+2", "Etc/GMT-2"),
    ("+2", "Etc/GMT-2"),
    ("UTC+02:00", "Etc/GMT-2"),
    ("UTC-5", "Etc/GMT+5"),
    ("UTC+14", "Etc/GMT-14"),
    ("UTC-12", "Etc/GMT+12"),
    ("utc", "UTC"),
    ("UTC", "UTC"),
    ("GMT", "UTC"),
    ("UTC+0", "UTC"),
])
def test_parse_timezone_understands_cities_zones_and_offsets(text: str, zone: str) -> None:
    assert parse_timezone(text) == zone
    ZoneInfo(zone)  # every answer must be loadable


@pytest.mark.parametrize("text", ["", "   ", "Atlantis", "UTC+15", "UTC-15", "UTC+5:30",
                                  "UTC++2", "Europe/", "12345", "x" * 65, "Berlin; DROP"])
def test_parse_timezone_garbage_is_rejected_with_example(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_timezone(text)
    message = info.value.user_message
    assert "Berlin" in message and "Europe/Paris" in message and "UTC+2" in message


def test_parse_timezone_offset_beyond_14_names_the_range() -> None:
    with pytest.raises(InvalidInput, match=r"-12 to \+14"):
        parse_timezone("UTC+15")


@given(hours=st.integers(-12, 14))
def test_parse_timezone_offset_gives_zone_with_that_offset(hours: int) -> None:
    zone = ZoneInfo(parse_timezone(f"UTC{hours:+d}"))
    assert datetime(2027, 7, 1, tzinfo=zone).utcoffset() == timedelta(hours=hours)
    assert datetime(2027, 1, 1, tzinfo=zone).utcoffset() == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["UTC-13", "UTC-14"])
def test_parse_timezone_offset_below_minus_12_is_rejected(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_timezone(text)


@pytest.mark.parametrize(("zone", "label"), [
    ("Europe/Berlin", "Berlin"),
    ("America/New_York", "New York"),
    ("America/Argentina/Buenos_Aires", "Buenos Aires"),
    ("Etc/GMT-2", "UTC+2"),
    ("Etc/GMT+5", "UTC-5"),
    ("Etc/GMT-14", "UTC+14"),
    ("UTC", "UTC"),
])
def test_zone_label_shows_city_or_offset(zone: str, label: str) -> None:
    assert zone_label(zone) == label


@given(hours=st.integers(-12, 14).filter(bool))
def test_zone_label_of_offset_zone_parses_back_to_same_zone(hours: int) -> None:
    zone = parse_timezone(f"UTC{hours:+d}")
    assert zone_label(zone) == f"UTC{hours:+d}"
    assert parse_timezone(zone_label(zone)) == zone


@pytest.mark.parametrize("zone", ["Etc/GMT", "Etc/GMT+0"])
def test_zone_label_of_zero_offset_etc_zone_is_utc(zone: str) -> None:
    assert zone_label(zone) == "UTC"


@pytest.mark.parametrize(("moment", "zone", "text"), [
    (datetime(2026, 11, 23, 17, 0, tzinfo=UTC), "Europe/Berlin", "Mon 23 Nov 18:00"),
    (datetime(2026, 11, 23, 17, 0, tzinfo=UTC), "Asia/Tokyo", "Tue 24 Nov 02:00"),
    (datetime(2026, 11, 23, 17, 0, tzinfo=UTC), "America/New_York", "Mon 23 Nov 12:00"),
    (datetime(2026, 11, 23, 17, 0, tzinfo=UTC), "Etc/GMT-2", "Mon 23 Nov 19:00"),
    (datetime(2027, 7, 1, 16, 0, tzinfo=UTC), "Europe/Berlin", "Thu 01 Jul 18:00"),
])
def test_format_local_shows_time_in_the_zone(moment: datetime, zone: str, text: str) -> None:
    assert format_local(moment, zone) == text


def test_format_local_without_date_shows_only_the_time() -> None:
    moment = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert format_local(moment, "Europe/Berlin", with_date=False) == "18:00"


@pytest.mark.parametrize(("text", "zone"), [("Etc/GMT-2", "Etc/GMT-2"), ("etc/gmt+5", "Etc/GMT+5"),
                                            ("EST5EDT", "EST5EDT")])
def test_parse_timezone_accepts_any_exact_iana_name(text: str, zone: str) -> None:
    assert parse_timezone(text) == zone
