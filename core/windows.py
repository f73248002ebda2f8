"""Weekly windows and date overrides, expanded into slot times (pure, no database).

Slots are computed per local calendar date in the teacher's zone and only then converted
to UTC, so a daylight-saving change never moves a lesson: 18:00 stays 18:00 local.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from threading import Lock
from typing import TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T", int, datetime)
Span = tuple[datetime, datetime]


@dataclass(frozen=True, order=True)
class Window:
    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class Override:
    day: date
    kind: str  # "blocked" | "extra"
    start_minute: int | None = None
    end_minute: int | None = None


@dataclass
class Plan:
    """A teacher's weekly windows and date overrides."""

    windows: list[Window] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)


def merge_spans(spans: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """Overlapping or touching spans become one; the result is sorted (minutes or times)."""
    merged: list[tuple[T, T]] = []
    for begin, finish in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def merge_windows(windows: Iterable[Window]) -> list[Window]:
    """Overlapping or touching windows on the same day become one."""
    given = list(windows)
    return [
        Window(day, begin, finish)
        for day in range(7)
        for begin, finish in merge_spans(
            (w.start_minute, w.end_minute) for w in given if w.weekday == day
        )
    ]


def _subtract(spans: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if cut[1] <= start or cut[0] >= end:
            out.append((start, end))
            continue
        if start < cut[0]:
            out.append((start, cut[0]))
        if cut[1] < end:
            out.append((cut[1], end))
    return out


def day_spans(plan: Plan, day: date) -> list[tuple[int, int]]:
    """The open minutes of one local date: weekly windows plus extras, minus blocks."""
    spans = [(w.start_minute, w.end_minute) for w in plan.windows if w.weekday == day.weekday()]
    todays = [o for o in plan.overrides if o.day == day]
    spans += [
        (o.start_minute, o.end_minute or 1440)
        for o in todays
        if o.kind == "extra" and o.start_minute is not None
    ]
    for o in todays:
        if o.kind == "blocked":
            spans = (
                []
                if o.start_minute is None
                else _subtract(spans, (o.start_minute, o.end_minute or 1440))
            )
    return merge_spans(spans)  # overlapping spans would offer a time twice


def _exists_locally(moment: datetime, zone: ZoneInfo) -> bool:
    """False for wall-clock times skipped by a DST jump (they do not round-trip)."""
    back = moment.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def _expand_days(plan: Plan, zone: ZoneInfo, minutes: int, first: date, last: date) -> list[Span]:
    """Every slot of the local dates ``first`` to ``last``, in time order."""
    out: list[Span] = []
    day = first
    length = timedelta(minutes=minutes)
    while day <= last:
        spans = day_spans(plan, day)
        if not spans:
            day += timedelta(days=1)
            continue
        midnight = datetime.combine(day, time(0, 0), tzinfo=zone)
        offset = midnight.utcoffset()
        next_midnight = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
        if offset is not None and offset == next_midnight.utcoffset():
            # No clock change today (363 days a year): plain arithmetic, exact and fast.
            base = midnight.replace(tzinfo=UTC) - offset
            for open_at, close_at in spans:
                utc = base + timedelta(minutes=open_at)
                closes = base + timedelta(minutes=close_at)
                while utc + length <= closes:
                    out.append((utc, utc + length))
                    utc += length
            day += timedelta(days=1)
            continue
        for open_at, close_at in spans:
            # Wall-clock arithmetic, then UTC: on a spring-forward day the span is shorter.
            closes = (midnight + timedelta(minutes=close_at)).astimezone(UTC)
            minute = open_at
            while minute + minutes <= close_at:
                at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
                minute += minutes
                if not _exists_locally(at, zone):
                    continue
                utc = at.astimezone(UTC)
                if utc + length <= closes:
                    out.append((utc, utc + length))
        day += timedelta(days=1)
    # Spans are merged and days run in order, so only a repeated fall-back hour can repeat.
    return out if all(a < b for a, b in pairwise(out)) else sorted(set(out))


class _ExpansionCache:
    """Recently expanded date ranges, bounded by the number of slots held (not entries):
    a teacher's plan changes rarely, while every /book and every month page asks again."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._held = 0
        self._items: OrderedDict[tuple[object, ...], tuple[Span, ...]] = OrderedDict()
        self._lock = Lock()  # the web server and the bots may share a process

    def get(self, key: tuple[object, ...]) -> tuple[Span, ...] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], value: tuple[Span, ...]) -> None:
        if len(value) > self._budget:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._held += len(value)
            while self._held > self._budget:
                _, dropped = self._items.popitem(last=False)
                self._held -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._held = 0


# ~150 bytes a slot: the budget keeps the cache under ~20 MB however many teachers ask.
expansions = _ExpansionCache(budget=120_000)


def expand_windows(
    windows: Iterable[Window],
    zone_name: str,
    minutes: int,
    start: datetime,
    end: datetime,
    overrides: Iterable[Override] = (),
) -> list[Span]:
    """Every ``minutes``-long slot inside the open spans, between ``start`` and ``end`` (UTC)."""
    zone = ZoneInfo(zone_name)
    first: date = start.astimezone(zone).date()
    last: date = end.astimezone(zone).date()
    plan = Plan(sorted(windows), [o for o in overrides if first <= o.day <= last])
    key = (
        tuple(plan.windows),
        tuple(sorted(plan.overrides, key=repr)),
        zone_name,
        minutes,
        first,
        last,
    )
    every = expansions.get(key)
    if every is None:
        every = tuple(_expand_days(plan, zone, minutes, first, last))
        expansions.put(key, every)
    # Slots have one length and never overlap, so starts and ends both run in order.
    low = bisect_left(every, start, key=lambda span: span[0])
    high = bisect_right(every, end, lo=low, key=lambda span: span[1])
    return list(every[low:high])


def without_busy(spans: list[Span], busy: list[Span], length: timedelta) -> list[Span]:
    """The ``length``-long spans (in time order) that overlap none of the merged ``busy`` ones.

    Busy times are few next to a year of slots, so each one cuts its range out by bisection
    instead of every slot being compared. A span's end is its start plus ``length``, so plain
    tuple order finds the bounds: (t, t + length) sorts right after every span starting by t.
    """
    kept: list[Span] = []
    low = 0
    for busy_from, busy_until in busy:
        first_hit = bisect_right(spans, (busy_from - length, busy_from), lo=low)
        after = bisect_left(spans, (busy_until, busy_until + length), lo=first_hit)
        kept += spans[low:first_hit]
        low = max(low, after)
    kept += spans[low:]
    return kept
