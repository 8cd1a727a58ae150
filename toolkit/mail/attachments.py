"""Workbook attachments of a message, within the limits consolidate applies.

Every ``.xlsx``/``.xlsm``/``.xls``/``.ods`` attachment (also inside ``.zip`` attachments and
forwarded messages) becomes one :class:`Found`: its bytes, or the reason it is refused (over
:data:`toolkit.read.limits.MAX_FILE_BYTES`), recorded in the manifest. A message held in
memory is read by :func:`workbooks`; a large one is never held whole: its parts are streamed
from the server and decoded to disk with a running cap (:mod:`toolkit.mail.imap`, :class:`Spool`).
"""

from __future__ import annotations

import binascii
import hashlib
import io
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import IO

from toolkit.mail.names import (
    DEFAULT_NAME,
    MIME_SUFFIXES,
    WORKBOOK_SUFFIXES,
    ZIP_SUFFIXES,
    attachment_name,
    is_junk,
    suffix_of,
)
from toolkit.read import limits
from toolkit.read.inbox_zip import member_name

MAX_ZIP_MEMBERS = 200
MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_ZIP_BYTES = 100 * 1024 * 1024  # a .zip attachment, streamed to disk before it is opened


TOO_LARGE = "lớn hơn {mb} MB (giới hạn của toolkit consolidate), không lưu"
_CHUNK = 1 << 20
_BASE64_NOISE = re.compile(rb"[^A-Za-z0-9+/]")


class Spool:
    """The decoded bytes of one attachment, written to a temporary file as its encoded
    text arrives chunk by chunk, with their sha256; writing stops once they pass ``cap``
    (:attr:`over`). Memory stays at one chunk whatever the attachment holds."""

    def __init__(self, encoding: str, cap: int) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (kept open while in use)
        self.encoding = (encoding or "7bit").strip().lower()
        self.cap, self.size, self.over = cap, 0, False
        self.digest = hashlib.sha256()
        self.head = b""
        self._pending = b""

    def feed(self, chunk: bytes) -> bool:
        """Decode and keep ``chunk``; False once the decoded size passed the cap."""
        if self.over:
            return False
        data = self._pending + chunk
        if self.encoding == "base64":
            data = _BASE64_NOISE.sub(b"", data.split(b"=", 1)[0])
            cut = len(data) - len(data) % 4
            out, self._pending = binascii.a2b_base64(data[:cut]), data[cut:]
        elif self.encoding == "quoted-printable":
            cut = data.rfind(b"\n") + 1
            out, self._pending = binascii.a2b_qp(data[:cut]), data[cut:]
        else:
            out, self._pending = data, b""
        self._keep(out)
        return not self.over

    def _keep(self, out: bytes) -> None:
        self.size += len(out)
        if self.size > self.cap:
            self.over = True
            self.file.close()
            return
        if len(self.head) < 8:
            self.head = (self.head + out)[:8]
        self.digest.update(out)
        self.file.write(out)

    def finish(self) -> None:
        """The last, incomplete piece of encoded text."""
        rest, self._pending = self._pending, b""
        if self.over or not rest:
            return
        if self.encoding == "base64":
            rest = rest[: len(rest) - len(rest) % 4] if len(rest) % 4 == 1 else rest
            self._keep(binascii.a2b_base64(rest + b"=" * (-len(rest) % 4)))
        elif self.encoding == "quoted-printable":
            self._keep(binascii.a2b_qp(rest))
        else:
            self._keep(rest)

    def read(self) -> bytes:
        self.file.seek(0)
        return self.file.read()


@dataclass(frozen=True)
class Found:
    """One workbook of a message: its bytes (or the spool holding them), or why not."""

    name: str
    data: bytes
    origin: str
    refusal: str = ""  # not saved, and why (recorded in the manifest's ``note`` column)
    spool: Spool | None = None

    def content(self) -> bytes:
        return self.spool.read() if self.spool is not None else self.data

    def sha256(self) -> str:
        if self.spool is not None:
            return self.spool.digest.hexdigest()
        return hashlib.sha256(self.data).hexdigest()


