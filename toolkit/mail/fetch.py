"""Fetch workbook attachments over IMAP into the inbox folder, with their provenance.

Every ``.xlsx``/``.xlsm``/``.xls``/``.ods`` attachment (also inside ``.zip`` attachments and
forwarded messages) is saved under a sanitised, NFC file name that never overwrites an
existing file, and gets one line in the inbox's ``manifest.csv`` (sender, message Date,
Message-ID, subject). Content already in the inbox (same sha256) is never saved twice, so
fetching again saves nothing. The mailbox is opened read-only: nothing is marked or moved.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as dt
import email.header
import email.utils
import hashlib
import imaplib
import io
import re
import ssl
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path

from toolkit._infra.atomic import OutputError, ensure_dir, write_bytes
from toolkit.mail.settings import (
    MailError,
    ServerSettings,
    connection_error,
    printable,
    tls_context,
)
from toolkit.read import limits
from toolkit.read.manifest import MANIFEST_COLUMNS, MANIFEST_NAME
from toolkit.spec.text import nfc

# appended after the reader's columns (which never move): the sha256 of the file as it was
# fetched, and why an attachment was not saved (then ``file`` is empty)
SHA_COLUMN = "sha256"
NOTE_COLUMN = "note"
FETCH_COLUMNS = (*MANIFEST_COLUMNS, SHA_COLUMN, NOTE_COLUMN)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
ZIP_SUFFIXES = (".zip",)
MAX_ZIP_MEMBERS = 200
MAX_MEMBER_BYTES = 50 * 1024 * 1024
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
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # zip, OLE (.xls)
_STRUCTURE_DEFECTS = ("StartBoundaryNotFound", "CloseBoundaryNotFound", "Base64",
                      "MultipartInvariantViolation", "MissingHeaderBodySeparator")


@dataclass(frozen=True)
class SavedFile:
    """One file written into the inbox, and its manifest line."""

    file: str
    sender: str
    date: str
    message_id: str
    subject: str
    origin: str  # the attachment name (``báo cáo.zip › Phụ lục.xlsx`` for a zip member)
    note: str = ""  # why an attachment was not saved (then ``file`` is empty)
    sha256: str = ""  # of the content as fetched


@dataclass(frozen=True)
class Note:
    """Something about one message that the office should know (Vietnamese)."""

    message: str  # who/what: sender and subject, or the IMAP UID
    text: str


@dataclass
class FetchResult:
    """What one fetch did."""

    messages: int = 0
    saved: list[SavedFile] = field(default_factory=list)
    recorded: list[SavedFile] = field(default_factory=list)  # existing file, provenance added
    duplicates: list[Note] = field(default_factory=list)
    without_workbook: list[Note] = field(default_factory=list)
    problems: list[Note] = field(default_factory=list)
    already_fetched: int = 0


@dataclass(frozen=True)
class _Found:
    name: str
    data: bytes
    origin: str
    refusal: str = ""  # not saved, and why (recorded in the manifest's ``note`` column)


# --------------------------------------------------------------------------- names


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _fix_surrogates(text: str) -> str:
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
    name = nfc(_fix_surrogates(name)).replace("\\", "/").split("/")[-1]
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
    return nfc(_fix_surrogates(name)).rstrip()


def _raw_filename(part: EmailMessage) -> str | None:
    """The file name from the header as received: undeclared 8-bit bytes (kept by the
    parser as surrogates) read as UTF-8, else cp1258, instead of U+FFFD."""
    for key, value in part.raw_items():
        if key.lower() not in ("content-disposition", "content-type"):
            continue
        fixed = _fix_surrogates(str(value))
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


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    """Zip names without the UTF-8 flag were decoded as cp437; most tools really wrote
    UTF-8, Vietnamese Windows writes cp1258."""
    name = info.filename
    if info.flag_bits & 0x800:
        return nfc(name)
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return nfc(name)
    for encoding in ("utf-8", "cp1258"):
        try:
            return nfc(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
    return nfc(name)


def _junk(name: str, data: bytes | None = None) -> bool:
    """Lock files (``~$…``) and macOS resource forks (``._…``, ``__MACOSX/``). With
    ``data``: a ``~$`` name holding a real workbook (zip or OLE file) is no lock file
    (`` ~$x.xlsx``, ``..\\~$x.xlsx``); it is saved under a name without the ``~$``."""
    base = name.replace("\\", "/").split("/")[-1]
    if data is not None and base.lstrip(" .").startswith("~$"):
        return not data.startswith(_WORKBOOK_MAGIC)
    return base.startswith(("~$", "._")) or "__MACOSX/" in name.replace("\\", "/")


# --------------------------------------------------------------------------- extraction


def _zip_workbooks(name: str, data: bytes, notes: list[str]) -> Iterator[_Found]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        notes.append(f"tệp nén {name} bị hỏng, không mở được")
        return
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        notes.append(f"tệp nén {name} có {len(infos)} mục (quá {MAX_ZIP_MEMBERS}), không giải nén")
        return
    for info in infos:
        member = _zip_member_name(info)
        if info.is_dir() or _junk(member) or _suffix(member) not in WORKBOOK_SUFFIXES:
            continue
        label = f"{name} › {member}"
        if info.flag_bits & 0x1:
            notes.append(f"{label}: tệp trong tệp nén có mật khẩu, không giải nén được")
            continue
        cap = min(MAX_MEMBER_BYTES, limits.MAX_FILE_BYTES)
        if info.file_size > cap:
            yield _Found(member, b"", label, f"lớn hơn {_mb(cap)} MB, không giải nén")
            continue
        try:
            with archive.open(info) as fh:
                content = fh.read(cap + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError,
                OSError, ValueError):
            notes.append(f"{label}: không giải nén được (tệp nén hỏng hoặc kiểu nén lạ)")
            continue
        if len(content) > cap:
            yield _Found(member, b"", label, f"lớn hơn {_mb(cap)} MB, không giải nén")
            continue
        yield _Found(member, content, label)


def _mb(size: int) -> str:
    return f"{size / 2**20:g}"


def workbooks(msg: EmailMessage, notes: list[str]) -> Iterator[_Found]:
    """Workbook attachments of a message (nested and forwarded parts, zip members); things
    worth telling the office go into ``notes``."""
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        name = attachment_name(part)
        mime = part.get_content_type().lower()
        if not name:
            if mime not in MIME_SUFFIXES:
                continue
            name = DEFAULT_NAME + MIME_SUFFIXES[mime]
        suffix = _suffix(name.rstrip(" ."))
        if suffix not in (*WORKBOOK_SUFFIXES, *ZIP_SUFFIXES):
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
        if _junk(name, data if isinstance(data, bytes) else b""):
            continue
        if not isinstance(data, bytes) or not data:
            notes.append(f"tệp đính kèm {name} rỗng hoặc không giải mã được")
            continue
        if suffix not in ZIP_SUFFIXES and len(data) > limits.MAX_FILE_BYTES:
            yield _Found(name, b"", name, f"lớn hơn {_mb(limits.MAX_FILE_BYTES)} MB "
                                          f"(giới hạn của toolkit consolidate), không lưu")
            continue
        if suffix in ZIP_SUFFIXES:
            yield from _zip_workbooks(name, data, notes)
        else:
            yield _Found(name, data, name)


# --------------------------------------------------------------------------- the inbox


def _manifest_header(text: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text)), [])
    return [c.strip() for c in first]


class InboxState:
    """Files already in the inbox (by sha256) and its manifest, appended atomically."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = ensure_dir(Path(inbox))
        self.manifest = self.inbox / MANIFEST_NAME
        self.by_sha: dict[str, str] = {}
        for path in sorted(self.inbox.rglob("*")):
            if (path.is_file() and _suffix(path.name) in WORKBOOK_SUFFIXES
                    and not path.name.startswith((".", "~$"))):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                rel = nfc(path.relative_to(self.inbox).as_posix())
                self.by_sha.setdefault(digest, rel)
        self._text = ""
        self.columns: tuple[str, ...] = ()  # the manifest's header, once there is one
        self.recorded: set[str] = set()
        self.message_ids: set[str] = set()
        # what was fetched: (Message-ID, sha256 as fetched), never the Message-ID alone (a
        # second message reusing a Message-ID with other attachments is still saved); lines
        # written before the sha256 column existed keep the old rule: their Message-ID
        self.fetched: set[tuple[str, str]] = set()
        self.legacy_ids: set[str] = set()
        if self.manifest.is_file():
            try:
                self._text = self.manifest.read_bytes().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise MailError(f"{self.manifest} không phải UTF-8; không ghi thêm được") from None
            if self._text.strip():
                header = _manifest_header(self._text)
                if tuple(header) not in (MANIFEST_COLUMNS, FETCH_COLUMNS):
                    raise MailError(f"{self.manifest} có các cột {','.join(header)}, cần đúng "
                                    f"{','.join(MANIFEST_COLUMNS)} (có thể thêm cột "
                                    f"{NOTE_COLUMN} ở cuối); không ghi thêm được")
                self.columns = tuple(header)
                for row in csv.DictReader(io.StringIO(self._text)):
                    file = nfc((row.get("file") or "").strip())
                    self.recorded.add(file)
                    mid = str(row.get("message_id") or "").strip()
                    sha = str(row.get(SHA_COLUMN) or "").strip().lower()
                    note = str(row.get(NOTE_COLUMN) or "").strip()
                    if mid:
                        self.message_ids.add(mid)
                        if sha:
                            self.fetched.add((mid, sha))
                        elif not file and note:
                            self.fetched.add((mid, _refusal_key(note)))
                        else:
                            self.legacy_ids.add(mid)
        self._used = {p.name.casefold() for p in self.inbox.iterdir()}

    def unique_name(self, name: str) -> str:
        """``name``, or ``name (2)``… when a file of that name (any case) exists."""
        suffix = _suffix(name)
        stem = name[: len(name) - len(suffix)]
        candidate, n = name, 1
        while candidate.casefold() in self._used or (self.inbox / candidate).exists():
            n += 1
            candidate = f"{stem} ({n}){suffix}"
        self._used.add(candidate.casefold())
        return candidate

    def append(self, rows: list[SavedFile]) -> None:
        """Add manifest lines: the whole file is rewritten atomically, old lines kept."""
        if not rows:
            return
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        noted = any(r.note for r in rows)
        if not self._text.strip():
            self._text = ""
            self.columns = FETCH_COLUMNS
            writer.writerow(self.columns)
        else:
            if noted and self.columns != FETCH_COLUMNS:  # new columns go at the end
                end = self._text.find("\n")
                end = len(self._text) if end < 0 else end - (self._text[end - 1] == "\r")
                self._text = ",".join(FETCH_COLUMNS) + self._text[end:]
                self.columns = FETCH_COLUMNS
            if not self._text.endswith(("\n", "\r")):
                buf.write("\r\n")
        for r in rows:
            cells = [r.file, _text_cell(r.sender), r.date, _text_cell(r.message_id),
                     _text_cell(r.subject)]
            writer.writerow([*cells, r.sha256, _text_cell(r.note)]
                            if self.columns == FETCH_COLUMNS else cells)
            self.recorded.add(r.file)
            if r.message_id:
                self.message_ids.add(r.message_id)
        self._text += buf.getvalue()
        _write(self.manifest, ("\ufeff" + self._text).encode("utf-8"))


