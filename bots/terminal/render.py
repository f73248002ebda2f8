"""Replies → plain text with numbered buttons: ``[1] Label`` and ``[2] Label -> URL``."""

from __future__ import annotations

from handlers.reply import Button, Reply

_MARK = {"info": "", "success": "", "warning": "! ", "error": "!! "}


def render(replies: list[Reply], speaker: str = "bot",
           numbered: bool = True) -> tuple[str, list[Button]]:
    """The text to print and the buttons in the order they were numbered."""
    out: list[str] = []
    buttons: list[Button] = []
    for reply in replies:
        body = reply.text.replace("\n", "\n  ")
        out.append(f"{speaker}> {_MARK[reply.tone]}{body}")
        if reply.pre:
            out.append("\n".join("    " + line for line in reply.pre.split("\n")))
        for row in reply.buttons:
            cells = []
            for button in row:
                buttons.append(button)
                cell = f"[{len(buttons)}] {button.label}" if numbered else f"[{button.label}]"
                cells.append(cell + (f" -> {button.url}" if button.url else ""))
            out.append("  " + "   ".join(cells))
        if reply.file_name:
            out.append(f"  (attached file: {reply.file_name})")
    return "\n".join(out), buttons
