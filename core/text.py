"""Cleaning what people type before it is stored or shown to others."""

from __future__ import annotations

import unicodedata

from core.errors import InvalidInput

# Bidi overrides and isolates can make text read differently from what it says.
_SPOOFING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_line(text: str | None, *, what: str, least: int, most: int) -> str:
    """One line of plain text: whitespace collapsed, control characters refused, length kept."""
    line = " ".join((text or "").split())
    if any(c in _SPOOFING or unicodedata.category(c) in {"Cc", "Cs"} for c in line):
        raise InvalidInput(
            f"Please type the {what} as plain text, without invisible control characters."
        )
    if not least <= len(line) <= most:
        raise InvalidInput(f"A {what} needs {least} to {most} characters.")
    return line