def _refusal_key(note: str) -> str:
    """What stands for a refused attachment in ``InboxState.fetched`` (no sha256: its
    content was never kept): the manifest note, which names the attachment."""
    return "refused:" + note.strip().lstrip("'")


def _text_cell(text: str) -> str:
    """Text from a stranger never starts like a formula when Excel opens the manifest."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _write(path: Path, data: bytes) -> None:
    try:
        write_bytes(path, data)
    except OSError as exc:
        raise OutputError(f"Không ghi được {path}: {exc.strerror or exc}") from None


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg[name]
    except Exception:  # the header parser can fail on a badly broken header
        return ""
    return re.sub(r"\s+", " ", _fix_surrogates(str(value))).strip() if value is not None else ""


def _sender(msg: EmailMessage) -> str:
    try:
        addresses = msg["From"].addresses if msg["From"] is not None else ()
    except Exception:
        addresses = ()
    if addresses and addresses[0].addr_spec:
        return addresses[0].addr_spec
    return email.utils.parseaddr(_header(msg, "From"))[1]


def _date(msg: EmailMessage, fallback: dt.datetime | None) -> dt.datetime | None:
    try:
        when = msg["Date"].datetime if msg["Date"] is not None else None
    except Exception:
        when = None
    if when is None:
        when = fallback
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)  # "-0000": zone unknown, the RFC says UTC
    return when


def save_message(state: InboxState, raw: bytes, result: FetchResult, *,
                 received: dt.datetime | None = None, label: str = "",
                 skip_fetched: bool = False) -> None:
    """Save the workbooks of one raw message into the inbox and record their provenance.
    Never raises for a bad message: that becomes a note in ``result.problems``.
    ``skip_fetched``: a message whose every workbook is already in the manifest under its
    Message-ID (same sha256) is only counted in ``result.already_fetched``."""
    result.messages += 1
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:
        result.problems.append(Note(label, f"thư hỏng, không đọc được ({exc})"))
        return
    sender, subject = _sender(msg), _header(msg, "Subject")
    message_id = _header(msg, "Message-ID")
    who = " — ".join(x for x in (label, sender, subject and f"“{subject}”") if x)
    if not sender and not message_id and not _header(msg, "Date"):
        result.problems.append(Note(who, "thư hỏng: không có phần đầu thư (người gửi, ngày, "
                                          "Message-ID), bỏ qua"))
        return
    notes: list[str] = []
    found: list[tuple[_Found, str]] = []
    failure = ""
    try:
        for item in workbooks(msg, notes):
            found.append((item, _refusal_key(f"{item.origin}: {item.refusal}") if item.refusal
                          else hashlib.sha256(item.data).hexdigest()))
    except Exception as exc:  # anything unexpected in one message: note it, go on
        failure = f"lỗi khi đọc tệp đính kèm ({exc})"
    if skip_fetched and message_id and not failure and (
            message_id in state.legacy_ids  # recorded before sha256 was: Message-ID only
            or (found and all((message_id, digest) in state.fetched for _, digest in found))):
        result.messages -= 1
        result.already_fetched += 1  # this very message was fetched before
        return
    defects = sorted({type(d).__name__ for p in msg.walk() for d in p.defects
                      if any(k in type(d).__name__ for k in _STRUCTURE_DEFECTS)})
    if defects:
        result.problems.append(Note(who, "thư có lỗi cấu trúc MIME (" + ", ".join(defects)
                                    + "); các tệp lấy được có thể hỏng, hãy kiểm tra"))
    when = _date(msg, received)
    date_text = when.isoformat(timespec="seconds") if when else ""
    rows: list[SavedFile] = []
    try:
        for item, digest in found:
            if item.refusal:  # told to the office, and recorded once in the manifest
                result.problems.append(Note(who, f"{item.origin}: {item.refusal}"))
                if not message_id or (message_id, digest) not in state.fetched:
                    rows.append(SavedFile("", sender, date_text, message_id, subject,
                                          item.origin, f"{item.origin}: {item.refusal}"))
                    if message_id:
                        state.fetched.add((message_id, digest))
                continue
            existing = state.by_sha.get(digest)
            if existing is not None:
                if existing not in state.recorded and not any(r.file == existing for r in rows):
                    rows.append(SavedFile(existing, sender, date_text, message_id, subject,
                                          item.origin, sha256=digest))
                    result.recorded.append(rows[-1])
                    if message_id:
                        state.fetched.add((message_id, digest))
                else:
                    result.duplicates.append(Note(who, f"{item.origin}: đã có trong hộp thư "
                                                       f"({existing}), không lưu lại"))
                continue
            name = state.unique_name(safe_filename(item.name))
            _write(state.inbox / name, item.data)
            state.by_sha[digest] = name
            if message_id:
                state.fetched.add((message_id, digest))
            rows.append(SavedFile(name, sender, date_text, message_id, subject, item.origin,
                                  sha256=digest))
            result.saved.append(rows[-1])
    except OutputError:
        raise  # the inbox cannot be written: that stops the run
    except Exception as exc:  # anything unexpected in one message: note it, go on
        failure = f"lỗi khi đọc tệp đính kèm ({exc})"
    finally:
        state.append(rows)
    if failure:
        result.problems.append(Note(who, failure))
    result.problems.extend(Note(who, n) for n in notes)
    if not found and not notes and not failure:
        result.without_workbook.append(Note(who, "không có tệp Excel/ODS đính kèm"))


# --------------------------------------------------------------------------- IMAP


def imap_mailbox(name: str) -> str:
    """A folder name for IMAP commands: modified UTF-7 (RFC 3501), quoted."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    text = "".join(out).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def imap_date(day: dt.date) -> str:
    """``05-Jan-2021`` (IMAP dates use English month names whatever the locale)."""
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"


