"""Read a cell value as the user meant it.

Pure functions, no pandas: :func:`parse_value` turns whatever a spreadsheet program stored
(number, text, date, bool, or what calamine makes of it) into the column's type, or says why
it cannot, as a finding code. It never raises and never evaluates anything: a leading ``=``
in a text cell stays text.

Choices made for Vietnamese files (documented because they are guesses):

- blank (None, ``''``, only spaces) is *blank*, never 0;
- ``1.234`` / ``1.234.567`` is thousands-dotted (Vietnamese convention) → 1234;
  ``1.234,5`` → 1234.5; ``3,5`` → 3.5. A *single* comma is the decimal separator, so in a
  number, money or percent column ``1,234`` is 1.234 and ``2,500`` is 2.5. In a *count*
  column a decimal cannot be meant: ``1,234`` / ``2,500`` (a 1–3 digit non-zero head, one
  comma, exactly three digits: the English thousands separator) is read as 1234 / 2500 with
  a warning saying so (``1,000`` too: 1000, not 1); ``1,5``, ``12,50``, ``0,500`` or
  ``1,2345`` stay decimals, which a count refuses as "not an integer". ``1,234,567``
  (several commas) can only be thousands → 1234567;
- a single dot followed by exactly three digits after a 1–3 digit non-zero head is
  thousands (``1.234``); any other single dot is a decimal point (``3.5``, ``0.125``);
- ``45%`` in a percent column → 45 (a warning, as for every number typed as text);
  ``0,45`` stays 0.45 — no ×100 guessing;
- a number in a date column is an Excel serial only between 1950 and 2100 (so a year typed
  as 2021 is not read as a day of 1905); text dates are day first (``20/01/2021``) unless
  they start with the year (``2021-01-20``).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from typing import Any, NamedTuple

import pandas as pd

from toolkit.check.legacy_vn import from_legacy
from toolkit.spec.campaign import NUMERIC_TYPES, Column
from toolkit.spec.text import clean_text, format_number, is_blank, nfc

EXCEL_EPOCH = dt.date(1899, 12, 30)
SERIAL_MIN = (dt.date(1950, 1, 1) - EXCEL_EPOCH).days
SERIAL_MAX = (dt.date(2100, 12, 31) - EXCEL_EPOCH).days
MAX_NUMBER_TEXT = 40  # longer "numbers" are not numbers anybody typed

_MINUS = "-\u2212\u2013\u2012\u2010"
_APOSTROPHES = "'\u2019\u2018`"
_DMY = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
_YMD = re.compile(r"(\d{4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})")
_TIME = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_SPACE_GROUPS = re.compile(r"\d{1,3}(?: \d{3})+(?:[.,]\d+)?")
_HEAD = re.compile(r"[1-9]\d{0,2}")
_GROUP = re.compile(r"\d{3}")
_DIGITS = re.compile(r"\d+")
_THOUSANDS_COMMA = re.compile(r"[1-9]\d{0,2},\d{3}")


class Parsed(NamedTuple):
    """Result of :func:`parse_value`: the typed value (None when blank or rejected), the
    error code that rejected it, and a warning code for a value accepted with a remark."""

    value: Any
    problem: str | None = None
    warning: str | None = None


BLANK = Parsed(None)


# --------------------------------------------------------------------------- text helpers





def shown_text(raw: Any) -> str:
    """The raw value as a Vietnamese spreadsheet shows it, for messages: ``2,5`` where
    :func:`raw_text` gives ``2.5``."""
    if isinstance(raw, float) and math.isfinite(raw) and not raw.is_integer():
        return format_number(raw)
    return raw_text(raw)


def raw_text(raw: Any) -> str:
    """The raw value as the user saw it, for messages and ``Finding.value``."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            return str(raw)
        return str(int(raw)) if raw.is_integer() and abs(raw) < 1e15 else repr(raw)
    if isinstance(raw, dt.datetime):
        if raw.time() == dt.time(0):
            return raw.strftime("%d/%m/%Y")
        return raw.strftime("%d/%m/%Y %H:%M")
    if isinstance(raw, dt.date):
        return raw.strftime("%d/%m/%Y")
    return unicodedata.normalize("NFC", str(raw))


