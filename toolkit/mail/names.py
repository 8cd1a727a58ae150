"""Attachment and zip-member names as a clerk's computer can hold them: decoded whatever
the mail program did (RFC 2231, RFC 2047, raw 8-bit UTF-8 or cp1258, zip names without the
UTF-8 flag), NFC, safe on Windows, macOS and Linux, never a lock file or a path."""

from __future__ import annotations

import contextlib
import email.header
import re
from email.message import EmailMessage, Message

from toolkit.spec.text import nfc

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
ZIP_SUFFIXES = (".zip",)
MAX_NAME_BYTES = 180  # leaves room for " (12)" and the extension under the usual 255 bytes
DEFAULT_NAME = "tep-dinh-kem"
MIME_SUFFIXES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
}
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}
# controls (C0, DEL, C1), reserved characters, and invisible format characters (zero-width,
# bidi overrides such as U+202E that make "slx.exe" look like "exe.xls")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"/\\|?*\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]')
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # zip, OLE (.xls)


def suffix_of(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def fix_surrogates(text: str) -> str:
    """Raw 8-bit header bytes come back as surrogates: read them as UTF-8, else cp1258."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1258", "replace")


def safe_filename(name: str, default: str = DEFAULT_NAME) -> str:
    """A file name safe on Windows, macOS and Linux: last path part only, no control or
    reserved characters, no leading dots, bounded length; Vietnamese letters kept (NFC)."""
    name = nfc(fix_surrogates(name)).replace("\\", "/").split("/")[-1]
    name = re.sub(r"\s+", " ", name).rstrip(" .")  # "báo cáo.xlsx." keeps its extension
    dot = name.rfind(".")
    stem, suffix = (name[:dot], name[dot:].lower()) if dot >= 0 else (name, "")
    suffix = _UNSAFE.sub("", suffix).strip(" .")
    suffix = f".{suffix}" if suffix else ""
    # no leading dots or spaces, and never an Office lock-file name ("~$…")
    stem = re.sub(r"^(?:[ .]|~\$)+", "", _UNSAFE.sub("_", stem)).rstrip(" .")
    if stem.startswith(FORMULA_STARTS):  # no "-x" for a shell, no "=x" for a spreadsheet
        stem = "_" + stem[1:]
    while len(stem.encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" .") or default
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    return stem + suffix


def attachment_name(part: EmailMessage) -> str | None:
    """The part's file name decoded (RFC 2231 and RFC 2047 alike), NFC; ``None`` if none."""
    try:
        name = part.get_filename()
    except Exception:  # a malformed parameter must not stop the fetch
        name = None
    if name is None:
        return None
    if "\ufffd" in name:
        name = _raw_filename(part) or name
    if "=?" in name:
        with contextlib.suppress(UnicodeDecodeError, LookupError, ValueError):
            name = str(email.header.make_header(email.header.decode_header(name)))
    # only trailing space is dropped: " ~$x.xlsx" is no Office lock file (safe_filename
    # removes the leading space and the "~$" when it is saved)
    return nfc(fix_surrogates(name)).rstrip()


def _raw_filename(part: EmailMessage) -> str | None:
    """The file name from the header as received: undeclared 8-bit bytes (kept by the
    parser as surrogates) read as UTF-8, else cp1258, instead of U+FFFD."""
    for key, value in part.raw_items():
        if key.lower() not in ("content-disposition", "content-type"):
            continue
        fixed = fix_surrogates(str(value))
        if fixed == str(value):
            continue
        legacy = Message()
        legacy[key] = fixed
        try:
            name = legacy.get_filename()
        except Exception:
            name = None
        if name:
            return str(name)
    return None


def is_junk(name: str, data: bytes | None = None) -> bool:
    """Lock files (``~$…``) and macOS resource forks (``._…``, ``__MACOSX/``). With
    ``data``: a ``~$`` name holding a real workbook (zip or OLE file) is no lock file
    (`` ~$x.xlsx``, ``..\\~$x.xlsx``); it is saved under a name without the ``~$``."""
    base = name.replace("\\", "/").split("/")[-1]
    if data is not None and base.lstrip(" .").startswith("~$"):
        return not data.startswith(_WORKBOOK_MAGIC)
    return base.startswith(("~$", "._")) or "__MACOSX/" in name.replace("\\", "/")

