"""The levels of the Đoàn's hierarchy, top to bottom, as one table.

Every place that names a level reads it here: the units file (what a clerk types in its
"Cấp" column), a campaign's deadlines (``deadlines:`` keys, the campaign workbook's «Hạn nộp
…» rows, the deadlines a plan's text states), the templates' "Hạn nộp", the reminders, the
terminal and the web page, the Word report's wording. A unit's children may be at any lower
level: since the 2025 reorganisation of local government most provinces have no district
level, and their communes report straight to the province.

"Thành đoàn" is deliberately not a level word: the Thành đoàn of Hà Nội or Hồ Chí Minh City
is a province, that of a city inside a province a district; the clerk is asked to say which.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    """One level. ``words``: what a clerk types for it, folded (see :func:`fold`);
    ``plan_words``: a regular expression of the phrases a plan's text uses for the units of
    that level (deadlines, «Cấp cơ sở:»); ``noun``: what an office calls several units of
    the level in a sentence ("27/32 cơ sở đã báo cáo"); ``symbol``: the tail of a report's
    number when an office of this level issues it (``…-BC/TĐTN``)."""

    key: str
    name: str  # "cấp tỉnh": in sentences ("Hạn nộp cấp tỉnh")
    label: str  # "Tỉnh": the word of a units file and of the units page
    words: tuple[str, ...]
    plan_words: str = ""
    noun: str = "đơn vị"
    symbol: str = "ĐTN"
    usual_deadline: bool = False  # a row «Hạn nộp …» always written in a campaign workbook


TABLE: tuple[Level, ...] = (
    Level("trung_uong", "cấp trung ương", "Trung ương",
          ("trung uong", "cap trung uong", "tw", "trung uong doan", "ban chap hanh trung uong",
           "bch trung uong"),
          plan_words=r"cấp trung ương", symbol="TWĐTN"),
    Level("tinh", "cấp tỉnh", "Tỉnh",
          ("tinh", "cap tinh", "tinh doan", "doan tinh", "tinh thanh", "tinh thanh doan",
           "tinh thanh pho"),
          plan_words=r"cấp tỉnh|tỉnh đoàn", symbol="TĐTN", usual_deadline=True),
    # district level, and the bodies at that level: Đoàn Khối, Đoàn trực thuộc (a Tỉnh
    # đoàn's), Quận/Thị đoàn
    Level("huyen", "cấp huyện", "Huyện",
          ("huyen", "cap huyen", "huyen doan", "doan huyen", "quan", "quan doan", "thi doan",
           "thi xa", "huyen thi", "huyen thi doan", "doan khoi", "doan truc thuoc",
           "cap tren co so", "tuong duong cap huyen"),
          plan_words=(r"cấp huyện|các huyện|huyện, thị, thành đoàn|huyện, thành đoàn|huyện "
                      r"đoàn|đoàn trực thuộc|thị đoàn|quận đoàn|thành đoàn trực thuộc|"
                      r"đoàn khối"),
          usual_deadline=True),
    Level("co_so", "cấp cơ sở", "Cơ sở",
          ("co so", "cap co so", "co so doan", "doan co so", "chi doan co so", "xa", "phuong",
           "thi tran", "dac khu", "doan xa", "doan phuong", "doan thi tran", "cap xa",
           "xa phuong", "xa phuong thi tran"),
          plan_words=(r"cấp cơ sở|cơ sở đoàn|các cơ sở|đoàn cơ sở|cấp xã|"
                      r"xã, phường, thị trấn"),
          noun="cơ sở", usual_deadline=True),
    Level("chi_doan", "cấp chi đoàn", "Chi đoàn",
          # not "chi đoàn trực thuộc": under a district it is a base unit (chi đoàn cơ sở)
          ("chi doan", "cap chi doan"),
          plan_words=r"cấp chi đoàn", noun="chi đoàn"),
)
LEVELS: tuple[str, ...] = tuple(level.key for level in TABLE)  # top to bottom
BY_KEY: dict[str, Level] = {level.key: level for level in TABLE}
LEVEL_NAMES: dict[str, str] = {level.key: level.name for level in TABLE}
LEVEL_LABELS: dict[str, str] = {level.key: level.label for level in TABLE}
AMBIGUOUS_WORDS = {"thanh doan": "«Thành đoàn» có thể là cấp tỉnh (Hà Nội, TP Hồ Chí Minh…) "
                                 "hoặc cấp huyện (thành phố thuộc tỉnh): ghi rõ Tỉnh hoặc "
                                 "Huyện"}


def fold(text: object) -> str:
    """Lower case, no diacritics, ``_``/``-``/``.`` and runs of spaces as one space:
    ``"Mã đơn vị"`` → ``"ma don vi"``, ``"co_so"`` → ``"co so"``."""
    text = unicodedata.normalize("NFD", str(text or "").replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[\s_\-.:]+", " ", text).strip()


_WORDS = {fold(word): level.key for level in TABLE
          for word in (level.key, level.name, level.label, *level.words)}


def level_of(text: object) -> str | None:
    """The level key of ``co_so``, ``Cơ sở``, ``cấp xã``, ``TW``, ``Đoàn Khối``…; None when
    the text names no level (or an ambiguous one, see :func:`level_problem`)."""
    return _WORDS.get(fold(text))


def level_problem(text: object) -> str:
    """Why ``text`` is not a level, in Vietnamese, listing what is accepted."""
    hint = AMBIGUOUS_WORDS.get(fold(text))
    accepted = (f"dùng: {', '.join(LEVELS)} hoặc "
                f"{', '.join(level.label for level in TABLE)}")
    return f"cấp {str(text)!r} không hợp lệ ({hint}; {accepted})" if hint else (
        f"cấp {str(text)!r} không hợp lệ ({accepted})")


def rank(level: str) -> int:
    """0 for the top (``trung_uong``) … 4 for ``chi_doan``; an unknown key after them."""
    return LEVELS.index(level) if level in BY_KEY else len(LEVELS)


def below(level: str) -> tuple[str, ...]:
    """The levels under ``level``, top to bottom: where its children may be."""
    return LEVELS[rank(level) + 1:]


def name_of(level: str) -> str:
    """``cấp tỉnh`` for ``tinh``; an unknown key as it is."""
    found = BY_KEY.get(level)
    return found.name if found else level


def noun_for(levels: set[str] | frozenset[str]) -> str:
    """What an office calls its units in a sentence: the level's noun when they are all of
    one level ("cơ sở"), else "đơn vị"."""
    if len(levels) == 1:
        found = BY_KEY.get(next(iter(levels)))
        if found is not None:
            return found.noun
    return "đơn vị"


def symbol_for(level: str) -> str:
    """The tail of a report's number issued by an office of ``level`` (``TĐTN``)."""
    found = BY_KEY.get(level)
    return found.symbol if found else "ĐTN"
