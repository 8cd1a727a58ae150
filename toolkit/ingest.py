"""Walk an inbox, identify each workbook, and read its values through the file's own map.

Reading is values-only (python-calamine: no macro runs, no formula is evaluated; a formula
cell gives its cached result). The inbox is never modified: each file is read once into
memory and hashed there. One bad file never stops a run: every problem becomes a
:class:`~toolkit.models.Finding` on its :class:`~toolkit.models.Submission`.

A mailed file is untrusted input; the limits are the constants below. Cell positions are
checked *before* calamine loads a sheet, because it allocates the whole rectangle up to the
farthest cell: a 6 KB xlsx with one value in XFD1048576 asks for 32 GB and aborts Python.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import os
import posixpath
import re
import sys
import zipfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeET
from python_calamine import CalamineWorkbook, PasswordError

from toolkit.findings import make_finding, message
from toolkit.layout import a1, form_layout
from toolkit.manifest import MANIFEST_NAME, read_manifest
from toolkit.meta import (
    IDENTITY_KEYS,
    KINDS,
    MAP_HEADER,
    META_SHEET,
    CellRef,
    Meta,
    parse_meta,
)
from toolkit.models import CellValue, Submission
from toolkit.recognise import SHIFT_SLACK, relocate_all
from toolkit.spec import Campaign, Form, nfc
from toolkit.units import Unit, UnitRegistry
from toolkit.values import raw_text
from toolkit.zipguard import Refused, check_members

MAX_FILE_BYTES = 20 * 1024 * 1024  # a filled template is ~25 KB, a summary well under 1 MB
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # sum of uncompressed zip members (zip bombs)
MAX_MEMBER_BYTES = 100 * 1024 * 1024  # any one zip member
MAX_ZIP_MEMBERS = 10_000
MAX_SHEET_CELLS = 1_000_000  # rectangle A1..farthest cell of a sheet we load (~32 MB)
EXCEL_MAX_ROWS, EXCEL_MAX_COLS = 1_048_576, 16_384
LOCAL_TZ = dt.timezone(dt.timedelta(hours=7))  # naive times in ODS files are Vietnam time
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")

_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE container: .xls, or an encrypted OOXML
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_ROOT_RE = re.compile(rb"<(\w+:)?worksheet\b")
# literal-led patterns (fast); an r attribute not after a plain space fails the count check
_FAR_RE = re.compile(rb" r=\"(?:[A-Z]{3}|[A-Z]{0,2}\d{4})")  # beyond column ZZ or row 999
_ROW_RE = re.compile(rb"\sr=\"(\d+)\"")  # only <row> has an all-digit r attribute
_REF_RE = re.compile(rb"\sr=\"([A-Z]+)(\d+)\"")  # only <c> has an A1 r attribute
_FORMULA_RE = re.compile(rb" r=\"([A-Z]+)(\d+)\"[^>/]*>\s*<(?:\w+:)?f[\s>/]")
_A1_RE = re.compile(r"\$?([A-Z]{1,3})\$?(\d{1,7})")
_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_O = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT_P = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}p"
_META_NAME = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}name"


@dataclass
class IngestResult:
    """Every workbook seen (identified or not) and the files not read, with why."""

    submissions: list[Submission] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


class _FileProblem(Exception):
    """A whole-file problem: becomes one finding (``code``) and stops reading that file."""

    def __init__(self, code: str, **fields: Any) -> None:
        super().__init__(code)
        self.code, self.fields = code, fields


class _OtherCampaign(Exception):
    """The file belongs to another campaign (its id is the argument): skipped, not read."""


@dataclass
class _SheetInfo:
    """What a cheap pre-scan knows about one sheet before calamine loads it."""

    rows: int = 0  # 1-based farthest row / column holding a cell
    cols: int = 0
    formulas: set[tuple[int, int]] = field(default_factory=set)  # 0-based (row, col)
    cells: int = 0  # <c> elements counted (millions of real cells: refused before parsing)


# --------------------------------------------------------------------------- the inbox


def _skip_code(name: str, path: Path) -> str | None:
    if name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#")) or (
            name.startswith("~") and name.lower().endswith(".tmp")):
        return "lock_file"
    if name.startswith("."):
        return "hidden_file"
    if path.is_symlink():
        return "symlink"
    return None if name.lower().endswith(WORKBOOK_SUFFIXES) else "not_a_spreadsheet"


def _walk(inbox: Path) -> list[tuple[str, Path, str | None]]:
    """(relative NFC POSIX path, path, skip code or None), sorted by relative path. Hidden
    and symlinked folders are listed once and not entered."""
    found: list[tuple[str, Path, str | None]] = []
    for root, dirs, files in os.walk(inbox, followlinks=False):
        here = Path(root)
        for name in list(dirs):
            if name.startswith(".") or (here / name).is_symlink():
                dirs.remove(name)
                code = "hidden_file" if name.startswith(".") else "symlink"
                found.append((nfc((here / name).relative_to(inbox).as_posix()), here / name, code))
        for name in files:
            rel = nfc((here / name).relative_to(inbox).as_posix())
            if rel != MANIFEST_NAME:  # the mail fetcher's record, not a submission
                found.append((rel, here / name, _skip_code(name, here / name)))
    return sorted(found, key=lambda t: t[0])


def _parse_time(text: str, naive_tz: dt.tzinfo = LOCAL_TZ) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=naive_tz)).astimezone(dt.UTC)


# --------------------------------------------------------------------------- containers


def _xml(zf: zipfile.ZipFile, name: str) -> Any | None:
    try:
        return SafeET.fromstring(zf.read(name))
    except KeyError:
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _FileProblem("file_unreadable", detail=f"tệp nén hỏng hoặc thiếu: {exc}") from None
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _FileProblem("too_large", detail=f"{len(infos)} thành phần nén")
    for info in infos:
        if info.flag_bits & 0x1:
            raise _FileProblem("file_encrypted")
        if info.file_size > MAX_MEMBER_BYTES:
            raise _FileProblem("too_large", detail=f"{info.filename}: {info.file_size} byte")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise _FileProblem("too_large", detail=f"giải nén ra {total} byte")
    try:  # real inflated sizes and DTDs, before any XML is parsed (zipguard's docstring)
        check_members(data, infos)
    except Refused as exc:
        raise _FileProblem(exc.code, detail=exc.detail) from None
    return zf


def _container(data: bytes, suffix: str) -> tuple[str, zipfile.ZipFile | None]:
    """``xlsx``, ``ods`` or ``xls`` by content (and the open zip), or a whole-file problem."""
    if not data:
        raise _FileProblem("not_a_workbook", detail="tệp rỗng, 0 byte")
    if data.startswith(_CFB):
        if suffix in (".xlsx", ".xlsm") and _ENCRYPTED_PACKAGE in data:
            raise _FileProblem("file_encrypted")
        return "xls", None
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        zf = _open_zip(data)
        names = set(zf.namelist())
        if "mimetype" in names and zf.read("mimetype").strip().startswith(_ODS_MIME):
            if b"encryption-data" in (zf.read("META-INF/manifest.xml")
                                      if "META-INF/manifest.xml" in names else b""):
                raise _FileProblem("file_encrypted")
            return "ods", zf
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return "xlsx", zf
        raise _FileProblem("not_a_workbook", detail="tệp nén nhưng không phải bảng tính")
    text = all(b >= 9 for b in data[:512]) or data[:512].lstrip().startswith(b"<")
    detail = "nội dung là văn bản/HTML" if text else "định dạng không nhận ra"
    raise _FileProblem("not_a_workbook", detail=f"{detail}, đuôi tệp {suffix}")


def _prop_text(el: Any) -> str:
    """A property value as text; numbers a program turned into decimals become ``1``."""
    text = (el.text or "").strip()
    try:
        number = float(text)
    except ValueError:
        return nfc(text)
    return str(int(number)) if number.is_integer() and "." in text else text


def _properties(kind: str, zf: zipfile.ZipFile | None) -> tuple[dict[str, str], dt.datetime | None]:
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
                modified = _parse_time(el.text or "", dt.UTC)
    elif kind == "ods" and zf is not None:
        meta = _xml(zf, "meta.xml")
        for el in meta.iter() if meta is not None else ():
            if _local(el.tag) == "user-defined" and el.get(_META_NAME):
                props[nfc(el.get(_META_NAME))] = _prop_text(el)
            elif _local(el.tag) == "date":  # dc:date is ODF's "modified"
                modified = _parse_time(el.text or "")
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


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _scan_xlsx_sheet(xml: bytes) -> _SheetInfo:
    """Farthest row/column and formula cells of a sheet's XML, without parsing it.

    Fast path (C-speed byte counts): every row and cell carries an ``r`` attribute and none
    is beyond ZZ999 → the rectangle is at most 702 × 999. Otherwise every reference is
    collected; rows or cells without ``r`` are counted, so the bound stays safe."""
    root = _ROOT_RE.search(xml, 0, 4096)
    pre = b"<" + (root.group(1) or b"" if root else b"")
    rows, cells = (sum(xml.count(pre + name + end) for end in (b" ", b">", b"/>"))
                   for name in (b"row", b"c"))
    if cells > MAX_SHEET_CELLS:
        return _SheetInfo(cells=cells)
    bare = any(pre + name + end in xml for name in (b"row", b"c") for end in (b">", b"/>"))
    if not bare and xml.count(b' r="') == rows + cells and not _FAR_RE.search(xml):
        info = _SheetInfo(rows=999, cols=702)
    else:
        refs = _REF_RE.findall(xml)
        letters, digits = zip(*refs, strict=True) if refs else ((), ())
        far_row = max(map(int, set(digits) | set(_ROW_RE.findall(xml))), default=0)
        info = _SheetInfo(rows=max(far_row, rows),
                          cols=max(max(map(_col_number, set(letters)), default=0),
                                   cells if cells > len(refs) else 0))
    if pre + b"f>" in xml or pre + b"f " in xml:
        for col, row in _FORMULA_RE.findall(xml):
            info.formulas.add((int(row) - 1, _col_number(col) - 1))
    return info


def _scan_ods(zf: zipfile.ZipFile) -> dict[str, _SheetInfo]:
    """Per table: farthest row/column holding something (repeats counted), and formula
    cells that are not repeated."""
    tables: dict[str, _SheetInfo] = {}
    info, row, col, row_rep, rep = _SheetInfo(), 0, 0, 1, 1
    row_used = used = formula = False
    cells = (f"{_T}table-cell", f"{_T}covered-table-cell")
    with zf.open("content.xml") as fh:
        for event, el in SafeET.iterparse(fh, events=("start", "end")):
            if event == "start":
                if el.tag == f"{_T}table":
                    info = tables.setdefault(nfc(el.get(f"{_T}name", "")), _SheetInfo())
                    row = 0
                elif el.tag == f"{_T}table-row":
                    row_rep, col, row_used = int(el.get(f"{_T}number-rows-repeated", "1")), 0, False
                elif el.tag in cells:
                    rep = int(el.get(f"{_T}number-columns-repeated", "1"))
                    used = el.get(f"{_O}value-type") is not None
                    formula = el.get(f"{_T}formula") is not None
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


def _short(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0][:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Book:
    """One workbook open in memory; a sheet is loaded only after its pre-scan allows it."""

    def __init__(self, data: bytes, kind: str, zf: zipfile.ZipFile | None,
                 cfb_as_xlsx: bool = False) -> None:
        self.kind, self.zf = kind, zf
        try:
            self.book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except PasswordError:
            raise _FileProblem("file_encrypted") from None
        except Exception as exc:  # an OLE container named .xlsx that is no .xls: encrypted
            code = "file_encrypted" if cfb_as_xlsx else "file_unreadable"
            raise _FileProblem(code, detail=_short(exc)) from None
        self.sheet_names = tuple(nfc(n) for n in self.book.sheet_names)
        self._real = dict(zip(self.sheet_names, self.book.sheet_names, strict=True))
        self._infos: dict[str, _SheetInfo] = {}
        self._parts: dict[str, str] | None = None

    def info(self, name: str) -> _SheetInfo | None:
        """Pre-scan of one sheet; None for .xls (calamine's own bound: 65536 × 256)."""
        if self.zf is None:
            return None
        if self.kind == "ods":
            self._infos = self._infos or _scan_ods(self.zf)
            return self._infos.get(name, _SheetInfo())
        if name not in self._infos:
            self._parts = self._parts if self._parts is not None else _xlsx_sheet_parts(self.zf)
            member = self._parts.get(name)
            if member is None or member not in self.zf.namelist():
                raise _FileProblem("file_unreadable", detail=f"thiếu nội dung trang {name}")
            self._infos[name] = _scan_xlsx_sheet(self.zf.read(member))
        return self._infos[name]

    def rows(self, name: str, nrows: int | None = None) -> list[list[Any]]:
        """Values of sheet ``name`` from A1 (blank cells ``''``), within the limits."""
        info = self.info(name)
        if info is not None and info.cells > MAX_SHEET_CELLS:
            raise _FileProblem("too_large", detail=f"trang {name} có {info.cells} ô")
        if info is not None and info.rows * info.cols > MAX_SHEET_CELLS:
            corner = a1(info.rows - 1, info.cols - 1)
            raise _FileProblem("too_large", detail=f"trang {name} có dữ liệu tới ô {corner}")
        try:
            sheet = self.book.get_sheet_by_name(self._real[name])
            height, width = sheet.total_height, sheet.total_width
            if height * width <= MAX_SHEET_CELLS:
                return sheet.to_python(skip_empty_area=False, nrows=nrows)
        except Exception as exc:
            raise _FileProblem("file_unreadable", detail=_short(exc)) from None
        raise _FileProblem("too_large", detail=f"trang {name}: {height} dòng × {width} cột")


# --------------------------------------------------------------------------- reading


_MAP_CACHE: dict[tuple[tuple[Any, ...], ...], tuple[CellRef, ...]] = {}
_MAP_CACHE_SIZE = 32  # distinct maps kept (templates of a few campaigns and versions)


def _parse_meta(rows: list[list[Any]]) -> Meta:
    """:func:`~toolkit.meta.parse_meta`, parsing each distinct cell map once per process:
    files from one template share their map, only the identity block differs."""
    start = next((i for i, row in enumerate(rows[:64])
                  if tuple(_map_text(v) for v in row[:5]) == MAP_HEADER), None)
    if start is None:
        return parse_meta(rows)
    key = tuple(tuple(row) for row in rows[start:])
    cells = _MAP_CACHE.get(key)
    if cells is None:
        meta = parse_meta(rows)
        if len(_MAP_CACHE) < _MAP_CACHE_SIZE:
            _MAP_CACHE[key] = meta.cells
        return meta
    return Meta(identity=parse_meta(rows[:start + 1]).identity, cells=cells)


def _map_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else str(value)


def _identify(book: _Book, props: dict[str, str]
              ) -> tuple[dict[str, str], Meta | None, tuple[str, dict[str, Any]] | None]:
    """Identity (``_meta`` first, custom properties filling gaps), the cell map, and the
    problem with ``_meta`` if any (code, message fields)."""
    meta: Meta | None = None
    problem: tuple[str, dict[str, Any]] | None = ("sheet_missing", {"sheet": META_SHEET})
    if META_SHEET in book.sheet_names:
        try:
            meta, problem = _parse_meta(book.rows(META_SHEET)), None
        except ValueError as exc:
            problem = ("meta_unreadable", {"detail": str(exc)})
    identity = {k: v for k, v in props.items() if k in IDENTITY_KEYS and v}
    identity.update({k: v for k, v in (meta.identity if meta else {}).items() if v})
    return identity, meta, problem


_a1 = functools.lru_cache(maxsize=1 << 16)(a1)


@functools.lru_cache(maxsize=1 << 16)
def _cell_position(cell: str) -> tuple[int, int, str]:
    """0-based (row, col) and clean A1 of a map reference; (-1, -1, "") if it is not one."""
    m = _A1_RE.fullmatch(cell.strip().upper())
    if not m:
        return -1, -1, ""
    r, c = int(m.group(2)) - 1, _col_number(m.group(1).encode()) - 1
    return r, c, a1(r, c) if r >= 0 else ""


@dataclass(frozen=True)
class _Plan:
    """What a cell map means for one campaign and one set of sheets: the cells to read per
    sheet, and the findings (code, fields) the map itself gives."""

    wanted: dict[str, list[tuple[CellRef, int, int]]]
    findings: list[tuple[str, dict[str, Any]]]
    unknown: int


_PLANS: dict[tuple[int, str, tuple[str, ...]], tuple[tuple[CellRef, ...], _Plan]] = {}


def _plan(cells: tuple[CellRef, ...], book_sheets: tuple[str, ...], campaign: Campaign) -> _Plan:
    """The read plan of a map; computed once for a map shared by many files (the cached
    map tuple is kept alive with its plan, so its id stays valid)."""
    key = (id(cells), campaign.spec_sha256, book_sheets)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is cells:
        return hit[1]
    forms = {f.id: f for f in campaign.forms}
    inputs = {f.id: {c.key for c in f.input_columns} for f in campaign.forms}
    fixed = {f.id: set(f.row_keys()) for f in campaign.forms if f.kind != "list"}
    wanted: dict[str, list[tuple[CellRef, int, int]]] = {}
    findings: list[tuple[str, dict[str, Any]]] = []
    seen: set[tuple[str, str, str]] = set()
    missing_sheets: set[str] = set()
    unknown = 0
    for ref in cells:
        if ref.column not in inputs.get(ref.form, ()) or ref.row not in fixed.get(ref.form, (
                ref.row,)):
            unknown += 1  # a form, column or fixed row the current plan no longer has
            continue
        if (ref.form, ref.row, ref.column) in seen:
            continue
        seen.add((ref.form, ref.row, ref.column))
        r, c, _cell = _cell_position(ref.cell)
        sheet = nfc(ref.sheet or forms[ref.form].sheet)
        if not (0 <= r < EXCEL_MAX_ROWS and 0 <= c < EXCEL_MAX_COLS):
            findings.append(("cell_outside_sheet", {"form": ref.form, "column": ref.column,
                                                    "row": ref.row, "value": ref.cell,
                                                    "ref": ref.cell}))
        elif sheet not in book_sheets:
            if sheet not in missing_sheets:
                missing_sheets.add(sheet)
                findings.append(("sheet_missing", {"form": ref.form, "sheet": sheet}))
        else:
            wanted.setdefault(sheet, []).append((ref, r, c))
    plan = _Plan(wanted, findings, unknown)
    if any(v is cells for v in _MAP_CACHE.values()) and len(_PLANS) < 4 * _MAP_CACHE_SIZE:
        _PLANS[key] = (cells, plan)
    return plan


def _read_cells(sub: Submission, book: _Book, meta: Meta, campaign: Campaign) -> None:
    """CellValues through the file's own map; sheet and position problems as findings."""
    forms = {f.id: f for f in campaign.forms}

    def add(code: str, **fields: Any) -> None:
        sub.findings.append(make_finding(code, file=sub.file, unit_code=sub.unit_code, **fields))

    plan = _plan(meta.cells, book.sheet_names, campaign)
    for code, fields in plan.findings:
        add(code, **fields)
    unknown, wanted = plan.unknown, plan.wanted
    if unknown or sub.identity.get("spec_sha256") != campaign.spec_sha256:
        add("spec_changed", detail=f" ({unknown} ô không còn trong kế hoạch hiện tại, bỏ qua)"
            if unknown else "")
    for sheet, refs in wanted.items():
        rows = book.rows(sheet, nrows=max(r for _ref, r, _c in refs) + 1 + SHIFT_SLACK)
        refs, verified = relocate_all(forms, refs, rows, sheet, sub.kind == "summary", add)
        info = book.info(sheet) if sub.kind == "template" else None
        for ref, r, c in refs:
            raw = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
            raw = None if raw == "" else raw
            cell = _a1(r, c)
            sub.cells.append(CellValue(ref.form, ref.row, ref.column, cell, raw))
            if info is not None and (r, c) in info.formulas:
                add("formula_in_input", form=ref.form, cell=cell, column=ref.column,
                    row=ref.row, value=raw_text(raw))
        for form_id in sorted({ref.form for ref, _r, _c in refs}):
            if sub.kind == "template" and forms[form_id].kind == "fixed_rows" and (
                    form_id not in verified):
                _check_row_keys(sub, forms[form_id],
                                [(ref.row, r) for ref, r, _c in refs if ref.form == form_id], rows)


def _check_row_keys(sub: Submission, form: Form, map_rows: list[tuple[str, int]],
                    rows: list[list[Any]]) -> None:
    """A fixed row's label (column A) must still show its key where the current layout
    puts it — checked only where the file's map puts that row there too (an older layout
    is left alone)."""
    layout = form_layout(form)
    for row_key in form.rows:
        expected = layout.row(row_key.key).row
        if (row_key.key, expected) not in map_rows:
            continue
        value = rows[expected][0] if expected < len(rows) and rows[expected] else None
        if raw_text(value).strip().casefold() not in (row_key.key.casefold(),
                                                      row_key.label.casefold()):
            sub.findings.append(make_finding(
                "row_key_changed", file=sub.file, unit_code=sub.unit_code, form=form.id,
                cell=a1(expected, 0), row=row_key.key, value=raw_text(value),
                expected=row_key.label))


def _read_into(sub: Submission, data: bytes, campaign: Campaign) -> None:
    """Identify ``data`` and read its cells into ``sub``; raises :class:`_FileProblem` or
    :class:`_OtherCampaign`."""
    suffix = sub.path.suffix.lower()
    kind, zf = _container(data, suffix)
    props, sub.modified_at = _properties(kind, zf)
    book = _Book(data, kind, zf, cfb_as_xlsx=kind == "xls" and suffix in (".xlsx", ".xlsm"))
    sub.sheet_names = book.sheet_names
    sub.identity, meta, meta_problem = _identify(book, props)
    if not sub.campaign:
        if meta_problem is not None and meta_problem[0] == "meta_unreadable":
            raise _FileProblem(meta_problem[0], **meta_problem[1])
        raise _FileProblem("legacy_xls" if kind == "xls" else "no_identity")
    if sub.campaign != campaign.id:
        raise _OtherCampaign(sub.campaign)
    if sub.kind not in KINDS:
        raise _FileProblem("unknown_kind", kind=sub.kind)
    if not sub.unit_code:
        raise _FileProblem("no_identity")
    if meta is None:  # identified by its properties, but without a map nothing can be read
        assert meta_problem is not None
        raise _FileProblem(meta_problem[0], **meta_problem[1])
    _read_cells(sub, book, meta, campaign)


def _read_file(rel: str, path: Path, campaign: Campaign,
               received: dict[str, dt.datetime]) -> Submission:
    """One file as a Submission; a whole-file problem makes it ``unidentified`` (or
    ``rejected`` once unit and campaign are known). Raises :class:`_OtherCampaign`."""
    st = path.stat()
    received_at = received.get(rel) or dt.datetime.fromtimestamp(st.st_mtime, dt.UTC)
    with path.open("rb") as fh:
        if st.st_size > MAX_FILE_BYTES:
            sub = Submission(file=rel, path=path, size=st.st_size, received_at=received_at,
                             sha256=hashlib.file_digest(fh, "sha256").hexdigest())
            problem = _FileProblem("too_large", detail=f"{st.st_size} byte > {MAX_FILE_BYTES}")
            data = b""
        else:
            data = fh.read(MAX_FILE_BYTES + 1)
            sub = Submission(file=rel, path=path, sha256=hashlib.sha256(data).hexdigest(),
                             size=len(data), received_at=received_at)
    if data:
        try:
            _read_into(sub, data, campaign)
            return sub
        except _OtherCampaign:
            raise
        except _FileProblem as exc:
            problem = exc
        except Exception as exc:  # a reader bug on one file stops that file only
            problem = _FileProblem("file_unreadable", detail=_short(exc))
    elif st.st_size <= MAX_FILE_BYTES:
        problem = _FileProblem("not_a_workbook", detail="tệp rỗng, 0 byte")
    finding = make_finding(problem.code, file=rel, unit_code=sub.unit_code, **problem.fields)
    identified = sub.campaign == campaign.id and sub.kind in KINDS and bool(sub.unit_code)
    sub.findings.append(finding)
    sub.status, sub.reason = ("rejected" if identified else "unidentified"), finding.message
    sub.cells = []
    return sub


PARALLEL_MIN_FILES = 48  # below this, starting worker processes costs more than it saves
JOBS_ENV = "TOOLKIT_JOBS"  # worker processes for reading (1: read in this process)
_CHUNK = 8  # files per task sent to a worker

_Outcome = tuple[str, Any]  # ("sub", Submission) | ("other", campaign id) | ("oserror", detail)
_WORKER: dict[str, Any] = {}


def _read_one(rel: str, path: Path, campaign: Campaign,
              received: dict[str, dt.datetime]) -> _Outcome:
    try:
        return "sub", _read_file(rel, path, campaign, received)
    except _OtherCampaign as other:
        return "other", str(other)
    except OSError as exc:  # vanished or unreadable on disk
        return "oserror", _short(exc)


def _init_worker(campaign: Campaign, received: dict[str, dt.datetime]) -> None:
    _WORKER["campaign"], _WORKER["received"] = campaign, received


def _worker_read(job: tuple[str, str]) -> _Outcome:
    """Read one file in a worker; its cells travel back as plain tuples (a tenth of the
    pickling cost of CellValue objects)."""
    kind, value = _read_one(job[0], Path(job[1]), _WORKER["campaign"], _WORKER["received"])
    if kind == "sub":
        cells = [(c.form, c.row, c.column, c.cell, c.raw) for c in value.cells]
        value.cells = []
        return "packed", (value, cells)
    return kind, value


def _unpack(outcome: _Outcome, names: dict[str, str]) -> _Outcome:
    """A worker's outcome with its cells as CellValues again (strings shared, not copied
    per file: ``names`` interns them)."""
    if outcome[0] != "packed":
        return outcome
    sub, cells = outcome[1]
    get = names.setdefault
    sub.cells = [CellValue(get(form, form), get(row, row), get(column, column), get(cell, cell),
                           raw) for form, row, column, cell, raw in cells]
    return "sub", sub


def _jobs(files: int) -> int:
    """Worker processes to read ``files`` files with: one per CPU this process may use,
    none for a small inbox; ``TOOLKIT_JOBS`` overrides."""
    if not sys.platform.startswith("linux"):
        # workers are forked (cheap, and no re-import of the caller's script, which spawn
        # and forkserver do); fork is safe on Linux only
        return 1
    wanted = os.environ.get(JOBS_ENV, "").strip()
    jobs = int(wanted) if wanted.isdigit() else len(os.sched_getaffinity(0))
    return jobs if jobs > 1 and files >= PARALLEL_MIN_FILES else 1


def _outcomes(files: list[tuple[str, Path]], campaign: Campaign,
              received: dict[str, dt.datetime]) -> Generator[_Outcome, None, None]:
    """The outcome of every file, in the order given, read by worker processes when the
    inbox is large (each worker reads whole files; results come back in order)."""
    jobs = _jobs(len(files))
    if jobs == 1:
        for rel, path in files:
            yield _read_one(rel, path, campaign, received)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                             initargs=(campaign, received)) as pool:
        names: dict[str, str] = {}
        for outcome in pool.map(_worker_read, [(rel, str(path)) for rel, path in files],
                                chunksize=_CHUNK):
            yield _unpack(outcome, names)


