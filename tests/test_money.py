"""Money: integer minor units, one currency, and percent splits that never lose a cent."""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import Money, split

STANDARD = {"platform": 15, "creator": 15, "teacher": 70}
CREATOR_TEACHES = {"platform": 15, "creator": 85}


def _usd(minor: int) -> Money:
    return Money(minor, "USD")


@st.composite
def _shares(draw: st.DrawFn) -> dict[str, int]:
    """Three whole-percent shares that add up to 100."""
    a = draw(st.integers(0, 100))
    b = draw(st.integers(0, 100 - a))
    return {"platform": a, "creator": b, "teacher": 100 - a - b}


def test_split_standard_shares_divide_round_amount_exactly() -> None:
    parts = split(_usd(4000), STANDARD, "platform")
    assert parts == {"platform": _usd(600), "creator": _usd(600), "teacher": _usd(2800)}


def test_split_standard_shares_give_remainder_to_platform() -> None:
    # 999 cents: 15% = 149.85 and 70% = 699.3 round down; the 2 leftover cents go to the platform.
    parts = split(_usd(999), STANDARD, "platform")
    assert parts == {"platform": _usd(151), "creator": _usd(149), "teacher": _usd(699)}


def test_split_creator_teaching_takes_85_and_platform_15() -> None:
    parts = split(_usd(4000), CREATOR_TEACHES, "platform")
    assert parts == {"platform": _usd(600), "creator": _usd(3400)}


def test_split_creator_teaching_gives_remainder_to_platform() -> None:
    # 1001 cents: 85% = 850.85 → 850 and 15% = 150.15 → 150; the leftover cent is the platform's.
    parts = split(_usd(1001), CREATOR_TEACHES, "platform")
    assert parts == {"platform": _usd(151), "creator": _usd(850)}


def test_split_single_cent_goes_entirely_to_platform() -> None:
    parts = split(_usd(1), STANDARD, "platform")
    assert parts == {"platform": _usd(1), "creator": _usd(0), "teacher": _usd(0)}


def test_split_yen_rounds_to_whole_yen_and_keeps_currency() -> None:
    parts = split(Money(505, "JPY"), STANDARD, "platform")
    assert parts == {"platform": Money(77, "JPY"), "creator": Money(75, "JPY"),
                     "teacher": Money(353, "JPY")}


@given(minor=st.integers(0, 10**12), shares=st.one_of(st.just(STANDARD),
                                                       st.just(CREATOR_TEACHES), _shares()),
       currency=st.sampled_from(["USD", "EUR", "JPY"]))
def test_split_any_amount_parts_sum_to_total_with_remainder_to_platform(
        minor: int, shares: dict[str, int], currency: str) -> None:
    total = Money(minor, currency)
    parts = split(total, shares, "platform")
    assert set(parts) == set(shares)
    assert sum(p.minor for p in parts.values()) == minor
    assert all(p.currency == currency and p.minor >= 0 for p in parts.values())
    for name, pct in shares.items():
        floor = minor * pct // 100
        if name == "platform":
            # The leftover is under one cent per party, all of it to the platform.
            assert floor <= parts[name].minor < floor + len(shares)
        else:
            assert parts[name].minor == floor


@pytest.mark.parametrize("shares", [{"platform": 15, "teacher": 70},
                                    {"platform": 50, "creator": 51},
                                    {"platform": 15, "creator": 15, "teacher": 71}])
def test_split_shares_not_adding_to_100_are_refused(shares: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="100"):
        split(_usd(4000), shares, "platform")


def test_split_remainder_to_party_without_share_is_refused() -> None:
    with pytest.raises(ValueError, match="remainder"):
        split(_usd(4000), CREATOR_TEACHES, "teacher")


def test_split_negative_total_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        split(_usd(-100), STANDARD, "platform")


@pytest.mark.parametrize("minor", [40.0, 40.5, True, False, Decimal("40"), "4000", None],
                         ids=repr)
def test_money_non_int_minor_units_are_refused(minor: Any) -> None:
    with pytest.raises(TypeError, match="int"):
        Money(minor, "USD")


@pytest.mark.parametrize("currency", ["usd", "XYZ", "", "BTC"])
def test_money_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(ValueError, match="currency"):
        Money(100, currency)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.lt, operator.le,
                                operator.gt, operator.ge],
                         ids=lambda op: op.__name__)
def test_money_mixing_currencies_is_refused(op: Callable[[Money, Money], Any]) -> None:
    with pytest.raises(ValueError, match=r"cannot mix (USD and EUR|EUR and USD)"):
        op(_usd(100), Money(100, "EUR"))


def test_money_same_minor_in_other_currency_is_not_equal() -> None:
    assert _usd(100) != Money(100, "EUR")
    assert _usd(100) == _usd(100)


def test_money_arithmetic_keeps_currency_and_units() -> None:
    assert _usd(1000) + _usd(250) == _usd(1250)
    assert _usd(1000) - _usd(1250) == _usd(-250)
    assert -_usd(300) == _usd(-300)
    assert _usd(1) < _usd(2) <= _usd(2)
    assert Money.zero("JPY") == Money(0, "JPY")


def test_money_is_frozen() -> None:
    price = _usd(4000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        price.minor = 1  # type: ignore[misc]


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (4000, "USD", "$40.00"),
    (500, "JPY", "¥500"),
    (-4000, "USD", "-$40.00"),
    (-5, "USD", "-$0.05"),
    (-500, "JPY", "-¥500"),
    (0, "GBP", "£0.00"),
    (7, "EUR", "€0.07"),
    (1999, "CAD", "CA$19.99"),
    (123456789, "USD", "$1,234,567.89"),
    (150000, "JPY", "¥150,000"),
])
def test_money_format_shows_symbol_units_and_sign(minor: int, currency: str, text: str) -> None:
    money = Money(minor, currency)
    assert money.format() == text
    assert str(money) == text
