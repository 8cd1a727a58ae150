"""Text, blanks and numbers in messages: the one definition every stage uses.

A value is blank when a clerk would call the cell empty: nothing, NaN/NA/NaT, or text that
holds only spaces and invisible characters (a zero-width space pasted from a web page is
still an empty cell). Numbers shown to a clerk use the Vietnamese decimal comma.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from babel.numbers import format_decimal

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES = {ord(c): " " for c in "\u00a0\u202f\u2007\u2009\u3000"}


def nfc(text: str) -> str:
    """Unicode NFC: the one normal form for every string a clerk sees or a spec holds."""
    return unicodedata.normalize("NFC", text)


def printable(text: str) -> str:
    """Text from outside, safe to print on a terminal: control characters (C0, DEL, C1:
    ESC, CSI, OSC…), format characters (bidi overrides, zero-width), line and paragraph
    separators, surrogates and private-use characters are shown as ``\\x1b``/``\\u202e``."""
    out: list[str] = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def clean_text(text: str) -> str:
    """NFC, invisible characters removed, odd spaces made plain, stripped."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE).translate(_SPACES)
    return text.strip()


def is_blank(value: Any) -> bool:
    """True for None, NaN, pandas' NA/NaT, and text that is empty once cleaned."""
    if value is None:
        return True
    if isinstance(value, str):
        if value[:1].isalnum():  # a letter or digit first: never cleaned away
            return False
        return not value or not value.strip() or not clean_text(value)
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, int):
        return False
    import pandas as pd  # only pandas' own scalars (NA, NaT, numpy NaN) get this far

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # an array or an object pandas cannot judge
        return False


def format_number(x: float) -> str:
    """12.0 → ``12``; 2.5 → ``2,5`` (Vietnamese decimal comma), for what a clerk reads."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e15):
        return str(int(x))
    return format_decimal(x, format="#,##0.##########", locale="vi")


def format_figure(x: float, decimals: int = 2) -> str:
    """A figure in a report sentence or table: thousands grouped with dots, decimal comma
    (18650 → ``18.650``; 56.25 → ``56,25``), at most ``decimals`` decimals."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals > 0 else "")
    return format_decimal(x, format=pattern, locale="vi")


def format_percent(fraction: float) -> str:
    """A fraction as a report writes a rate: 0.047 → ``4,7%``; 1.043 → ``104,3%``."""
    return format_figure(fraction * 100, 1) + "%"
