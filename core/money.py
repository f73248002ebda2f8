"""Money as integer minor units with an ISO currency; splits with one rounding rule."""

from __future__ import annotations

from dataclasses import dataclass

# Minor-unit exponents for the currencies we price in; anything else is refused.
_EXPONENT = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "MXN": 2, "JPY": 0}
CURRENCIES = frozenset(_EXPONENT)
_SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "MXN": "MX$", "JPY": "¥"}


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer minor units (cents) of one currency."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int subclass; floats never belong near money.
        if type(self.minor) is not int:
            raise TypeError(f"Money needs an int of minor units, got {type(self.minor).__name__}")
        if self.currency not in _EXPONENT:
            raise ValueError(f"unsupported currency {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """``12``, ``12.5`` or ``12.50`` (an optional currency sign) in major units."""
        raw = text.strip().lstrip(_SYMBOL.get(currency, "")).replace(",", "")
        exp = _EXPONENT[currency]
        whole, _, frac = raw.partition(".")
        if not (whole.isascii() and whole.isdigit()) or len(whole) > 9 or (
                frac and not (frac.isascii() and frac.isdigit() and len(frac) <= exp)):
            example = "12" if not exp else "12.50"
            raise ValueError(f"write an amount like {example}")
        return cls(int(whole) * 10**exp + (int(frac.ljust(exp, "0")) if exp else 0), currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def format(self) -> str:
        """Human form such as ``$40.00`` or ``¥500``."""
        exp = _EXPONENT[self.currency]
        sign = "-" if self.minor < 0 else ""
        whole, frac = divmod(abs(self.minor), 10**exp) if exp else (abs(self.minor), 0)
        symbol = _SYMBOL.get(self.currency, self.currency + " ")
        body = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
        return f"{sign}{symbol}{body}"

    def __str__(self) -> str:
        return self.format()


def split(total: Money, shares: dict[str, int], remainder_to: str) -> dict[str, Money]:
    """Split by whole-percent shares; each share rounds down and the remainder goes to one party.

    Shares must add up to 100. Nothing is created or lost: the parts always sum to ``total``.
    """
    if sum(shares.values()) != 100:
        raise ValueError(f"shares must add up to 100, got {sum(shares.values())}")
    if remainder_to not in shares:
        raise ValueError(f"remainder party {remainder_to!r} has no share")
    if total.minor < 0:
        raise ValueError("cannot split a negative amount")
    parts = {name: Money(total.minor * pct // 100, total.currency) for name, pct in shares.items()}
    rest = total.minor - sum(p.minor for p in parts.values())
    parts[remainder_to] = parts[remainder_to] + Money(rest, total.currency)
    return parts
