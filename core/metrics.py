"""Process metrics in the Prometheus text format: turns handled, their latency and database
statements, statements spent storing inbound updates, and event-loop lag. Plain counters
and fixed-bucket histograms, cheap enough to stay on in production. The composition root
makes one ``Metrics`` per process; ``GET /metrics`` shows it (loopback only)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

# Statements run by the current task while a counter is open (see ``counting``).
_COUNTER: ContextVar[list[int] | None] = ContextVar("statement_counter", default=None)


def note_statement() -> None:
    """Called for every SQL statement (an engine event): counts it for the open counter."""
    counter = _COUNTER.get()
    if counter is not None:
        counter[0] += 1


@contextmanager
def counting() -> Iterator[list[int]]:
    """Count the statements this task runs inside the block (``[n]`` when it ends)."""
    counter = [0]
    token = _COUNTER.set(counter)
    try:
        yield counter
    finally:
        _COUNTER.reset(token)


@dataclass
class Histogram:
    name: str
    help: str
    buckets: Sequence[float]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0
    top: float = 0.0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1
        self.top = max(self.top, value)

    def quantile(self, q: float) -> float:
        """The upper bound of the bucket holding the q-th value (an estimate)."""
        if not self.n:
            return 0.0
        rank, seen = q * self.n, 0
        for i, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return self.buckets[i] if i < len(self.buckets) else self.top
        return self.top

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        running = 0
        for bound, count in zip(self.buckets, self.counts, strict=False):
            running += count
            lines.append(f'{self.name}_bucket{{le="{bound:g}"}} {running}')
        lines += [f'{self.name}_bucket{{le="+Inf"}} {self.n}', f"{self.name}_sum {self.total:g}",
                  f"{self.name}_count {self.n}", f"{self.name}_max {self.top:g}"]
        return lines


STATEMENT_BUCKETS = (*(float(n) for n in range(31)), 40.0, 60.0, 100.0)
SECOND_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3,
                  0.5, 0.75, 1.0, 2.0, 5.0)


@dataclass
class Metrics:
    turns: int = 0
    errors: int = 0
    turn_statements: Histogram = field(default_factory=lambda: Histogram(
        "alphapeer_turn_statements", "SQL statements per handled turn", STATEMENT_BUCKETS))
    turn_seconds: Histogram = field(default_factory=lambda: Histogram(
        "alphapeer_turn_seconds", "Time to handle one turn (database work included)",
        SECOND_BUCKETS))
    inbox_statements: Histogram = field(default_factory=lambda: Histogram(
        "alphapeer_inbox_statements_per_update",
        "SQL statements spent storing one inbound update (a batch's share)", STATEMENT_BUCKETS))
    loop_lag: Histogram = field(default_factory=lambda: Histogram(
        "alphapeer_loop_lag_seconds", "How late a 100 ms timer fired on the event loop",
        SECOND_BUCKETS))

    def render(self) -> str:
        lines = ["# TYPE alphapeer_turns_total counter", f"alphapeer_turns_total {self.turns}",
                 "# TYPE alphapeer_turn_errors_total counter",
                 f"alphapeer_turn_errors_total {self.errors}"]
        for histogram in (self.turn_statements, self.turn_seconds, self.inbox_statements,
                          self.loop_lag):
            lines += histogram.render()
        return "\n".join(lines) + "\n"
