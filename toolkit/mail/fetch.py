"""Fetch workbook attachments over IMAP into the inbox folder, with their provenance.

Every ``.xlsx``/``.xlsm``/``.xls``/``.ods`` attachment (also inside ``.zip`` attachments and
forwarded messages) is saved under a sanitised, NFC file name that never overwrites an
existing file (:mod:`.names`), and gets one line in the inbox's ``manifest.csv`` (sender,
message Date, Message-ID, subject; :mod:`.inbox`). Content already in the inbox (same
sha256) is never saved twice, so fetching again saves nothing. The mailbox is opened
read-only: nothing is marked or moved.

No attachment larger than consolidate reads (:data:`toolkit.read.limits.MAX_FILE_BYTES`) is
saved: it is refused and the refusal recorded in the manifest. A message over
:data:`MAX_MESSAGE_IN_MEMORY` is never read whole (:mod:`.imap`): its structure tells which
parts to refuse unread by their size, and the others are streamed to disk with a running
cap (:mod:`.attachments`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import imaplib
import re
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from toolkit._infra.atomic import OutputError
from toolkit.mail import imap as imap_io
from toolkit.mail.attachments import Found, mb, streamed_workbooks, workbooks
from toolkit.mail.imap import (
    fetch_parts,
    imap_date,
    imap_error,
    imap_mailbox,
    logout,
    open_imap,
    server_text,
)
from toolkit.mail.inbox import (
    FETCH_COLUMNS,
    NOTE_COLUMN,
    SHA_COLUMN,
    InboxState,
    SavedFile,
    refusal_key,
    write_file,
)
from toolkit.mail.names import fix_surrogates, safe_filename
from toolkit.mail.settings import MailError, ServerSettings, connection_error

__all__ = ["FETCH_COLUMNS", "MAX_MESSAGE_IN_MEMORY", "NOTE_COLUMN", "SHA_COLUMN",
           "FetchResult", "InboxState", "Note", "SavedFile", "fetch", "imap_date",
           "imap_mailbox", "safe_filename", "save_message"]

MAX_MESSAGE_IN_MEMORY = 4 * 1024 * 1024  # larger messages are read part by part
_STRUCTURE_DEFECTS = ("StartBoundaryNotFound", "CloseBoundaryNotFound", "Base64",
                      "MultipartInvariantViolation", "MissingHeaderBodySeparator")
Extract = Callable[[EmailMessage, list[str]], Iterable[Found]]


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


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg[name]
    except Exception:  # the header parser can fail on a badly broken header
        return ""
    return re.sub(r"\s+", " ", fix_surrogates(str(value))).strip() if value is not None else ""


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
                 skip_fetched: bool = False, extract: Extract | None = None) -> None:
    """Save the workbooks of one raw message into the inbox and record their provenance.
    Never raises for a bad message: that becomes a note in ``result.problems``.
    ``skip_fetched``: a message whose every workbook is already in the manifest under its
    Message-ID (same sha256) is only counted in ``result.already_fetched``. ``extract``:
    where the workbooks come from when ``raw`` is only the message's header (a large
    message read part by part); by default, from ``raw`` itself."""
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
    found: list[tuple[Found, str]] = []
    failure = ""
    try:
        for item in (extract or workbooks)(msg, notes):
            found.append((item, refusal_key(f"{item.origin}: {item.refusal}") if item.refusal
                          else item.sha256()))
    except Exception as exc:  # anything unexpected in one message: note it, go on
        failure = f"lỗi khi đọc tệp đính kèm ({exc})"
    if skip_fetched and message_id and not failure and (
            message_id in state.legacy_ids  # recorded before sha256 was: Message-ID only
            or (found and all((message_id, digest) in state.fetched for _, digest in found))):
        result.messages -= 1
        result.already_fetched += 1  # this very message was fetched before
        return
    defects = [] if extract is not None else sorted(
        {type(d).__name__ for p in msg.walk() for d in p.defects
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
            write_file(state.inbox / name, item.content())
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
                            f"{server_text(data)}")
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
            size = imap_io.message_size(imap, uid)
            if size is not None and size > MAX_MESSAGE_IN_MEMORY:
                _save_large(imap, uid, size, state, result, label)
                continue
            typ, body = imap.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
            raw, received = fetch_parts(body) if typ == "OK" else (None, None)
            if raw is None:
                result.messages += 1
                result.problems.append(Note(label, "máy chủ không trả nội dung thư"))
                continue
            save_message(state, raw, result, received=received, label=label,
                         skip_fetched=True)
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise imap_error(settings, exc) from None
    except ssl.SSLError as exc:
        raise connection_error(settings, exc) from None
    finally:
        logout(imap)
    return result


def _save_large(imap: imaplib.IMAP4, uid: str, size: int, state: InboxState,
                result: FetchResult, label: str) -> None:
    """A message too large to hold in memory: its header, then its parts as the server
    describes them, each refused unread when too large or streamed to disk with a cap."""
    header, received = imap_io.message_header(imap, uid)
    try:
        leaves = imap_io.message_parts(imap, uid) if header else None
    except (imaplib.IMAP4.abort, OSError):
        raise
    except Exception:  # a structure nested beyond reason, or one the parser cannot follow
        leaves = None
    if not header or leaves is None:
        result.messages += 1
        result.problems.append(Note(label, f"thư lớn ({mb(size)} MB) mà máy chủ không cho "
                                           f"đọc từng phần, không tải"))
        return

    def extract(_msg: EmailMessage, notes: list[str]) -> Iterable[Found]:
        return streamed_workbooks(
            leaves, lambda section, spool: imap_io.read_part(imap, uid, section, spool), notes)

    save_message(state, header, result, received=received, label=label, skip_fetched=True,
                 extract=extract)
