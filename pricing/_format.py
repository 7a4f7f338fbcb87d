"""Printing money and tables: exact figures, plain notation, no colour."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from decimal import Decimal

__all__ = ["format_decimal", "format_table", "format_tokens", "format_usd", "text_width"]


def format_decimal(value: Decimal) -> str:
    """Exact decimal text without exponent or trailing zeros: ``Decimal('0.004500000000')`` -> ``'0.0045'``."""
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    text = format(value, "f")  # "f" never switches to scientific notation ("0E-12" -> "0.000000000000")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def format_usd(value: Decimal, *, places: int = 2) -> str:
    """Dollars, exact and readable: at least ``places`` decimals, every significant digit kept, thousands grouped.

    ``Decimal('0.004500000000')`` -> ``'$0.0045'``; ``Decimal('1234.5')`` -> ``'$1,234.50'``; ``0E-12`` -> ``'$0.00'``.
    """
    text = format_decimal(value.copy_abs())  # abs() would round to the context precision (28 digits)
    whole, _, frac = text.partition(".")
    frac = frac.ljust(places, "0")
    sign = "-" if value < 0 and text != "0" else ""
    return f"{sign}${int(whole):,}" + (f".{frac}" if frac else "")


def format_tokens(count: int) -> str:
    """A token count with thousands grouped: ``1234567`` -> ``'1,234,567'``."""
    return f"{count:,}"


def text_width(text: str) -> int:
    """How many terminal columns ``text`` takes: two for a wide character (CJK, fullwidth forms), none for a
    combining mark or an invisible format character, one for any other."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.category(c) in _NO_WIDTH else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text
    )


_NO_WIDTH = frozenset(("Mn", "Me", "Cf"))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] = ()) -> list[str]:
    """Aligned text columns separated by two spaces; ``right[i]`` right-aligns column ``i`` (numbers). Widths are
    terminal columns (:func:`text_width`), so a name in Chinese or with accents keeps the columns after it in line."""
    widths = [text_width(h) for h in headers]
    for row in rows:
        widths = [max(w, text_width(cell)) for w, cell in zip(widths, row)]
    flags = [*right, *([False] * (len(headers) - len(right)))]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for c, w, r in zip(cells, widths, flags):
            pad = " " * (w - text_width(c))
            parts.append(pad + c if r else c + pad)
        return "  ".join(parts).rstrip()

    return [line(headers), *(line(row) for row in rows)]
