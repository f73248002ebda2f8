"""What a typed line means in the terminal chat: numbers and labels press the last reply's
buttons, except at a prompt that reads typed text (a price step takes "50" as the price,
never as "button 50", nor "1" as "button 1 = Cancel")."""

from __future__ import annotations

from bots.terminal.ingest import Notice, OpenUrl, ingest
from handlers import payload
from handlers.reply import Button

MENU = [Button("✓ 4. Files and modules done", action=payload.command("learn", "done 4")),
        Button("📝 Python basics check", action=payload.command("quiz", "1")),
        Button("🔎 Verify", url="https://ap.example/verify/abc")]
PRICE_STEP = [Button("✖ Cancel", action=payload.flow_choice("n0nce1", "cancel")),
              Button("💳 Pay", url="https://ap.example/pay/x")]


def test_typing_a_label_or_number_presses_that_menu_button() -> None:
    by_label = ingest("✓ 4. files and MODULES done", "priya", MENU)
    by_number = ingest("2", "priya", MENU)
    assert getattr(by_label, "action", None) == MENU[0].action
    assert getattr(by_number, "action", None) == MENU[1].action
    assert ingest("3", "priya", MENU) == OpenUrl("https://ap.example/verify/abc")
    assert isinstance(ingest("9", "priya", MENU), Notice)


def test_numbers_typed_at_a_prompt_that_reads_text_are_text() -> None:
    for typed in ("1", "2", "50"):
        turn = ingest(typed, "ada", PRICE_STEP, takes_text=True)
        assert getattr(turn, "text", None) == typed and getattr(turn, "action", None) is None
    assert ingest("💳 pay", "ada", PRICE_STEP, takes_text=True) == OpenUrl(
        "https://ap.example/pay/x")
    assert getattr(ingest("1", "ada", PRICE_STEP), "action", None) == PRICE_STEP[0].action


def test_text_that_is_no_label_stays_text() -> None:
    turn = ingest("Files and modules", "priya", MENU)
    assert getattr(turn, "text", None) == "Files and modules"