def range_text(col: Column) -> str:
    """``0–100``, ``≥ 0`` or ``≤ 100`` for out-of-range messages."""
    if col.min is not None and col.max is not None:
        return f"{format_number(col.min)}–{format_number(col.max)}"
    if col.min is not None:
        return f"≥ {format_number(col.min)}"
    if col.max is not None:
        return f"≤ {format_number(col.max)}"
    return ""


def range_problem(x: float, col: Column) -> str | None:
    """The code for a number that breaks the column's limits, or None.

    One code per cell: a bound first (``negative`` when the column cannot be below 0),
    then ``not_integer`` for counts."""
    if col.min is not None and x < col.min:
        return "negative" if x < 0 <= col.min else "out_of_range"
    if col.max is not None and x > col.max:
        return "out_of_range"
    if col.type == "count" and not float(x).is_integer():
        return "not_integer"
    return None


# --------------------------------------------------------------------------- numbers


def _grouped(head: str, groups: list[str]) -> bool:
    return bool(_HEAD.fullmatch(head)) and all(_GROUP.fullmatch(g) for g in groups)


def _number_body(body: str) -> str | None:
    """Digits with Vietnamese/English separators → a ``float()``-able string, or None."""
    if " " in body:
        if not _SPACE_GROUPS.fullmatch(body):
            return None
        body = body.replace(" ", "")
    if not body or body[-1] in ".,":
        return None
    if body[0] in ".,":
        return "0." + body[1:] if _DIGITS.fullmatch(body[1:]) else None
    dots, commas = body.count("."), body.count(",")
    if not dots and not commas:
        return body if _DIGITS.fullmatch(body) else None
    if dots and commas:
        dec = "." if body.rfind(".") > body.rfind(",") else ","
        thousands = "," if dec == "." else "."
        if body.count(dec) != 1:
            return None
        whole, frac = body.split(dec)
        parts = whole.split(thousands)
        if not _grouped(parts[0], parts[1:]) or not _DIGITS.fullmatch(frac):
            return None
        return "".join(parts) + "." + frac
    sep = "." if dots else ","
    parts = body.split(sep)
    if not all(_DIGITS.fullmatch(p) for p in parts):
        return None
    if len(parts) > 2:
        return "".join(parts) if _grouped(parts[0], parts[1:]) else None
    head, tail = parts
    if sep == "." and _grouped(head, [tail]):
        return head + tail  # 1.234 → 1234
    return head + "." + tail


def parse_number_text(text: str, *, percent: bool = False,
                      thousands_comma: bool = False) -> float | None:
    """A number typed as text (``" 1.234,5 "``, ``'12``, full-width digits, ``45%``).

    ``thousands_comma`` reads one comma before exactly three digits (``1,234``) as the
    English thousands separator, as a count column must; otherwise it is a decimal comma."""
    t = clean_text(unicodedata.normalize("NFKC", text))
    if len(t) > MAX_NUMBER_TEXT:
        return None
    t = t.lstrip(_APOSTROPHES).strip()
    if percent and t.endswith("%"):
        t = t[:-1].rstrip()
    sign = 1.0
    if t and (t[0] in _MINUS or t[0] == "+"):
        sign = 1.0 if t[0] == "+" else -1.0
        t = t[1:].lstrip()
    if thousands_comma and _THOUSANDS_COMMA.fullmatch(t):
        t = t.replace(",", "")
    body = _number_body(t)
    if body is None:
        return None
    try:
        x = float(body)
    except ValueError:
        return None
    return sign * x if math.isfinite(x) else None