def ingest(inbox: Path, campaign: Campaign, *,
           progress: Callable[[int], None] | None = None) -> IngestResult:
    """Every workbook under ``inbox`` as a :class:`Submission` (identified or not), and the
    files not read with a Vietnamese reason. Never modifies the inbox. Large inboxes are
    read by worker processes; the result is the same, in the same order."""
    inbox = Path(inbox)
    received = {f: a.date for f, a in read_manifest(inbox).items() if a.date is not None}
    result = IngestResult()
    entries = _walk(inbox)
    files = [(rel, path) for rel, path, skip in entries if skip is None]
    outcomes = _outcomes(files, campaign, received)
    try:
        _collect(result, entries, outcomes, campaign, progress)
    finally:
        outcomes.close()  # stops the workers, also when the caller's progress raised
    return result


def _collect(result: IngestResult, entries: list[tuple[str, Path, str | None]],
             outcomes: Iterator[_Outcome], campaign: Campaign,
             progress: Callable[[int], None] | None) -> None:
    for rel, path, skip in entries:
        if skip is not None:
            result.skipped.append((rel, message(skip)))
        else:
            kind, value = next(outcomes)
            if kind == "sub":
                result.submissions.append(value)
            elif kind == "other":
                result.skipped.append((rel, message("other_campaign", other=value,
                                                    campaign=campaign.id)))
            else:
                sub = Submission(file=rel, path=path, sha256="", size=0, status="unidentified")
                sub.findings.append(make_finding("file_unreadable", file=rel, unit_code="",
                                                 detail=value))
                sub.reason = sub.findings[-1].message
                result.submissions.append(sub)
        if progress is not None:
            progress(1)


