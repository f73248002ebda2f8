"""Charts as PNG images for chat (Pillow): people see a picture, not a table of numbers."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

WIDTH = 640
ROW = 26
TOP = 46
LABEL = 170
BAR_COLOUR = (59, 130, 246)
DONE_COLOUR = (34, 197, 94)
TRACK = (229, 231, 235)
INK = (31, 41, 51)


def progress_chart(title: str, bars: list[tuple[str, int]]) -> bytes:
    """Horizontal bars, one per person: their share (0-100) of a course done."""
    shown = bars[:40]
    height = TOP + ROW * max(len(shown), 1) + 16
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    draw.text((12, 14), title[:70], fill=INK, font=font)
    span = WIDTH - LABEL - 60
    for i, (name, pct) in enumerate(shown):
        y = TOP + i * ROW
        pct = max(0, min(pct, 100))
        draw.text((12, y + 5), name[:24], fill=INK, font=font)
        draw.rectangle((LABEL, y + 4, LABEL + span, y + ROW - 6), fill=TRACK)
        if pct:
            colour = DONE_COLOUR if pct == 100 else BAR_COLOUR
            draw.rectangle((LABEL, y + 4, LABEL + span * pct // 100, y + ROW - 6), fill=colour)
        draw.text((LABEL + span + 8, y + 5), f"{pct}%", fill=INK, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
