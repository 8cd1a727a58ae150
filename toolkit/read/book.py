"""One mailed workbook opened from its bytes, within the limits of :mod:`toolkit.read.limits`.

What kind of file it really is (xlsx, ods, old xls, encrypted, or not a workbook at all,
whatever its name says), its document properties, a cheap pre-scan of each sheet, and the
python-calamine workbook behind it (values only: no macro runs, no formula is evaluated; a
formula cell gives its cached result).

Cell positions are checked *before* calamine loads a sheet, because it allocates the whole
rectangle up to the farthest cell: a 6 KB xlsx with one value in XFD1048576 asks for 32 GB
and aborts Python. Zip sizes and DTDs are checked before any XML is parsed (zipguard).
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree as SafeET
from python_calamine import CalamineWorkbook, PasswordError

from toolkit._infra.zipguard import Refused, check_members
from toolkit.read import limits
from toolkit.read.fsopen import sane_time
from toolkit.spec.layout import a1
from toolkit.spec.text import nfc

MAX_MERGES = 10_000  # merged ranges looked at per sheet (a template has a few dozen)
LOCAL_TZ = dt.timezone(dt.timedelta(hours=7))  # naive times in ODS files are Vietnam time


_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE container: .xls, or an encrypted OOXML
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_ROOT_RE = re.compile(rb"<(\w+:)?worksheet\b")
# literal-led patterns (fast); an r attribute not after a plain space fails the count check
_FAR_RE = re.compile(rb" r=\"(?:[A-Z]{3}|[A-Z]{0,2}\d{4})")  # beyond column ZZ or row 999
_ROW_RE = re.compile(rb"\sr=\"(\d+)\"")  # only <row> has an all-digit r attribute
_REF_RE = re.compile(rb"\sr=\"([A-Z]+)(\d+)\"")  # only <c> has an A1 r attribute
_WHITESPACE = bytes.maketrans(b"\t\n\r", b"   ")
_MERGE_RE = re.compile(
    rb"<(?:\w+:)?mergeCell\s+ref=\"\$?([A-Z]{1,3})\$?(\d{1,7}):\$?([A-Z]{1,3})\$?(\d{1,7})\"")
_FORMULA_RE = re.compile(rb" r=\"([A-Z]+)(\d+)\"[^>/]*>\s*<(?:\w+:)?f[\s>/]")
_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_O = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT_P = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}p"
_META_NAME = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}name"



class FileProblem(Exception):
    """A whole-file problem: becomes one finding (``code``) and stops reading that file."""

    def __init__(self, code: str, **fields: Any) -> None:
        super().__init__(code)
        self.code, self.fields = code, fields


@dataclass
class SheetInfo:
    """What a cheap pre-scan knows about one sheet before calamine loads it."""

    rows: int = 0  # 1-based farthest row / column holding a cell
    cols: int = 0
    formulas: set[tuple[int, int]] = field(default_factory=set)  # 0-based (row, col)
    cells: int = 0  # <c> elements counted (millions of real cells: refused before parsing)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based, inclusive


def parse_time(text: str, naive_tz: dt.tzinfo = LOCAL_TZ) -> dt.datetime | None:
    """A property's time in UTC; None when malformed or outside 1980…2999 (year 1 at +14:00
    cannot even be converted): such a time is ignored, the file is read as usual."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return sane_time(when if when.tzinfo else when.replace(tzinfo=naive_tz))


# --------------------------------------------------------------------------- containers


