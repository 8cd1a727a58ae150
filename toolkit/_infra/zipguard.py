"""Check a mailed zip container (xlsx, xlsm, ods) *before* any XML in it is parsed.

Why a second look at members ``zipfile`` already lists: the sizes in a zip's directory are
written by whoever made the file. Python's reader stops at the declared size, but the
Rust reader inside python-calamine inflates a member to its real end, so a member that
declares 1 KB and inflates to 4 GB would pass a declared-size check and exhaust memory in
calamine. Here every member is inflated once, in 1 MB steps and never kept, and refused as
soon as it outgrows its declared size. The same pass refuses any XML part that carries a
DTD (``<!DOCTYPE``/``<!ENTITY``): spreadsheet XML never needs one, and entity expansion
("billion laughs") and external entities (``SYSTEM "file:///…"``) need one.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Sequence

MAX_RATIO = 1000  # inflated / compressed; real sheets stay under ~200
RATIO_FLOOR = 10 * 1024 * 1024  # the ratio rule applies to members larger than this
_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # zip local file header, 30 bytes
_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY")


class Refused(Exception):
    """A member breaks a rule: ``code`` is a finding code, ``detail`` says which and why."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def _raw(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of ``info`` as stored after its local header."""
    header = data[info.header_offset:info.header_offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise Refused("file_unreadable", f"{info.filename}: phần đầu thành phần nén hỏng")
    fields = _LOCAL_HEADER.unpack(header)
    start = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
    return data[start:start + info.compress_size]


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml")) or "." not in name.rsplit("/", 1)[-1]


def _dtd(head: bytes) -> bool:
    return any(mark in head for mark in _DTD_MARKS)


def check_members(data: bytes, infos: Sequence[zipfile.ZipInfo],
                  keep: dict[str, bytes] | None = None) -> None:
    """Raise :class:`Refused` if a member inflates beyond its declared size, has an
    absurd compression ratio, uses a method no spreadsheet program writes, or is XML with
    a DTD. Memory stays at a few MB whatever the member holds.

    ``keep`` receives the inflated bytes of members that fit in one 1 MB step and whose
    checksum matches, so the caller need not inflate them again (sheets of a template are
    a few dozen KB each)."""
    for info in infos:
        if info.is_dir():
            continue
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(
                1, info.compress_size):
            raise Refused("too_large", f"{info.filename}: nén {info.compress_size} byte, "
                          f"giải nén ra {info.file_size} byte (tỷ lệ quá lớn)")
        if info.compress_type == zipfile.ZIP_STORED:
            raw = _raw(data, info)
            if len(raw) != info.file_size:
                raise Refused("file_unreadable", f"{info.filename}: kích thước không khớp")
            if _is_xml(info.filename) and _dtd(raw[:_CHUNK]):
                raise Refused("xml_entities", info.filename)
            if keep is not None and len(raw) <= _CHUNK and zlib.crc32(raw) == info.CRC:
                keep[info.filename] = raw
            continue
        if info.compress_type != zipfile.ZIP_DEFLATED:
            raise Refused("file_unreadable",
                          f"{info.filename}: kiểu nén {info.compress_type} không hỗ trợ")
        inflater, pending, total = zlib.decompressobj(-15), _raw(data, info), 0
        first, steps, whole = True, 0, b""
        try:
            while not inflater.eof:
                out = inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
                if not out and not pending:
                    break  # truncated stream: the reader will say so
                total += len(out)
                if total > info.file_size:
                    raise Refused("too_large", f"{info.filename}: khai báo {info.file_size} "
                                  f"byte nhưng giải nén ra nhiều hơn")
                if first and _is_xml(info.filename) and _dtd(out):
                    raise Refused("xml_entities", info.filename)
                first = first and not out
                steps, whole = steps + 1, out
        except zlib.error as exc:
            raise Refused("file_unreadable", f"{info.filename}: {exc}") from None
        if (keep is not None and steps == 1 and inflater.eof and len(whole) == info.file_size
                and zlib.crc32(whole) == info.CRC):
            keep[info.filename] = whole
