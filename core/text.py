"""Cleaning what people type before it is stored or shown to others."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

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


def clean_name(text: str | None, *, most: int = 64) -> str:
    """A name a chat platform gave us (we can't refuse it): control and bidi-override
    characters dropped (PostgreSQL can't store NUL), whitespace collapsed, clipped."""
    spaced = " ".join((text or "").split())
    kept = "".join(c for c in spaced if c not in _SPOOFING
                   and unicodedata.category(c) not in {"Cc", "Cs"})
    return kept[:most].strip()


def clean_reason(text: str | None) -> str:
    """A reason (a cancellation, a decline, a suspension) as stored and shown to the other
    person."""
    return clean_line(text, what="reason", least=3, most=300)


def clean_block(text: str | None, *, what: str, most: int) -> str:
    """Several lines of plain text (a description, a syllabus): spaces collapsed per line,
    control characters refused, length kept."""
    body = "\n".join(" ".join(line.split()) for line in (text or "").strip().splitlines())
    if any(unicodedata.category(c) in {"Cc", "Cs"} and c != "\n" for c in body):
        raise InvalidInput(f"Please type the {what} as plain text.")
    if len(body) > most:
        raise InvalidInput(f"The {what} can be at most {most} characters ({len(body)} now).")
    return body


MAX_LINK = 300


def clean_link(text: str) -> str:
    """A web address people can open: http(s), a real host name, nothing invisible."""
    example = "Links start with https:// — for example https://github.com/yourname"
    shown = text if len(text) <= 40 else text[:39] + "…"
    if len(text) > MAX_LINK:
        raise InvalidInput(f"That link is over {MAX_LINK} characters. {example}")
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", urlsplit("")
    if (parts.scheme.lower() not in ("http", "https") or "." not in host
            or not text.isascii() or not text.isprintable()):
        raise InvalidInput(f"“{shown}” isn't a web link. {example}")
    return text