def _xml(zf: zipfile.ZipFile, name: str) -> Any | None:
    try:
        return SafeET.fromstring(zf.read(name))
    except KeyError:
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _CheckedZip(zipfile.ZipFile):
    """A zip whose small members were already inflated (and checksummed) by the zip bomb
    check: reading one again costs nothing."""

    inflated: dict[str, bytes]

    def read(self, name: str | zipfile.ZipInfo, pwd: bytes | None = None) -> bytes:
        got = self.inflated.get(name if isinstance(name, str) else name.filename)
        return got if got is not None else super().read(name, pwd)


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        zf = _CheckedZip(io.BytesIO(data))
        zf.inflated = {}
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileProblem("file_unreadable", detail=f"tệp nén hỏng hoặc thiếu: {exc}") from None
    infos = zf.infolist()
    if len(infos) > limits.MAX_ZIP_MEMBERS:
        raise FileProblem("too_large", detail=f"{len(infos)} thành phần nén")
    for info in infos:
        if info.flag_bits & 0x1:
            raise FileProblem("file_encrypted")
        if info.file_size > limits.MAX_MEMBER_BYTES:
            raise FileProblem("too_large", detail=f"{info.filename}: {info.file_size} byte")
    total = sum(i.file_size for i in infos)
    if total > limits.MAX_UNZIPPED_BYTES:
        raise FileProblem("too_large", detail=f"giải nén ra {total} byte")
    try:  # real inflated sizes and DTDs, before any XML is parsed (zipguard's docstring)
        check_members(data, infos, keep=zf.inflated)
    except Refused as exc:
        raise FileProblem(exc.code, detail=exc.detail) from None
    return zf


def open_container(data: bytes, suffix: str) -> tuple[str, zipfile.ZipFile | None]:
    """``xlsx``, ``ods`` or ``xls`` by content (and the open zip), or a whole-file problem."""
    if not data:
        raise FileProblem("not_a_workbook", detail="tệp rỗng, 0 byte")
    if data.startswith(_CFB):
        if suffix in (".xlsx", ".xlsm") and _ENCRYPTED_PACKAGE in data:
            raise FileProblem("file_encrypted")
        return "xls", None
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        zf = _open_zip(data)
        names = set(zf.namelist())
        if "mimetype" in names and zf.read("mimetype").strip().startswith(_ODS_MIME):
            if b"encryption-data" in (zf.read("META-INF/manifest.xml")
                                      if "META-INF/manifest.xml" in names else b""):
                raise FileProblem("file_encrypted")
            return "ods", zf
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return "xlsx", zf
        raise FileProblem("not_a_workbook", detail="tệp nén nhưng không phải bảng tính")
    text = all(b >= 9 for b in data[:512]) or data[:512].lstrip().startswith(b"<")
    detail = "nội dung là văn bản/HTML" if text else "định dạng không nhận ra"
    raise FileProblem("not_a_workbook", detail=f"{detail}, đuôi tệp {suffix}")


def _prop_text(el: Any) -> str:
    """A property value as text; numbers a program turned into decimals become ``1``."""
    text = (el.text or "").strip()
    try:
        number = float(text)
    except ValueError:
        return nfc(text)
    return str(int(number)) if number.is_integer() and "." in text else text


def read_properties(kind: str, zf: zipfile.ZipFile | None
                    ) -> tuple[dict[str, str], dt.datetime | None]:
    """Custom document properties (text) and the workbook's own "modified" time."""
    props: dict[str, str] = {}
    modified = None
    if kind == "xlsx" and zf is not None:
        custom, core = _xml(zf, "docProps/custom.xml"), _xml(zf, "docProps/core.xml")
        for prop in custom if custom is not None else ():
            if prop.get("name") and len(prop):
                props[nfc(prop.get("name"))] = _prop_text(prop[0])
        for el in core if core is not None else ():
            if _local(el.tag) == "modified":
                modified = parse_time(el.text or "", dt.UTC)
    elif kind == "ods" and zf is not None:
        meta = _xml(zf, "meta.xml")
        for el in meta.iter() if meta is not None else ():
            if _local(el.tag) == "user-defined" and el.get(_META_NAME):
                props[nfc(el.get(_META_NAME))] = _prop_text(el)
            elif _local(el.tag) == "date":  # dc:date is ODF's "modified"
                modified = parse_time(el.text or "")
    return props, modified


# --------------------------------------------------------------------------- pre-scans


