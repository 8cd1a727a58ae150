"""Words of a plan: one normal form for matching (folded), readable keys, the office's
abbreviations spelled out, and Vietnamese dates. Shared by the form and campaign inference.

Matching is done on *folded* text (lower case, no diacritics, đ→d) because plans are typed
in many ways: «Tỷ lệ»/«Tỉ lệ», «Thạc sỹ»/«Thạc sĩ», «HÓA»/«HOÁ», combining or precomposed
marks. Everything shown to a clerk stays as written (NFC).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata

from toolkit.spec.campaign import XML_ESCAPE
from toolkit.spec.text import nfc

_SPACES = re.compile(r"\s+")
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}
# words that carry no meaning in a key ("Tham gia ở cấp tỉnh" → tham_gia_cap_tinh)
_KEY_STOP = frozenset({"o", "cua", "va", "cac", "cho", "voi", "do", "duoc", "tren", "tai",
                       "theo", "ve", "nhung", "da", "la", "trong", "mot", "tu", "den"})
MAX_KEY_WORDS = 4
MAX_KEY_LENGTH = 40


def norm(text: str) -> str:
    """One line of header text: NFC, line breaks and runs of spaces made one space, a space
    before «(» and none inside the brackets."""
    text = _SPACES.sub(" ", nfc(text)).strip()
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\s+\)", ")", text)
    text = re.sub(r"(?<=[^\s(/])\((?=[^)]*\))", " (", text)
    return text


@functools.lru_cache(maxsize=8192)
def ascii_fold(text: str) -> str:
    """Lower case, no diacritics, đ→d, single spaces: the form every match is made on.
    Characters outside ASCII once the marks are gone («…», «›») are dropped."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return _SPACES.sub(" ", text.encode("ascii", "ignore").decode("ascii")).strip()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", ascii_fold(text))


def capitalize(text: str) -> str:
    """First letter upper case, the rest as written («số đoàn viên» → «Số đoàn viên»)."""
    return text[:1].upper() + text[1:] if text else text


_VOWELS = set("aeiouyăâêôơư")


def _is_acronym(token: str) -> bool:
    letters = [ch for ch in ascii_fold(token) if ch.isalpha()]
    return bool(letters) and (not _VOWELS & set(letters) or any(ch.isdigit() for ch in token)
                              or "/" in token)


def sentence_case(text: str) -> str:
    """An ALL-CAPS caption as a sentence («KẾT QUẢ THỰC HIỆN…» → «Kết quả thực hiện…»),
    keeping acronyms (BCH, HĐND, 02-NQ/TU); text that is not all caps is left alone."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or any(ch.islower() for ch in letters):
        return text
    tokens = [tok if _is_acronym(tok) else tok.lower() for tok in text.split(" ")]
    return capitalize(" ".join(tokens))


_UNIT_WORDS = ("huyện", "tỉnh", "thành phố", "quận", "thị xã", "xã", "phường", "thị trấn",
               "khối", "tp.")


def title_case_body(text: str) -> str:
    """An issuing body written in capitals as it is written in a sentence: «BCH ĐOÀN
    HUYỆN THỌ XUÂN» → «BCH Đoàn huyện Thọ Xuân» (acronyms kept, «Đoàn» capitalised, the
    place name after huyện/tỉnh/xã… capitalised)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or any(ch.islower() for ch in letters):
        return text
    out: list[str] = []
    proper = False
    for i, tok in enumerate(text.split()):
        low = tok.lower()
        if _is_acronym(tok) or tok in ("-", "–"):
            out.append(tok)
        elif i == 0 or proper or low == "đoàn":
            out.append(capitalize(low))
        else:
            out.append(low)
        if low in _UNIT_WORDS or low.rstrip(".") in ("tp",):
            proper = True
    return " ".join(out)