def _server_text(data: list) -> str:
    """A server response line, readable (Dovecot answers in UTF-8), without timings."""
    text = " ".join(d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d)
                    for d in data or [])
    return printable(re.sub(r"\s*\(\d[\d.]* \+ [^)]*secs\)\.?", "", text).strip())


def _imap_text(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return text


def open_imap(settings: ServerSettings, password: str | None) -> imaplib.IMAP4:
    """Connect (SSL, STARTTLS or — loopback only — plain) and log in."""
    if not settings.user:
        raise MailError("Chưa có tài khoản IMAP: dùng --imap-user hoặc TOOLKIT_IMAP_USER")
    if password is None:
        raise MailError(f"Chưa có mật khẩu IMAP cho {settings.user}: đặt biến môi trường "
                        f"TOOLKIT_IMAP_PASSWORD hoặc nhập khi được hỏi")
    try:
        if settings.security == "ssl":
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(settings.host, settings.port,
                                                    ssl_context=tls_context(settings),
                                                    timeout=settings.timeout)
        else:
            imap = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise _imap_error(settings, exc) from None
    try:
        if settings.security == "starttls":
            if "STARTTLS" not in imap.capabilities:
                raise MailError(f"Máy chủ {settings.where} không hỗ trợ STARTTLS (không mã hóa "
                                f"được kết nối); dùng --imap-security ssl với cổng SSL (thường "
                                f"là 993) hoặc kiểm tra lại cổng")
            imap.starttls(ssl_context=tls_context(settings))
        try:
            imap.login(settings.user, password)
        except UnicodeEncodeError:  # imaplib sends ASCII only: AUTHENTICATE PLAIN in UTF-8
            secret = f"\0{settings.user}\0{password}".encode()
            imap.authenticate("PLAIN", lambda _challenge: secret)
    except MailError:
        _logout(imap)
        raise
    except (OSError, imaplib.IMAP4.error) as exc:
        _logout(imap)
        raise _imap_error(settings, exc) from None
    return imap


def _imap_error(settings: ServerSettings, exc: BaseException) -> MailError:
    if isinstance(exc, imaplib.IMAP4.abort) or not isinstance(exc, imaplib.IMAP4.error):
        if isinstance(exc, imaplib.IMAP4.abort):
            return MailError(f"Máy chủ {settings.where} đã ngắt kết nối giữa chừng; có thể sai "
                             f"kiểu bảo mật (starttls/ssl) hoặc sai cổng")
        return connection_error(settings, exc)
    text = _imap_text(exc)
    upper = text.upper()
    if "AUTHENTICATIONFAILED" in upper or "AUTHENTICATE" in upper or "LOGIN" in upper:
        if "PLAINTEXT" in upper or "PRIVACYREQUIRED" in upper or "LOGINDISABLED" in upper:
            return MailError(f"Máy chủ {settings.where} không cho đăng nhập khi kết nối chưa "
                             f"mã hóa; dùng --imap-security starttls hoặc ssl")
        return MailError(f"Máy chủ {settings.where} từ chối đăng nhập của {settings.user}: sai "
                         f"tên đăng nhập hoặc mật khẩu (TOOLKIT_IMAP_PASSWORD)")
    return MailError(f"Máy chủ {settings.where} báo lỗi: {text}")


def _logout(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (OSError, imaplib.IMAP4.error):
        with contextlib.suppress(OSError):
            imap.shutdown()


_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def _fetch_parts(data: list) -> tuple[bytes | None, dt.datetime | None]:
    raw: bytes | None = None
    received: dt.datetime | None = None
    for item in data:
        heads = [item[0]] if isinstance(item, tuple) else [item]
        if isinstance(item, tuple) and raw is None:
            raw = item[1]
        for head in heads:
            match = _INTERNALDATE.search(head) if isinstance(head, bytes) else None
            if match:
                with contextlib.suppress(ValueError):
                    received = dt.datetime.strptime(match.group(1).decode().strip(),
                                                    "%d-%b-%Y %H:%M:%S %z")
    return raw, received


def fetch(settings: ServerSettings, password: str | None, inbox: Path, *,
          folder: str = "INBOX", since: dt.date | None = None) -> FetchResult:
    """Save every new workbook attachment of ``folder`` (messages since ``since``, by the
    server's arrival date) into ``inbox`` and append their provenance to its manifest."""
    state = InboxState(Path(inbox))
    result = FetchResult()
    imap = open_imap(settings, password)
    try:
        typ, data = imap.select(imap_mailbox(folder), readonly=True)
        if typ != "OK":
            raise MailError(f"Không mở được thư mục {folder!r} trên máy chủ {settings.where}: "
                            f"{_server_text(data)}")
        criteria = ("SINCE", imap_date(since)) if since else ("ALL",)
        typ, data = imap.uid("SEARCH", *criteria)
        if typ != "OK":
            raise MailError(f"Máy chủ {settings.where} không tìm được thư: {data!r}")
        uids = [u.decode() for u in (data[0] or b"").split()]
        for uid in uids:
            label = f"thư UID {uid}"
            # every message is read: a Message-ID alone proves nothing (a second message can
            # reuse it with other attachments); save_message skips (Message-ID, sha256) pairs
            # already in the manifest and counts the message as already fetched
            typ, body = imap.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
            raw, received = _fetch_parts(body) if typ == "OK" else (None, None)
            if raw is None:
                result.messages += 1
                result.problems.append(Note(label, "máy chủ không trả nội dung thư"))
                continue
            save_message(state, raw, result, received=received, label=label,
                         skip_fetched=True)
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise _imap_error(settings, exc) from None
    except ssl.SSLError as exc:
        raise connection_error(settings, exc) from None
    finally:
        _logout(imap)
    return result