def _xlsx_sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → zip member of its XML (``xl/workbook.xml`` and its rels, as calamine)."""
    book, rels = _xml(zf, "xl/workbook.xml"), _xml(zf, "xl/_rels/workbook.xml.rels")
    if book is None or rels is None:
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    parts = {}
    for el in book.iter():
        rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
        if _local(el.tag) == "sheet" and targets.get(rid):
            target = targets[rid]
            parts[nfc(el.get("name", ""))] = target.lstrip("/") if target.startswith(
                "/") else posixpath.normpath(posixpath.join("xl", target))
    return parts


def col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _scan_xlsx_sheet(xml: bytes) -> SheetInfo:
    """Farthest row/column, formula cells and merged ranges of a sheet's XML, without
    parsing it.

    Fast path (C-speed byte counts): every row and cell carries an ``r`` attribute and none
    is beyond ZZ999 → the rectangle is at most 702 × 999. Otherwise every reference is
    collected; rows or cells without ``r`` are counted, so the bound stays safe. XML allows
    a tab or a line break wherever a space may stand (``<c\tr="XFD1048576">``): they are
    made spaces first, so no reference escapes the literal patterns."""
    xml = xml.translate(_WHITESPACE)
    root = _ROOT_RE.search(xml, 0, 4096)
    pre = b"<" + (root.group(1) or b"" if root else b"")
    # (with attributes, bare, empty) openings of <row> and of <c>
    (rows, *bare_rows), (cells, *bare_cells) = (
        [xml.count(pre + name + end) for end in (b" ", b">", b"/>")] for name in (b"row", b"c"))
    rows, cells = rows + sum(bare_rows), cells + sum(bare_cells)
    if cells > limits.MAX_SHEET_CELLS:
        return SheetInfo(cells=cells)
    bare = any(bare_rows) or any(bare_cells)
    if not bare and xml.count(b' r="') == rows + cells and not _FAR_RE.search(xml):
        info = SheetInfo(rows=999, cols=702)
    else:
        refs = _REF_RE.findall(xml)
        letters, digits = zip(*refs, strict=True) if refs else ((), ())
        far_row = max(map(int, set(digits) | set(_ROW_RE.findall(xml))), default=0)
        info = SheetInfo(rows=max(far_row, rows),
                          cols=max(max(map(col_number, set(letters)), default=0),
                                   cells if cells > len(refs) else 0))
    if pre + b"f>" in xml or pre + b"f " in xml:
        for col, row in _FORMULA_RE.findall(xml):
            info.formulas.add((int(row) - 1, col_number(col) - 1))
    start = xml.find(pre + b"mergeCells")
    if start >= 0:
        for n, (c1, r1, c2, r2) in enumerate(_MERGE_RE.findall(xml, start)):
            if n == MAX_MERGES:
                break
            info.merges.append((int(r1) - 1, col_number(c1) - 1, int(r2) - 1,
                                col_number(c2) - 1))
    return info


def _scan_ods(zf: zipfile.ZipFile) -> dict[str, SheetInfo]:
    """Per table: farthest row/column holding something (repeats counted), and formula
    cells and merged ranges that are not repeated."""
    tables: dict[str, SheetInfo] = {}
    info, row, col, row_rep, rep = SheetInfo(), 0, 0, 1, 1
    row_used = used = formula = False
    cells = (f"{_T}table-cell", f"{_T}covered-table-cell")
    with zf.open("content.xml") as fh:
        for event, el in SafeET.iterparse(fh, events=("start", "end")):
            if event == "start":
                if el.tag == f"{_T}table":
                    info = tables.setdefault(nfc(el.get(f"{_T}name", "")), SheetInfo())
                    row = 0
                elif el.tag == f"{_T}table-row":
                    row_rep, col, row_used = int(el.get(f"{_T}number-rows-repeated", "1")), 0, False
                elif el.tag in cells:
                    rep = int(el.get(f"{_T}number-columns-repeated", "1"))
                    used = el.get(f"{_O}value-type") is not None
                    formula = el.get(f"{_T}formula") is not None
                    span_r = int(el.get(f"{_T}number-rows-spanned", "1"))
                    span_c = int(el.get(f"{_T}number-columns-spanned", "1"))
                    if (span_r > 1 or span_c > 1) and rep == row_rep == 1 and len(
                            info.merges) < MAX_MERGES:
                        info.merges.append((row, col, row + span_r - 1, col + span_c - 1))
                elif el.tag == _TEXT_P:
                    used = True
                continue
            if el.tag in cells:
                if used or formula:
                    info.cols, row_used = max(info.cols, col + rep), True
                    if formula and rep == row_rep == 1:
                        info.formulas.add((row, col))
                col, used, formula = col + rep, False, False
            elif el.tag == f"{_T}table-row":
                info.rows = max(info.rows, row + row_rep) if row_used else info.rows
                row += row_rep
            el.clear()
    return tables


_INDENT_RE = re.compile(rb">[ \t\r]*\n[ \t\r\n]*<")


def _ods_unindented(zf: zipfile.ZipFile) -> bytes | None:
    """The ODS again with the line breaks and indentation between the tags of its
    ``content.xml`` removed (Gnumeric writes them; python-calamine takes them for cell
    text and refuses the file), or None when there are none. The members were size-checked
    by :func:`_open_zip` already, so the copy stays within the same limits."""
    content = zf.read("content.xml") if "content.xml" in zf.namelist() else b""
    flat = _INDENT_RE.sub(b"><", content)
    if flat == content:
        return None
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for info in zf.infolist():
            if not info.is_dir():
                copy.writestr(info.filename, flat if info.filename == "content.xml" else
                              zf.read(info))
    return out.getvalue()


def short_error(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0][:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Book:
    """One workbook open in memory; a sheet is loaded only after its pre-scan allows it."""

    def __init__(self, data: bytes, kind: str, zf: zipfile.ZipFile | None,
                 cfb_as_xlsx: bool = False) -> None:
        self.kind, self.zf = kind, zf
        try:
            self.book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except PasswordError:
            raise FileProblem("file_encrypted") from None
        except Exception as exc:  # an OLE container named .xlsx that is no .xls: encrypted
            unindented = _ods_unindented(zf) if kind == "ods" and zf is not None else None
            try:
                if unindented is None:
                    raise
                self.book = CalamineWorkbook.from_filelike(io.BytesIO(unindented))
            except Exception:
                code = "file_encrypted" if cfb_as_xlsx else "file_unreadable"
                raise FileProblem(code, detail=short_error(exc)) from None
        self.sheet_names = tuple(nfc(n) for n in self.book.sheet_names)
        self._real = dict(zip(self.sheet_names, self.book.sheet_names, strict=True))
        self._infos: dict[str, SheetInfo] = {}
        self._parts: dict[str, str] | None = None

    def info(self, name: str) -> SheetInfo | None:
        """Pre-scan of one sheet; None for .xls (calamine's own bound: 65536 × 256)."""
        if self.zf is None:
            return None
        if self.kind == "ods":
            self._infos = self._infos or _scan_ods(self.zf)
            return self._infos.get(name, SheetInfo())
        if name not in self._infos:
            self._parts = self._parts if self._parts is not None else _xlsx_sheet_parts(self.zf)
            member = self._parts.get(name)
            if member is None or member not in self.zf.namelist():
                raise FileProblem("file_unreadable", detail=f"thiếu nội dung trang {name}")
            self._infos[name] = _scan_xlsx_sheet(self.zf.read(member))
        return self._infos[name]

    def rows(self, name: str, nrows: int | None = None) -> list[list[Any]]:
        """Values of sheet ``name`` from A1 (blank cells ``''``), within the limits."""
        info = self.info(name)
        if info is not None and info.cells > limits.MAX_SHEET_CELLS:
            raise FileProblem("too_large", detail=f"trang {name} có {info.cells} ô")
        if info is not None and info.rows * info.cols > limits.MAX_SHEET_CELLS:
            corner = a1(info.rows - 1, info.cols - 1)
            raise FileProblem("too_large", detail=f"trang {name} có dữ liệu tới ô {corner}")
        try:
            sheet = self.book.get_sheet_by_name(self._real[name])
            height, width = sheet.total_height, sheet.total_width
            if height * width <= limits.MAX_SHEET_CELLS:
                return sheet.to_python(skip_empty_area=False, nrows=nrows)
        except Exception as exc:
            raise FileProblem("file_unreadable", detail=short_error(exc)) from None
        raise FileProblem("too_large", detail=f"trang {name}: {height} dòng × {width} cột")