def make_key(text: str, taken: set[str], *, prefix: str = "", suffix: str = "",
             fallback: str = "cot", max_words: int = MAX_KEY_WORDS) -> str:
    """A column or indicator key from header words: ASCII without diacritics, at most
    ``max_words`` meaningful words (between ``prefix`` and ``suffix``), a valid identifier,
    never a ``_x…_`` pattern (LibreOffice reads ``_xa_`` in a sheet as an escaped
    character), unique within ``taken`` (which it joins)."""
    chosen = [w for w in words(text) if w not in _KEY_STOP] or words(text)
    chosen = [w for w in chosen if not re.fullmatch(r"x[0-9a-f]{1,4}", w)]
    middle = "_".join(chosen[:max_words])
    base = "_".join(x for x in (prefix, middle, suffix) if x).strip("_")
    base = base[:MAX_KEY_LENGTH].rstrip("_") or fallback
    if base[0].isdigit():
        base = f"{fallback}_{base}"
    base = _safe(base)
    key, n = base, 2
    while key in taken:
        key = _safe(f"{base}_{n}")
        n += 1
    taken.add(key)
    return key


def _safe(key: str) -> str:
    while XML_ESCAPE.search(key):
        key = XML_ESCAPE.sub(lambda m: m.group(0)[:-1] + "g_", key, count=1)
    return key


def roman(text: str) -> int | None:
    text = text.upper()
    if not text or any(ch not in _ROMAN for ch in text):
        return None
    total = 0
    for i, ch in enumerate(text):
        value = _ROMAN[ch]
        total += -value if i + 1 < len(text) and _ROMAN[text[i + 1]] > value else value
    return total


# --------------------------------------------------------------------------- abbreviations

# Whole-cell abbreviations of a qualification scale (only under Chuyên môn / LLCT / Trình
# độ, where «ĐH» cannot mean Đại hội and «TC» cannot mean thị trấn).
_QUALIFICATION = {
    "ĐH": "Đại học",
    "CĐ,TC": "Cao đẳng, Trung cấp",
    "CĐ/TC": "Cao đẳng, Trung cấp",
    "CĐ-TC": "Cao đẳng, Trung cấp",
    "TC,CĐ": "Cao đẳng, Trung cấp",
    "CĐ": "Cao đẳng",
    "CN,CC": "Cao cấp, Cử nhân",
    "CC,CN": "Cao cấp, Cử nhân",
    "CC": "Cao cấp",
    "TC": "Trung cấp",
    "SC": "Sơ cấp",
    "THS": "Thạc sỹ",
    "TS": "Tiến sỹ",
}
_ANYWHERE = {"LLCT": "Lý luận chính trị"}
_IN_BRACKETS = {"HN": "hội nghị", "DN": "doanh nghiệp"}
_QUALIFICATION_CONTEXT = re.compile(r"chuyen mon|ly luan chinh tri|llct|trinh do|hoc van|"
                                    r"hoc vi|nghiep vu")


def expand(text: str, context: str) -> tuple[str, str | None]:
    """Spell out an abbreviation the office wrote for a whole header cell (ĐH, CĐ, TC,
    LLCT, CC…) or in brackets («Số lớp (HN)»), and «xã, TT»; returns the text and, when
    something was spelled out, the original (for the notes)."""
    squeezed = re.sub(r"\s+", "", text).upper()
    if squeezed in _ANYWHERE:
        return _ANYWHERE[squeezed], text
    if squeezed in _QUALIFICATION and _QUALIFICATION_CONTEXT.search(ascii_fold(context)):
        return _QUALIFICATION[squeezed], text
    out = re.sub(r"\((\w{2})\)", lambda m: f"({_IN_BRACKETS.get(m.group(1), m.group(1))})",
                 text)
    out = re.sub(r"\bxã,\s*TT\b", "xã, thị trấn", out)
    return (out, text) if out != text else (text, None)


# --------------------------------------------------------------------------- dates

DATE = (r"(?:(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{4}))?"
        r"|(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4}))")
_DATE_RE = re.compile(DATE, re.IGNORECASE)


def to_date(match: re.Match[str], offset: int = 1, default_year: int | None = None
            ) -> dt.date | None:
    """The date in a :data:`DATE` match (its groups start at ``offset``); a date without a
    year takes ``default_year``. None for an impossible date (31/02)."""
    g = match.groups()[offset - 1:offset + 5]
    if g[0] is not None:
        day, month, year = int(g[0]), int(g[1]), int(g[2]) if g[2] else default_year
    else:
        day, month, year = int(g[3]), int(g[4]), int(g[5])
    if year is None:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str) -> list[tuple[int, dt.date]]:
    out = []
    for m in _DATE_RE.finditer(text):
        d = to_date(m)
        if d is not None:
            out.append((m.start(), d))
    return out


def vn_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")
