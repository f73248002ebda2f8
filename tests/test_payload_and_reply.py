"""Button payloads (64-byte, versioned, never-raising decode) and Reply/Button limits."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.payload import (
    COMMAND,
    FLOW,
    Payload,
    command,
    decode,
    encode,
    flow_choice,
    new_nonce,
)
from handlers.reply import TONES, Button, Reply, clip, rows_of

PREFIX = "v1:c:t:"  # 7 bytes before the data


def _buttons(n: int) -> tuple[Button, ...]:
    return tuple(Button(f"B{i}", action=command("b", str(i))) for i in range(n))


# --- payload -------------------------------------------------------------------------------


def test_payload_round_trip_keeps_colons_in_data() -> None:
    raw = encode(FLOW, "abc123", "course:python:2")
    assert raw == "v1:f:abc123:course:python:2"
    assert decode(raw) == Payload(FLOW, "abc123", "course:python:2")


def test_payload_helpers_build_decodable_flow_and_command() -> None:
    assert decode(flow_choice("n0nce1", "yes")) == Payload(FLOW, "n0nce1", "yes")
    assert decode(command("book", "python")) == Payload(COMMAND, "book", "python")
    assert decode(command("help")) == Payload(COMMAND, "help", "")


def test_payload_new_nonce_is_short_url_safe_and_fresh() -> None:
    nonces = {new_nonce() for _ in range(50)}
    assert len(nonces) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{6}", n) for n in nonces)


def test_payload_exactly_64_bytes_is_accepted() -> None:
    raw = encode(COMMAND, "t", "a" * 57)
    assert len(raw.encode()) == 64
    assert decode(raw) == Payload(COMMAND, "t", "a" * 57)


@pytest.mark.parametrize("data", ["a" * 58, "é" * 29], ids=["65-ascii", "36-chars-65-bytes"])
def test_payload_over_64_bytes_is_refused(data: str) -> None:
    assert len((PREFIX + data).encode()) == 65
    with pytest.raises(ValueError, match="64 bytes"):
        encode(COMMAND, "t", data)


@pytest.mark.parametrize(("kind", "tag"), [("x", "t"), ("", "t"), (FLOW, ""), (FLOW, "a:b")])
def test_payload_bad_kind_or_tag_is_refused(kind: str, tag: str) -> None:
    with pytest.raises(ValueError, match="bad payload"):
        encode(kind, tag, "data")


@pytest.mark.parametrize("raw", [
    None, "", "garbage", "v1", "v1:f:abc", "v2:f:abc:x", "V1:f:abc:x", "v1:x:abc:x", "v1:f::x",
    ":f:abc:x", PREFIX + "a" * 58, PREFIX + "é" * 29, "\ud800", "v1:f:t:\udfff" + "x" * 60,
], ids=repr)
def test_payload_decode_malformed_returns_none(raw: str | None) -> None:
    assert decode(raw) is None


# Pieces that look like payloads, arbitrary text, and lone surrogates (not UTF-8 encodable).
_RAW = st.lists(st.one_of(st.sampled_from(["v1", ":", "f", "c", "é"]), st.text(),
                          st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))).map("".join)


@given(raw=_RAW)
def test_payload_decode_never_raises(raw: str) -> None:
    result = decode(raw)
    assert result is None or isinstance(result, Payload)


@given(kind=st.sampled_from([FLOW, COMMAND]),
       tag=st.text(min_size=1, max_size=20).filter(lambda t: ":" not in t),
       data=st.text(max_size=60))
def test_payload_encode_then_decode_returns_parts_or_refuses_oversize(kind: str, tag: str,
                                                                      data: str) -> None:
    size = len(f"v1:{kind}:{tag}:{data}".encode())
    if size > 64:
        with pytest.raises(ValueError):
            encode(kind, tag, data)
    else:
        assert decode(encode(kind, tag, data)) == Payload(kind, tag, data)


# --- Button --------------------------------------------------------------------------------


def test_button_label_of_80_characters_is_accepted() -> None:
    assert Button("x" * 80, action="v1:c:help:").label == "x" * 80


@pytest.mark.parametrize("label", ["", "x" * 81])
def test_button_label_outside_1_to_80_is_refused(label: str) -> None:
    with pytest.raises(ValueError, match="label"):
        Button(label, action="v1:c:help:")


def test_button_payload_of_64_bytes_is_accepted() -> None:
    action = encode(COMMAND, "t", "a" * 57)
    assert Button("Go", action=action).action == action


@pytest.mark.parametrize("action", ["a" * 65, "é" * 33], ids=["65-ascii", "33-chars-66-bytes"])
def test_button_payload_over_64_bytes_is_refused(action: str) -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        Button("Go", action=action)


@pytest.mark.parametrize("url", ["https://example.com/pay/abc", "http://127.0.0.1:8080/pay/x"])
def test_button_http_url_is_accepted(url: str) -> None:
    assert Button("Pay", url=url).url == url


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.com/x", "tg://resolve",
                                 "example.com/pay", "//example.com/pay", "data:text/html,hi"])
def test_button_non_http_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        Button("Pay", url=url)


@pytest.mark.parametrize("kwargs", [{}, {"action": "v1:c:help:", "url": "https://x.org"}],
                         ids=["neither", "both"])
def test_button_needs_exactly_one_of_action_or_url(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Button("Go", **kwargs)


def test_button_is_frozen() -> None:
    button = Button("Go", action="v1:c:help:")
    with pytest.raises(dataclasses.FrozenInstanceError):
        button.label = "Stop"  # type: ignore[misc]


# --- Reply ---------------------------------------------------------------------------------


def test_reply_text_of_2000_characters_is_accepted() -> None:
    assert len(Reply("x" * 2000).text) == 2000


@pytest.mark.parametrize("text", ["x" * 2001, "", "   \n\t"], ids=["2001", "empty", "blank"])
def test_reply_text_empty_or_over_2000_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="text"):
        Reply(text)


def test_reply_five_rows_of_five_buttons_is_accepted() -> None:
    reply = Reply("Pick one", buttons=tuple(_buttons(5) for _ in range(5)))
    assert len(reply.all_buttons) == 25


def test_reply_six_rows_is_refused() -> None:
    with pytest.raises(ValueError, match="rows"):
        Reply("Pick one", buttons=tuple(_buttons(1) for _ in range(6)))


@pytest.mark.parametrize("size", [0, 6])
def test_reply_row_of_zero_or_six_buttons_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="row"):
        Reply("Pick one", buttons=(_buttons(2), _buttons(size)))


@pytest.mark.parametrize("tone", TONES)
def test_reply_known_tone_is_accepted(tone: str) -> None:
    assert Reply("Done", tone=tone).tone == tone


def test_reply_unknown_tone_is_refused() -> None:
    with pytest.raises(ValueError, match="tone"):
        Reply("Done", tone="loud")


def test_reply_all_buttons_lists_rows_in_order() -> None:
    first, second = _buttons(3), _buttons(2)
    reply = Reply("Pick one", buttons=(first, second))
    assert reply.all_buttons == [*first, *second]


def test_rows_of_lays_out_buttons_in_order() -> None:
    buttons = list(_buttons(12))
    rows = rows_of(buttons, 5)
    assert [len(r) for r in rows] == [5, 5, 2]
    assert [b for row in rows for b in row] == buttons
    assert Reply("Pick one", buttons=rows).all_buttons == buttons


def test_rows_of_more_than_25_buttons_does_not_fit_a_reply() -> None:
    with pytest.raises(ValueError, match="rows"):
        Reply("Pick one", buttons=rows_of(list(_buttons(26)), 5))


def test_clip_keeps_short_text_and_marks_the_cut() -> None:
    assert clip("x" * 2000) == "x" * 2000
    clipped = clip("x" * 5000)
    assert len(clipped) == 2000 and clipped.endswith("…")
    assert clip("abcdef", 4) == "abc…"
    assert Reply(clipped).text == clipped
