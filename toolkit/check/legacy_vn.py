"""Vietnamese typed in a legacy 8-bit font (TCVN3/ABC ``.VnTime``, VNI ``VNI-Times``).

Offices still keep Word and Excel files typed with those fonts: the bytes are Latin-1 /
cp1252 characters that only *look* Vietnamese through the font, so in Unicode "Đoàn xã"
arrives as ``§oµn x·`` (TCVN3) or ``Ñoaøn xaõ`` (VNI). :func:`from_legacy` recognises such
text by its characteristic code points and converts it.

The tables are data, checked against published references, not guessed:

- TCVN3 is the 0xA1–0xFE part of TCVN 5712 (VN1) as in the X11 converter
  ``xc/extras/X-TrueType/TCVN/TCVNtoUCS2.c``; TCVN3 fonts carry the lowercase letters at
  those positions, and ``.VnTimeH`` draws the same codes as capitals (handled below).
- VNI Windows writes a base letter followed by one mark character; the table is
  ``VNI[]`` of xvnkb's ``vni.h`` (a, á, à, ả, ã, ạ, â, ấ, … in the order of its ``utf.h``).

Detection is conservative: text holding any Vietnamese letter outside Latin-1 is already
Unicode. TCVN3 needs at least two characters that no Vietnamese word contains right after
a letter, making up half the non-ASCII characters (so ``«Tháng»`` or a lone ``©`` is never
touched) and one of the codes that is no letter at all (µ ¸ ¶ · ¹ ¨ © ª « ¬ ­ ®…). VNI
needs two pieces of evidence (a mark no Vietnamese word has, or a vowel-plus-mark pair
Unicode Vietnamese never writes, such as ``eâ``), and every foreign mark must belong to a
pair (so ``Søren Müller`` stays as it is). Short text with weaker evidence (``Nghò quyeát``)
is left alone: a missed conversion is visible, a wrong one corrupts good text.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

# TCVN3 byte (as the Latin-1 character Excel stores) → Unicode; 0xB0–0xB4 are VN1's
# combining marks, unused by TCVN3 fonts, and left out.
_TCVN3_KEYS = "".join(chr(b) for b in range(0xA1, 0xFF) if not 0xB0 <= b <= 0xB4)
_TCVN3_VALUES = (
    "ĂÂÊÔƠƯĐ" "ăâêôơưđẰ"  # A1–AF
    "àảãáạẲằẳẵắẴ"  # B5–BF
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"  # C0–CF
    "éẹềểễếệìỉỄẾỒĩíịò"  # D0–DF
    "ỔỏõóọồổỗốộờởỡớợùỖủũúụừửữứựỳỷỹýỵ"  # E0–FE
)
TCVN3: dict[str, str] = dict(zip(_TCVN3_KEYS, _TCVN3_VALUES, strict=True))

# VNI Windows: mark characters after a base letter (lowercase; capitals are the same
# letters upper-cased, as in vni.h).
_TONES = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_CIRCUMFLEX = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303",
               "ä": "\u0323"}
_BREVE = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
_VNI_SINGLE = {"ô": "ơ", "ö": "ư", "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị",
               "î": "ỵ", "ñ": "đ"}


def _vni_table() -> dict[str, str]:
    """Every VNI sequence (two characters, or one) → its Unicode letter."""
    table: dict[str, str] = {}

    def put(seq: str, letter: str) -> None:
        table[seq] = unicodedata.normalize("NFC", letter)
        table[seq.upper()] = unicodedata.normalize("NFC", letter).upper()

    for base in "aeiouy" + "ôö":
        plain = _VNI_SINGLE.get(base, base)
        for mark, tone in _TONES.items():
            if base != "i":  # i takes its tones as single characters (í ì æ ó ò)
                put(base + mark, plain + tone)
    for base in "aeo":
        for mark, tone in _CIRCUMFLEX.items():
            put(base + mark, base + "\u0302" + tone)
    for mark, tone in _BREVE.items():
        put("a" + mark, "a\u0306" + tone)
    for single, letter in _VNI_SINGLE.items():
        put(single, letter)
    return table


VNI: dict[str, str] = _vni_table()
_VNI_RE = re.compile("|".join(sorted(map(re.escape, VNI), key=len, reverse=True)))

_VIETNAMESE = set("".join(TCVN3.values()) + "".join(VNI.values()))
_UNICODE_ONLY = {c for c in _VIETNAMESE if ord(c) > 0xFF}  # ă đ ơ ư ĩ ũ ạ…ỹ
_TCVN3_MARKERS = set(TCVN3) - _VIETNAMESE
_VNI_MARKERS = {c for seq in VNI for c in seq[1:] or seq} - _VIETNAMESE
# VNI pairs that also occur in Unicode Vietnamese with the old tone placement (hoá, hoà)
_VNI_WEAK = {"oá", "oà", "oã"}
# TCVN3 codes that are no letter in any Latin alphabet (à á ả ã ạ ă â ê ô ơ ư đ live there):
# real TCVN3 text has some, "Søren Müller" has none
_TCVN3_SYMBOLS = {c for c in _TCVN3_MARKERS if not unicodedata.category(c).startswith("L")
                  } | set("µªº")


def _score(text: str, markers: set[str]) -> int:
    """How many marker characters sit right after a letter (inside a word)."""
    return sum(1 for prev, ch in itertools.pairwise(text)
               if ch in markers and (prev.isalpha() or prev in markers))


def detect(text: str) -> str | None:
    """``"TCVN3"``, ``"VNI"`` or None (plain, Unicode, or not sure)."""
    if not text or text.isascii() or any(c in _UNICODE_ONLY for c in text):
        return None
    wide = sum(1 for c in text if not c.isascii())
    tcvn3 = _score(text, _TCVN3_MARKERS)
    if tcvn3 >= 2 and 2 * tcvn3 >= wide and any(c in _TCVN3_SYMBOLS for c in text):
        return "TCVN3"
    # VNI marks are often Vietnamese letters themselves (ù õ â á…): count only the others,
    # and require every one of them to be used up by a base-plus-mark sequence
    vni = sum(1 for m in _VNI_RE.findall(text)
              if (len(m) == 2 and m.lower() not in _VNI_WEAK) or m in _VNI_MARKERS)
    left = _VNI_RE.sub("", text)
    if vni >= 2 and not any(c in _VNI_MARKERS for c in left):
        return "VNI"
    return None


def _tcvn3(text: str) -> str:
    converted = "".join(TCVN3.get(c, c) for c in text)
    # .VnTimeH draws lowercase codes as capitals: a word whose ASCII letters are all
    # capitals was typed in capitals
    words = re.split(r"(\s+)", converted)
    source = re.split(r"(\s+)", text)
    out = []
    for word, raw in zip(words, source, strict=True):
        letters = [c for c in raw if c.isascii() and c.isalpha()]
        capitals = len(letters) >= 2 and all(c.isupper() for c in letters)
        out.append(word.upper() if capitals else word)
    return "".join(out)


def from_legacy(text: str) -> tuple[str, str] | None:
    """(Unicode text, encoding name) when ``text`` is TCVN3 or VNI mojibake, else None."""
    name = detect(text)
    if name is None:
        return None
    converted = _tcvn3(text) if name == "TCVN3" else _VNI_RE.sub(lambda m: VNI[m[0]], text)
    return unicodedata.normalize("NFC", converted), name
