"""A plan (Kế hoạch / Hướng dẫn) read into neutral data: its paragraphs in order and its
tables as grids of cells with their merge extents. Bytes in, data out (pyxform's way): the
file is never written anywhere except, for ``.doc``/``.ods``, into a private temporary
folder that LibreOffice converts from.

Why a grid of anchors rather than python-docx's ``row.cells``: python-docx repeats a merged
cell in every grid position it covers, so "is this the same header cell?" needs identity
tricks; here each merged area is one :class:`Cell` with its row and column span, which is
what the header tree in :mod:`toolkit.author.infer` is built from.

Nothing in the file is executed: a docx/xlsx is a zip of XML, checked by
:mod:`toolkit._infra.zipguard` (real inflated sizes, no DTD) before any XML is parsed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from toolkit._infra import soffice
from toolkit._infra.zipguard import Refused, check_members
from toolkit.author.plan_docx import read_docx
from toolkit.author.plan_model import (
    CONVERT_SECONDS,
    MAX_MEMBER_BYTES,
    MAX_PLAN_BYTES,
    MAX_UNZIPPED_BYTES,
    MAX_ZIP_MEMBERS,
    Cell,
    Paragraph,
    Plan,
    PlanError,
    Table,
    check_tables,
    column_marks,
    is_numberish,
)
from toolkit.author.plan_xlsx import read_xlsx
from toolkit.spec.text import nfc

_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE container: .doc, .xls, encrypted OOXML


# --------------------------------------------------------------------------- entry point


def read_plan(data: bytes, filename: str) -> Plan:
    """Read a plan (``.docx``, ``.xlsx``; ``.doc``, ``.odt``, ``.rtf``, ``.xls``, ``.ods``
    through LibreOffice) from its bytes. The kind is decided by the content, not the name.
    Raises :class:`PlanError` for a file that is not a plan or has no usable table."""
    name = nfc(Path(filename).name or "kế hoạch")
    if not data:
        raise PlanError(f"Tệp «{name}»", "tệp rỗng (0 byte)")
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(f"Tệp «{name}»", f"tệp quá lớn ({len(data) // (1024 * 1024)} MB; "
                        f"tối đa {MAX_PLAN_BYTES // (1024 * 1024)} MB)")
    kind = _sniff(data, name)  # a zip is checked here, once, before any XML is parsed
    converted = ""
    if kind in ("doc", "odt", "rtf", "xls", "ods"):
        target = "xlsx" if kind in ("xls", "ods") else "docx"
        data, converted = _convert(data, name, kind, target), kind
        kind = _sniff(data, name)
        if kind != target:
            raise PlanError(f"Tệp «{name}»", f"LibreOffice không cho ra tệp .{target} hợp lệ")
    plan = read_docx(data, name) if kind == "docx" else read_xlsx(data, name)
    plan = Plan(plan.filename, plan.kind, plan.paragraphs, plan.tables, converted, plan.created)
    check_tables(plan)
    return plan


def _sniff(data: bytes, name: str) -> str:
    where = f"Tệp «{name}»"
    if data.startswith(_CFB):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise PlanError(where, "tệp được đặt mật khẩu; hãy bỏ mật khẩu rồi gửi lại")
        if "WordDocument".encode("utf-16-le") in data:
            return "doc"
        if any(s.encode("utf-16-le") in data for s in ("Workbook", "Book")):
            return "xls"
        raise PlanError(where, "tệp Office cũ nhưng không phải Word (.doc) hay Excel (.xls)")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        zf = _open_zip(data, where)
        names = set(zf.namelist())
        if "mimetype" in names:
            mime = zf.read("mimetype").strip()
            if mime.endswith(b"opendocument.text"):
                return "odt"
            if mime.endswith(b"opendocument.spreadsheet"):
                return "ods"
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise PlanError(where, "tệp nén nhưng không phải văn bản Word hay bảng tính Excel")
    if data.lstrip()[:5] == b"{\\rtf":
        return "rtf"
    head = data[:512]
    text = all(b >= 9 for b in head) or head.lstrip().startswith(b"<")
    what = "văn bản thuần hoặc HTML" if text else "một định dạng không nhận ra"
    raise PlanError(where, f"không phải tệp kế hoạch (nội dung là {what}); hãy gửi tệp Word "
                    "(.docx, .doc) hoặc Excel (.xlsx, .ods)")


def _open_zip(data: bytes, where: str) -> zipfile.ZipFile:
    """The zip, after every member's real size and every XML part's DTD were checked."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise PlanError(where, f"tệp nén bị hỏng (chi tiết: {exc})") from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise PlanError(where, f"tệp có {len(infos)} thành phần nén, quá nhiều")
    for info in infos:
        if info.flag_bits & 0x1:
            raise PlanError(where, "tệp được đặt mật khẩu; hãy bỏ mật khẩu rồi gửi lại")
        if info.file_size > MAX_MEMBER_BYTES:
            raise PlanError(where, f"thành phần {info.filename} giải nén ra "
                            f"{info.file_size} byte, quá lớn")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise PlanError(where, f"tệp giải nén ra {total} byte, quá lớn (nghi «bom nén»)")
    try:
        check_members(data, infos)
    except Refused as exc:
        why = {"too_large": "giải nén ra quá lớn (nghi «bom nén»)",
               "xml_entities": "chứa khai báo DTD/ENTITY không được phép"}.get(exc.code,
                                                                              "bị hỏng")
        raise PlanError(where, f"tệp bị từ chối: {why} — {exc.detail}") from None
    return zf


# --------------------------------------------------------------------------- LibreOffice


def _convert(data: bytes, name: str, kind: str, target: str) -> bytes:
    """``.doc``/``.odt``/``.rtf`` → docx, ``.xls``/``.ods`` → xlsx with LibreOffice."""
    where = f"Tệp «{name}»"
    try:
        converted = soffice.convert(data, kind, target, seconds=CONVERT_SECONDS)
    except soffice.ConversionError as exc:
        if exc.reason == "missing":
            raise PlanError(where, f"tệp dạng .{kind} cần LibreOffice để chuyển sang "
                            f".{target}, nhưng máy chưa cài LibreOffice (lệnh soffice). Hãy "
                            f"mở tệp bằng Word/Excel và lưu lại dạng .{target}, hoặc cài "
                            "LibreOffice.") from None
        if exc.reason == "timeout":
            raise PlanError(where, f"LibreOffice không chuyển xong tệp .{kind} sau "
                            f"{CONVERT_SECONDS:.0f} giây") from None
        app = "Writer" if target == "docx" else "Calc"
        raise PlanError(where, f"LibreOffice không chuyển được tệp .{kind} sang "
                        f".{target} (máy có thể thiếu LibreOffice {app}; {exc.detail}). "
                        f"Hãy lưu lại tệp dạng .{target}.") from None
    if len(converted) > MAX_PLAN_BYTES:
        raise PlanError(where, "tệp sau khi chuyển đổi quá lớn")
    return converted


__all__ = ["Cell", "Paragraph", "Plan", "PlanError", "Table", "column_marks", "is_numberish",
           "read_plan"]