def zip_workbooks(name: str, data: bytes | IO[bytes], notes: list[str]) -> Iterator[Found]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        notes.append(f"tệp nén {name} bị hỏng, không mở được")
        return
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        notes.append(f"tệp nén {name} có {len(infos)} mục (quá {MAX_ZIP_MEMBERS}), không giải nén")
        return
    for info in infos:
        member = member_name(info)
        if info.is_dir() or is_junk(member) or suffix_of(member) not in WORKBOOK_SUFFIXES:
            continue
        label = f"{name} › {member}"
        if info.flag_bits & 0x1:
            notes.append(f"{label}: tệp trong tệp nén có mật khẩu, không giải nén được")
            continue
        cap = min(MAX_MEMBER_BYTES, limits.MAX_FILE_BYTES)
        if info.file_size > cap:
            yield Found(member, b"", label, f"lớn hơn {mb(cap)} MB, không giải nén")
            continue
        try:
            with archive.open(info) as fh:
                content = fh.read(cap + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError,
                OSError, ValueError):
            notes.append(f"{label}: không giải nén được (tệp nén hỏng hoặc kiểu nén lạ)")
            continue
        if len(content) > cap:
            yield Found(member, b"", label, f"lớn hơn {mb(cap)} MB, không giải nén")
            continue
        yield Found(member, content, label)


def mb(size: int) -> str:
    return f"{size / 2**20:g}"


def workbook_name(part: EmailMessage) -> str | None:
    """The name of a part that may hold a workbook (or a zip of them), else None."""
    name = attachment_name(part)
    mime = part.get_content_type().lower()
    if not name:
        if mime not in MIME_SUFFIXES:
            return None
        name = DEFAULT_NAME + MIME_SUFFIXES[mime]
    return name if suffix_of(name.rstrip(" .")) in (*WORKBOOK_SUFFIXES, *ZIP_SUFFIXES) else None


def workbooks(msg: EmailMessage, notes: list[str]) -> Iterator[Found]:
    """Workbook attachments of a message (nested and forwarded parts, zip members); things
    worth telling the office go into ``notes``."""
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        name = workbook_name(part)
        if name is None:
            continue
        suffix = suffix_of(name.rstrip(" ."))
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
        if is_junk(name, data if isinstance(data, bytes) else b""):
            continue
        if not isinstance(data, bytes) or not data:
            notes.append(f"tệp đính kèm {name} rỗng hoặc không giải mã được")
            continue
        if suffix not in ZIP_SUFFIXES and len(data) > limits.MAX_FILE_BYTES:
            yield Found(name, b"", name, TOO_LARGE.format(mb=mb(limits.MAX_FILE_BYTES)))
            continue
        if suffix in ZIP_SUFFIXES:
            yield from zip_workbooks(name, data, notes)
        else:
            yield Found(name, data, name)



@dataclass(frozen=True)
class Leaf:
    """One part of a message as the server describes it (IMAP BODYSTRUCTURE), not read."""

    section: str  # IMAP part number: "2", "3.1"
    headers: EmailMessage  # its Content-Type and Content-Disposition, parsed
    encoding: str
    size: int  # encoded octets

    def least_decoded(self) -> int:
        """A lower bound of the decoded size (base64 lines of 76 characters and CRLF)."""
        if self.encoding.lower() == "base64":
            return self.size * 3 // 4 * 76 // 78
        if self.encoding.lower() == "quoted-printable":
            return self.size // 3
        return self.size


def streamed_workbooks(leaves: list[Leaf], read: Callable[[str, Spool], None],
                       notes: list[str]) -> Iterator[Found]:
    """:func:`workbooks` for a message that is not held in memory: a part too large by its
    size on the server is refused unread; any other candidate is streamed (``read(section,
    spool)``) into a :class:`Spool` that stops at the cap."""
    for leaf in leaves:
        name = workbook_name(leaf.headers)
        if name is None:
            continue
        is_zip = suffix_of(name.rstrip(" .")) in ZIP_SUFFIXES
        cap = MAX_ZIP_BYTES if is_zip else limits.MAX_FILE_BYTES
        refusal = (f"lớn hơn {mb(cap)} MB, không giải nén" if is_zip
                   else TOO_LARGE.format(mb=mb(cap)))
        if leaf.least_decoded() > cap:
            if not is_junk(name):
                yield Found(name, b"", name, refusal)
            continue
        spool = Spool(leaf.encoding, cap)
        try:
            read(leaf.section, spool)
            spool.finish()
        except binascii.Error:
            notes.append(f"tệp đính kèm {name} rỗng hoặc không giải mã được")
            continue
        if spool.over:
            if not is_junk(name):
                yield Found(name, b"", name, refusal)
            continue
        if is_junk(name, spool.head):
            continue
        if not spool.size:
            notes.append(f"tệp đính kèm {name} rỗng hoặc không giải mã được")
        elif is_zip:
            yield from zip_workbooks(name, spool.file, notes)
        else:
            yield Found(name, b"", name, spool=spool)
