"""Understanding what people type as a timezone, and showing times in theirs."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from core.errors import InvalidInput

_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?00)?$", re.IGNORECASE)
_EXAMPLE = "Type a city such as Berlin or New York, a zone such as Europe/Paris, or UTC+2."


@cache
def _zones_by_key() -> dict[str, str]:
    """Lower-case lookup keys (full name, and city part) → canonical zone name."""
    keys: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        if zone.startswith(("SystemV/", "posix/", "right/")):
            continue
        keys[zone.lower()] = zone
        if zone.startswith("Etc/") or "/" not in zone:
            continue  # no city part worth matching ("GMT-2", "EST5EDT")
        city = zone.rsplit("/", 1)[1].replace("_", " ").lower()
        keys.setdefault(city, zone)
    keys["utc"] = "UTC"
    keys["gmt"] = "UTC"
    return keys


def parse_timezone(text: str) -> str:
    """A canonical IANA zone for ``text`` or InvalidInput with an example of the right form."""
    raw = " ".join((text or "").split())
    if not raw or len(raw) > 64:
        raise InvalidInput(f"I didn't recognise that timezone. {_EXAMPLE}")
    match = _OFFSET.match(raw.replace(" ", ""))
    if match:
        sign, hours = match.group(1), int(match.group(2))
        if hours > (14 if sign == "+" else 12):
            raise InvalidInput(f"UTC offsets go from -12 to +14. {_EXAMPLE}")
        if hours == 0:
            return "UTC"
        # POSIX-style Etc zones invert the sign: UTC+2 is Etc/GMT-2.
        return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
    zone = _zones_by_key().get(raw.lower().replace("_", " ")) or _zones_by_key().get(raw.lower())
    if zone is None:
        raise InvalidInput(f"I didn't recognise {raw!r} as a timezone. {_EXAMPLE}")
    return zone


def zone_label(zone: str) -> str:
    """A short readable name: ``Berlin`` for Europe/Berlin, ``UTC+2`` for Etc/GMT-2."""
    if zone.startswith("Etc/GMT"):
        offset = zone[len("Etc/GMT") :]
        if offset.lstrip("+-") in {"", "0"}:
            return "UTC"
        # POSIX sign: Etc/GMT-2 is two hours ahead of UTC.
        return "UTC" + ("+" + offset[1:] if offset.startswith("-") else "-" + offset[1:])
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def format_local(moment: datetime, zone: str, *, with_date: bool = True) -> str:
    """``Mon 23 Nov 18:00`` in the given zone."""
    at = local(moment, zone)
    return at.strftime("%a %d %b %H:%M") if with_date else at.strftime("%H:%M")