def typed_number(raw: Any) -> float | None:
    """What :func:`parse_value` makes of a finite float in a number column, its range aside:
    the float itself, never -0.0. None for anything that needs the full reading. The
    validator's fast path calls this, so the two cannot disagree."""
    if type(raw) is float and math.isfinite(raw):
        return raw if raw != 0 else 0.0
    return None


def _parse_number(raw: Any, col: Column, check_range: bool) -> Parsed:
    warning = None
    x = typed_number(raw)
    if x is not None:
        pass
    elif isinstance(raw, bool):
        return Parsed(None, "not_a_number")
    elif isinstance(raw, (int, float)):
        try:
            x = float(raw)
        except OverflowError:  # an integer beyond any float, e.g. 10**400
            return Parsed(None, "not_a_number")
        if not math.isfinite(x):
            return Parsed(None, "not_a_number")
    elif isinstance(raw, str):
        if is_blank(raw):
            return BLANK
        parsed = parse_number_text(raw, percent=col.type == "percent")
        if parsed is None:
            return Parsed(None, "not_a_number")
        x, warning = parsed, "number_as_text_converted"
        if col.type == "count" and "," in raw:
            grouped = parse_number_text(raw, thousands_comma=True)
            if grouped is not None and grouped != parsed:  # "1,000" too: 1000, not 1
                x, warning = grouped, "thousands_comma_read"
    elif (serial := _serial(raw)) is not None:  # a number wearing a pasted date format
        x, warning = serial, "number_formatted_as_date"
    else:  # real dates, anything else a reader may hand over
        return Parsed(None, "not_a_number")
    if x == 0:
        x = 0.0  # no -0.0
    if check_range:
        problem = range_problem(x, col)
        if problem:
            return Parsed(None, problem, warning)
    return Parsed(x, None, warning)


# --------------------------------------------------------------------------- dates


def _serial(raw: Any) -> float | None:
    """The number behind a date or time the reader returned for a number cell that wears a
    date/time format (pasted over it with "Paste" rather than "Paste values"): 45 shows as
    14/02/1900. Only before 1950: a later date in a number cell is a date someone typed,
    which is an error, not a number."""
    if isinstance(raw, dt.time):
        day, clock = None, raw
    elif isinstance(raw, dt.datetime):
        day, clock = raw.date(), raw.time()
    elif isinstance(raw, dt.date):
        day, clock = raw, dt.time(0)
    else:
        return None
    days = 0
    if day is not None:
        if day.year >= 1950:
            return None
        # Excel counts a 29/02/1900 that never was: serials before March 1900 are one less
        days = (day - EXCEL_EPOCH).days - (1 if day < dt.date(1900, 3, 1) else 0)
    seconds = clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1e6
    return days + seconds / 86400


def _date_from_text(text: str) -> dt.date | None:
    for pattern, order in ((_DMY, "dmy"), (_YMD, "ymd")):
        m = pattern.match(text)
        if m and _TIME.fullmatch(text[m.end():]):
            a, b, c = (int(g) for g in m.groups())
            d, mo, y = (a, b, c) if order == "dmy" else (c, b, a)
            try:
                return dt.date(y, mo, d)
            except ValueError:
                return None
    return None


def _parse_date(raw: Any) -> Parsed:
    if isinstance(raw, dt.datetime):
        return Parsed(raw.date())
    if isinstance(raw, dt.date):
        return Parsed(raw)
    if isinstance(raw, bool):
        return Parsed(None, "bad_date")
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            return Parsed(None, "bad_date")
        if SERIAL_MIN <= raw <= SERIAL_MAX:
            return Parsed(EXCEL_EPOCH + dt.timedelta(days=int(raw)))
        return Parsed(None, "bad_date")
    if isinstance(raw, str):
        if is_blank(raw):
            return BLANK
        parsed = _date_from_text(clean_text(unicodedata.normalize("NFKC", raw)))
        return Parsed(parsed) if parsed else Parsed(None, "bad_date")
    return Parsed(None, "bad_date")


# --------------------------------------------------------------------------- text, choice