# --------------------------------------------------------------------------- selection


def _newness(sub: Submission) -> tuple[dt.datetime, dt.datetime, str]:
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    return (sub.modified_at or oldest, sub.received_at or oldest, sub.file)


def _mark(sub: Submission, status: str, code: str, **fields: Any) -> None:
    finding = make_finding(code, file=sub.file, unit_code=sub.unit_code, **fields)
    sub.findings.append(finding)
    sub.status, sub.reason = status, finding.message


def select(submissions: list[Submission], units: UnitRegistry, office: Unit,
           campaign: Campaign) -> None:
    """Decide which identified file speaks for each child unit of ``office``.

    Unknown units and units that do not report to ``office`` become ``unidentified``; of
    several files from one unit the newest (workbook "modified" time, then received time,
    then path) is kept and the others are ``superseded`` (``duplicate_copy`` for
    byte-identical copies). Chosen files keep their status ("" or ``rejected``)."""
    del campaign  # identity was already checked against it by ingest
    by_unit: dict[str, list[Submission]] = {}
    for sub in submissions:
        if sub.status not in ("", "rejected") or not sub.unit_code:
            continue
        if sub.unit_code not in units:
            _mark(sub, "unidentified", "unit_unknown")
            continue
        unit = units.get(sub.unit_code)
        if unit.parent != office.code:
            parent = units.parent_of(unit)
            _mark(sub, "unidentified", "unit_not_child", unit_name=unit.name,
                  parent_name=parent.name if parent else "cấp cao nhất",
                  office_name=office.name)
            continue
        by_unit.setdefault(unit.code, []).append(sub)
    for subs in by_unit.values():
        chosen, *others = sorted(subs, key=_newness, reverse=True)
        for other in others:
            if other.sha256 == chosen.sha256:
                _mark(other, "superseded", "duplicate_copy", other=chosen.file)
            else:
                _mark(other, "superseded", "superseded", newer=chosen.file,
                      unit_name=chosen.unit_name or chosen.unit_code)