def _as_text(raw: Any) -> str | None:
    """Any cell value as text; None when blank."""
    if isinstance(raw, str):
        text = clean_text(raw)
    elif raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    else:
        text = clean_text(raw_text(raw))
    return text or None


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _bare(text: str) -> str:
    """Without diacritics: for users typing Vietnamese without an input method."""
    text = _fold(text).replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=256)
def _choice_index(choices: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    folded = {_fold(c): c for c in choices}
    bare: dict[str, str] = {}
    clashes: set[str] = set()
    for c in choices:
        key = _bare(c)
        if key in bare and bare[key] != c:
            clashes.add(key)
        bare[key] = c
    for key in clashes:
        del bare[key]
    return folded, bare


def _parse_choice(raw: Any, col: Column, check_range: bool) -> Parsed:
    text = _as_text(raw)
    if text is None:
        return BLANK
    folded, bare = _choice_index(col.choices)
    if _fold(text) in folded:
        return Parsed(folded[_fold(text)])
    if _bare(text) in bare:
        return Parsed(bare[_bare(text)], None, "text_normalised")
    if check_range:
        return Parsed(None, "not_in_choices")
    return Parsed(text)


# --------------------------------------------------------------------------- entry point


def _legacy(raw: Any, col: Column, check_range: bool) -> Parsed | None:
    """Text typed in a TCVN3/VNI font, converted (before cleaning: TCVN3 writes ư as a soft
    hyphen); None when ``raw`` is not such text."""
    if col.type not in ("text", "choice") or not isinstance(raw, str):
        return None
    legacy = from_legacy(raw)
    if legacy is None:
        return None
    parsed = (_parse_choice(legacy[0], col, check_range) if col.type == "choice"
              else Parsed(_as_text(legacy[0])))
    return parsed if parsed.problem else Parsed(parsed.value, None, "legacy_encoding_converted")


def _dispatch(raw: Any, col: Column, check_range: bool) -> Parsed:
    if is_blank(raw):
        return BLANK
    legacy = _legacy(raw, col, check_range)
    if legacy is not None:
        return legacy
    if col.type in NUMERIC_TYPES:
        return _parse_number(raw, col, check_range)
    if col.type == "date":
        return _parse_date(raw)
    if col.type == "choice":
        return _parse_choice(raw, col, check_range)
    text = _as_text(raw)
    return BLANK if text is None else Parsed(text)


def parse_value(raw: Any, column: Column, *, check_range: bool = True) -> Parsed:
    """Read ``raw`` (as a reader returned it) as a value of ``column``.

    ``check_range=False`` leaves limits and choices to the pandera schema (the whole-form
    check in :mod:`toolkit.check.validate`); only type conversion problems are reported then.
    A value no reading can make sense of is a problem code, never an exception; only the
    errors a strange value itself can cause (a date out of range, text that will not
    decode) are caught as ``invalid_value``, so that a bug in this module still surfaces.
    """
    try:
        return _dispatch(raw, column, check_range)
    except (ValueError, OverflowError, UnicodeError):
        return Parsed(None, "invalid_value")


# --------------------------------------------------------------------------- frame values


def clean_value(value: Any, col: Column | None = None) -> Any:
    """A frame value as writers want it: None for blank, ``int`` for whole counts,
    ``datetime.date`` for dates (pandas may hand back a Timestamp), NFC text."""
    if type(value) is float:  # most values: the fast path callers used to copy inline
        return None if value != value else column_number(value, col)
    if is_blank(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and col is not None and col.type == "date":
        return value.date()
    if isinstance(value, str):
        return nfc(value.strip())
    if hasattr(value, "item") and not isinstance(value, dt.date):  # numpy scalar
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return column_number(float(value), col)
    return value


def column_number(value: float, col: Column | None) -> float | int:
    """A whole number of a count column as ``int`` (what a clerk typed); others as given."""
    if col is not None and col.type == "count" and value.is_integer():
        return int(value)
    return value
