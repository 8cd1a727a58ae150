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

import datetime as dt
import io
import itertools
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from toolkit._infra import soffice
from toolkit._infra.zipguard import Refused, check_members
from toolkit.spec.text import clean_text, nfc

# Limits: a real plan is a few hundred KB with a handful of tables; these are far above
# that and far below what would hurt the machine.
MAX_PLAN_BYTES = 20 * 1024 * 1024
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 5_000
MAX_TABLES = 200
MAX_TABLE_ROWS = 2_000
MAX_TABLE_COLS = 100
MAX_SHEET_CELLS = 200_000
CONVERT_SECONDS = 120.0

_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE container: .doc, .xls, encrypted OOXML
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_NUMBERISH = re.compile(r"^[\s\d.,:%/()+\-–…]*$|^(?:\.{3,}|…+|x|X|-)$")
_COLUMN_MARK = re.compile(r"^\(?\s*(\d{1,2}|[A-Z]{1,2})\s*\)?$")
_APPENDIX = re.compile(r"^\s*(phụ\s*lục|biểu(\s*mẫu)?|mẫu(\s*số)?|đơn\s*vị\s*[.…:_])",
                       re.IGNORECASE)
_LAYOUT_MARKS = re.compile(
    r"ĐOÀN TNCS HỒ CHÍ MINH|CỘNG H[OÒ]A XÃ HỘI|Độc lập\s*[-–]\s*Tự do|^\s*Số\s*[:.]|Nơi nhận"
    r"|^\s*(?:TM|T/M|KT|K/T|TL|T/L)\s*[.:]|\(Đã ký\)|\(Ký,? (?:tên|ghi rõ)"
    r"|ngày\s*(?:\d{1,2}|[.…]{2,})\s*tháng\s*(?:\d{1,2}|[.…]{2,})\s*năm",
    re.IGNORECASE | re.MULTILINE)


class PlanError(ValueError):
    """A plan that cannot be read as a plan: the message (Vietnamese) says where and why,
    e.g. ``Bảng 3 (Phụ lục 2), dòng 2, cột 4: …``."""

    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = nfc(where), nfc(problem)
        super().__init__(f"{self.where}: {self.problem}")


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of text, in document order. ``table`` is 0 for body text, else the
    number of the layout table (heading or signature block) the text sits in."""

    text: str
    style: str = ""
    bold: bool = False
    align: str = ""  # "left", "center", "right", "justify" or "" (inherited)
    table: int = 0


@dataclass(frozen=True)
class Cell:
    """One cell of a table's grid: a merged area is one cell with its extent (0-based)."""

    row: int
    col: int
    text: str
    row_span: int = 1
    col_span: int = 1

    @property
    def last_row(self) -> int:
        return self.row + self.row_span - 1

    @property
    def last_col(self) -> int:
        return self.col + self.col_span - 1


@dataclass(frozen=True)
class Table:
    """One table: its caption (the paragraphs just above it, in order), its cells, and
    where it sits (``position`` = how many :attr:`Plan.paragraphs` precede it).

    ``layout`` marks a table that only lays text out (the heading block with the issuer
    and «Số: …», the signature block): its text is also in :attr:`Plan.paragraphs`."""

    number: int
    caption: tuple[str, ...]
    cells: tuple[Cell, ...]
    n_rows: int
    n_cols: int
    position: int = 0
    layout: bool = False
    sheet: str = ""  # xlsx: the sheet the table is drawn on
    origin: tuple[int, int] = (0, 0)  # xlsx: 0-based sheet row and column of the top-left

    @cached_property
    def grid(self) -> tuple[tuple[Cell | None, ...], ...]:
        """Every grid position → the cell covering it (None where a row is short)."""
        rows: list[list[Cell | None]] = [[None] * self.n_cols for _ in range(self.n_rows)]
        for cell in self.cells:
            for r in range(cell.row, cell.row + cell.row_span):
                for c in range(cell.col, cell.col + cell.col_span):
                    rows[r][c] = cell
        return tuple(tuple(r) for r in rows)

    def at(self, row: int, col: int) -> Cell | None:
        return self.grid[row][col]

    def text(self, row: int, col: int) -> str:
        cell = self.grid[row][col]
        return cell.text if cell is not None else ""

    def starting_in(self, row: int) -> list[Cell]:
        """The cells whose top row is ``row``, left to right."""
        seen: list[Cell] = []
        for cell in self.grid[row]:
            if cell is not None and cell.row == row and (not seen or seen[-1] is not cell):
                seen.append(cell)
        return seen

    @property
    def label(self) -> str:
        """``Bảng 3 (Phụ lục 2)``: the number a clerk counts and the caption's marker."""
        marker = next((m.group(0).strip() for line in reversed(self.caption)
                       if (m := re.match(r"\s*(phụ\s*lục|biểu(\s*mẫu)?(\s*số)?|mẫu(\s*số)?)"
                                         r"\s*[\w.]+", line, re.IGNORECASE))), "")
        sheet = f"trang tính «{self.sheet}»" if self.sheet else ""
        extra = ", ".join(x for x in (marker, sheet) if x)
        return f"Bảng {self.number}" + (f" ({extra})" if extra else "")

    def where(self, row: int | None = None, col: int | None = None) -> str:
        """A position as a clerk finds it: ``Bảng 3 (Phụ lục 2), dòng 2, cột 4``; on a
        sheet, the cell too (``ô D7``)."""
        parts = [self.label]
        if row is not None:
            parts.append(f"dòng {row + 1}")
        if col is not None:
            parts.append(f"cột {col + 1}")
        if self.sheet and row is not None and col is not None:
            parts.append(f"ô {_a1(self.origin[0] + row, self.origin[1] + col)}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Plan:
    """A plan as neutral data: what :func:`toolkit.author.propose.propose` infers from."""

    filename: str
    kind: str  # "docx" or "xlsx" (after any conversion)
    paragraphs: tuple[Paragraph, ...]
    tables: tuple[Table, ...]
    converted_from: str = ""  # "doc", "ods", "odt", "xls", "rtf" when LibreOffice converted
    created: dt.date | None = None  # the file's own "created" property, when it has one

    @property
    def data_tables(self) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if not t.layout)


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
    plan = _read_docx(data, name) if kind == "docx" else _read_xlsx(data, name)
    plan = Plan(plan.filename, plan.kind, plan.paragraphs, plan.tables, converted, plan.created)
    _check_tables(plan)
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


# --------------------------------------------------------------------------- docx


def _read_docx(data: bytes, name: str) -> Plan:
    """A Word plan (its zip already checked by :func:`_sniff`)."""
    import docx  # python-docx: only a plan needs it

    where = f"Tệp «{name}»"
    try:
        document = docx.Document(io.BytesIO(data))
        styles = _Styles(document.styles.element)
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors…
        raise PlanError(where, "không mở được tệp Word: tệp bị hỏng hoặc không đúng định dạng "
                        f"(chi tiết: {type(exc).__name__}: {exc})") from None
    paragraphs: list[Paragraph] = []
    tables: list[Table] = []
    last_table_at = 0  # paragraphs before this index belong to an earlier table's caption
    for element in _body_blocks(document.element.body):
        if element.tag == f"{_W}p":
            for box in _text_boxes(element):
                paragraphs.append(styles.paragraph(box))
            paragraphs.append(styles.paragraph(element))
            continue
        number = len(tables) + 1
        if number > MAX_TABLES:
            raise PlanError(where, f"tệp có hơn {MAX_TABLES} bảng")
        caption = _caption(paragraphs, last_table_at)
        cells, n_rows, n_cols = _docx_grid(element, Table(number, caption, (), 0, 0).label)
        table = Table(number, (), tuple(cells), n_rows, n_cols, position=len(paragraphs))
        layout = _is_layout(table)
        table = Table(number, () if layout else caption, table.cells, n_rows, n_cols,
                      len(paragraphs), layout)
        tables.append(table)
        if layout:
            for row in range(n_rows):
                for cell in table.starting_in(row):
                    paragraphs.extend(Paragraph(line, table=number)
                                      for line in cell.text.split("\n"))
        last_table_at = len(paragraphs)
    created = document.core_properties.created
    return Plan(name, "docx", tuple(paragraphs), tuple(tables),
                created=created.date() if isinstance(created, dt.datetime) else None)


def _body_blocks(body: Any) -> Iterator[Any]:
    """Paragraphs and tables of the body in order, looking inside content controls."""
    for child in body.iterchildren():
        if child.tag in (f"{_W}p", f"{_W}tbl"):
            yield child
        elif child.tag in (f"{_W}sdt", f"{_W}customXml"):
            content = child.find(f"{_W}sdtContent")
            yield from _body_blocks(content if content is not None else child)


def _text_boxes(p: Any) -> list[Any]:
    """Paragraphs inside text boxes anchored in ``p`` (a heading block is sometimes drawn
    in text boxes); the VML fallback copy of each box is skipped."""
    out = []
    for box in p.iter(f"{_W}txbxContent"):
        if any(a.tag == _MC_FALLBACK for a in box.iterancestors()):
            continue
        out.extend(box.iter(f"{_W}p"))
    return out


_SKIP = frozenset(f"{_W}{tag}" for tag in ("del", "delText", "instrText", "txbxContent",
                                            "pPr", "rPr", "drawing", "pict", "fldChar"))
_ALIGN = {"left": "left", "start": "left", "center": "center", "right": "right",
          "end": "right", "both": "justify", "distribute": "justify"}


def _text(element: Any) -> str:
    """The visible text of a paragraph: runs, hyperlinks and tracked insertions; a tab and a
    line break as ``\\t`` and ``\\n``; never deleted text, field codes or text boxes (those
    are read as paragraphs of their own)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        for child in node.iterchildren():
            tag = child.tag
            if tag == f"{_W}t":
                out.append(child.text or "")
            elif tag in (f"{_W}tab", f"{_W}ptab"):
                out.append("\t")
            elif tag in (f"{_W}br", f"{_W}cr"):
                out.append("\n")
            elif tag == f"{_W}noBreakHyphen":
                out.append("-")
            elif tag not in _SKIP and tag != _MC_FALLBACK and isinstance(tag, str):
                walk(child)

    walk(element)
    return "".join(out)


def _on(el: Any) -> bool | None:
    """A toggle property (``<w:b/>``, ``<w:b w:val="0"/>``): True, False, or None if absent."""
    if el is None:
        return None
    return el.get(f"{_W}val", "true") not in ("0", "false", "off")


class _Styles:
    """Paragraph styles by id, resolved once (python-docx looks a style up by scanning the
    whole styles part each time: seconds for a long plan)."""

    def __init__(self, root: Any) -> None:
        raw: dict[str, tuple[str, bool | None, str, str]] = {}
        self.default = ""
        for style in root.iterchildren(f"{_W}style"):
            if style.get(f"{_W}type") != "paragraph":
                continue
            sid = style.get(f"{_W}styleId", "")
            raw[sid] = (_w_val(style, f"{_W}name") or sid,
                        _on(style.find(f"{_W}rPr/{_W}b")),
                        _w_val(style, f"{_W}pPr/{_W}jc") or "",
                        _w_val(style, f"{_W}basedOn") or "")
            if style.get(f"{_W}default") in ("1", "true"):
                self.default = sid
        self.styles: dict[str, tuple[str, bool, str]] = {}
        for sid in raw:
            name, bold, jc, based = raw[sid]
            seen = {sid}
            while (bold is None or not jc) and based in raw and based not in seen:
                seen.add(based)
                _, b2, jc2, based = raw[based]
                bold = b2 if bold is None else bold
                jc = jc or jc2
            self.styles[sid] = (name, bool(bold), jc)

    def paragraph(self, p: Any) -> Paragraph:
        text = clean_text(_text(p))
        if not text:
            return Paragraph("")
        sid = _w_val(p, f"{_W}pPr/{_W}pStyle") or self.default
        name, style_bold, style_jc = self.styles.get(sid, ("", False, ""))
        runs = [r for r in p.iter(f"{_W}r") if _text(r).strip()]
        bold = bool(runs) and all(
            (b if (b := _on(r.find(f"{_W}rPr/{_W}b"))) is not None else style_bold)
            for r in runs)
        jc = _w_val(p, f"{_W}pPr/{_W}jc") or style_jc
        return Paragraph(text, style=name, bold=bold, align=_ALIGN.get(jc, ""))


def _w_val(el: Any, path: str) -> str | None:
    found = el.find(path)
    if found is None:
        return None
    return str(found.get(f"{_W}val", ""))


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, int(value)) if value else default
    except ValueError:
        return default


def _docx_grid(tbl: Any, label: str) -> tuple[list[Cell], int, int]:
    """The grid of one Word table from its XML: ``gridSpan`` (columns), ``vMerge`` (rows,
    continued over any number of rows), legacy ``hMerge``, ``gridBefore`` (a row starting
    further right). A continuation that does not line up with the cell above is an
    irregular merge: a :class:`PlanError` naming the table, row and column."""
    rows = [tr for tr in _rows(tbl)]
    if len(rows) > MAX_TABLE_ROWS:
        raise PlanError(label, f"bảng có {len(rows)} dòng, quá nhiều")
    # mutable anchors while building: [row, col, row_span, col_span, text]
    anchors: list[list[Any]] = []
    owner: list[dict[int, int]] = []  # per row: grid column -> anchor index
    n_cols = 0
    for r, tr in enumerate(rows):
        owner.append({})
        col = _int(_w_val(tr, f"{_W}trPr/{_W}gridBefore"), 0)
        for tc in _cells(tr):
            span = _int(_w_val(tc, f"{_W}tcPr/{_W}gridSpan"), 1)
            vmerge = _w_val(tc, f"{_W}tcPr/{_W}vMerge")
            hmerge = _w_val(tc, f"{_W}tcPr/{_W}hMerge")
            if col + span > MAX_TABLE_COLS:
                raise PlanError(f"{label}, dòng {r + 1}", f"bảng rộng hơn {MAX_TABLE_COLS} cột")
            continues_up = vmerge is not None and vmerge != "restart" and r > 0
            above = owner[r - 1].get(col) if continues_up else None
            if continues_up and above is not None:
                a = anchors[above]
                if a[1] != col or a[3] != span or a[0] + a[2] != r:
                    raise PlanError(
                        f"{label}, dòng {r + 1}, cột {col + 1}",
                        "ô gộp dọc không khớp với ô phía trên (các ô gộp chồng lên nhau "
                        "không thành hình chữ nhật); hãy tách ô rồi gộp lại cho thẳng hàng")
                a[2] += 1
                for c in range(col, col + span):
                    owner[r][c] = above
            elif hmerge is not None and hmerge != "restart" and col - 1 in owner[r]:
                left = owner[r][col - 1]
                a = anchors[left]
                if a[0] != r or a[2] != 1:
                    raise PlanError(f"{label}, dòng {r + 1}, cột {col + 1}",
                                    "ô gộp ngang không khớp với ô bên trái")
                a[3] += span
                for c in range(col, col + span):
                    owner[r][c] = left
            else:
                text = "\n".join(t for t in (clean_text(_text(p)) for p in tc.iter(f"{_W}p"))
                                  if t)
                anchors.append([r, col, 1, span, text])
                for c in range(col, col + span):
                    owner[r][c] = len(anchors) - 1
            col += span
        n_cols = max(n_cols, col)
    cells = [Cell(a[0], a[1], a[4], a[2], a[3]) for a in anchors]
    return cells, len(rows), n_cols


def _rows(tbl: Any) -> Iterator[Any]:
    for child in tbl.iterchildren():
        if child.tag == f"{_W}tr":
            yield child
        elif child.tag in (f"{_W}sdt", f"{_W}customXml"):
            content = child.find(f"{_W}sdtContent")
            yield from _rows(content if content is not None else child)


def _cells(tr: Any) -> Iterator[Any]:
    for child in tr.iterchildren():
        if child.tag == f"{_W}tc":
            yield child
        elif child.tag in (f"{_W}sdt", f"{_W}customXml"):
            content = child.find(f"{_W}sdtContent")
            yield from _cells(content if content is not None else child)


# --------------------------------------------------------------------------- xlsx


def _read_xlsx(data: bytes, name: str) -> Plan:
    """One drawn table per sheet (the zip already checked by :func:`_sniff`): the table
    starts at the first row holding two or more cells (with a value or a border) and goes on
    while rows hold something; text above it is its caption, other text is paragraphs."""
    import openpyxl

    where = f"Tệp «{name}»"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise PlanError(where, "không mở được bảng tính: tệp bị hỏng hoặc không đúng định dạng "
                        f"(chi tiết: {type(exc).__name__}: {exc})") from None
    paragraphs: list[Paragraph] = []
    tables: list[Table] = []
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        table = _sheet_table(ws, len(tables) + 1, paragraphs, name)
        if table is not None:
            tables.append(table)
        if len(tables) > MAX_TABLES:
            raise PlanError(where, f"tệp có hơn {MAX_TABLES} bảng")
    created = wb.properties.created
    return Plan(name, "xlsx", tuple(paragraphs), tuple(tables),
                created=created.date() if isinstance(created, dt.datetime) else None)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "x" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return clean_text(str(value))


def _sheet_table(ws: Any, number: int, paragraphs: list[Paragraph], name: str
                 ) -> Table | None:
    n_rows, n_cols = ws.max_row or 0, ws.max_column or 0
    if n_rows * n_cols > MAX_SHEET_CELLS:
        raise PlanError(f"Tệp «{name}», trang tính «{ws.title}»",
                        f"vùng dữ liệu {n_rows}×{n_cols} ô, quá lớn")
    merges: list[tuple[int, int, int, int]] = []  # 0-based inclusive r0, c0, r1, c1
    for rng in ws.merged_cells.ranges:
        merges.append((rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1))
    _check_overlaps(merges, number, ws.title)
    values: list[list[str]] = []
    bordered: list[list[bool]] = []
    for row in ws.iter_rows(min_row=1, max_row=n_rows, max_col=n_cols):
        values.append([_cell_text(c.value) for c in row])
        bordered.append([_has_border(c) for c in row])
    merge_at: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for m in merges:
        for r in range(m[0], m[2] + 1):
            for c in range(m[1], m[3] + 1):
                merge_at[(r, c)] = m

    def anchors_in(r: int) -> int:
        """Distinct cells of row r holding a value or a border (a merge counts once)."""
        seen: set[tuple[int, ...]] = set()
        for c in range(n_cols):
            if values[r][c] or bordered[r][c] or (r, c) in merge_at:
                m = merge_at.get((r, c))
                key: tuple[int, ...] = m if m is not None else (r, c)
                if m is None or values[m[0]][m[1]] or any(
                        bordered[rr][cc] for rr in range(m[0], m[2] + 1)
                        for cc in range(m[1], m[3] + 1)):
                    seen.add(key)
        return len(seen)

    counts = [anchors_in(r) for r in range(n_rows)]
    # a drawn table has borders: when the sheet has any, the table starts at the first row
    # with two bordered cells (a caption line «ĐƠN VỊ: …… Biểu số 01» has two texts, no
    # borders); a sheet without borders falls back to the first row with two values
    boxed = [sum(1 for c in range(n_cols) if bordered[r][c]) for r in range(n_rows)]
    top = next((r for r in range(n_rows) if boxed[r] >= 2), None)
    if top is None:
        top = next((r for r in range(n_rows) if counts[r] >= 2), None)
    if top is None:
        paragraphs.extend(Paragraph(t) for r in range(n_rows)
                          for t in (" ".join(v for v in values[r] if v),) if t)
        return None
    bottom = top  # the table goes on while rows hold something (a year, a border)
    while bottom + 1 < n_rows and (counts[bottom + 1] >= 1 or any(
            (bottom + 1, c) in merge_at and merge_at[(bottom + 1, c)][0] <= bottom
            for c in range(n_cols))):
        bottom += 1
    cols = [c for r in range(top, bottom + 1) for c in range(n_cols)
            if values[r][c] or bordered[r][c]]
    left, right = min(cols), max(cols)
    for m in merges:
        if m[0] <= bottom and m[2] >= top and m[1] <= right and m[3] >= left:
            left, right = min(left, m[1]), max(right, m[3])
    above_at = len(paragraphs)
    for r in range(top):
        line = " ".join(v for v in values[r] if v)
        if line:
            paragraphs.append(Paragraph(line))
    cells: list[Cell] = []
    done: set[tuple[int, int, int, int]] = set()
    for r in range(top, bottom + 1):
        for c in range(left, right + 1):
            merged = merge_at.get((r, c))
            if merged is None:
                cells.append(Cell(r - top, c - left, values[r][c]))
            elif merged not in done:
                done.add(merged)
                r0, c0, r1, c1 = merged
                if r0 < top or r1 > bottom or c0 < left or c1 > right:
                    raise PlanError(f"Bảng {number} (trang tính «{ws.title}»), ô {_a1(r0, c0)}",
                                    "ô gộp vượt ra ngoài bảng")
                cells.append(Cell(r0 - top, c0 - left, values[r0][c0], r1 - r0 + 1, c1 - c0 + 1))
    cells.sort(key=lambda x: (x.row, x.col))
    caption = _caption(paragraphs, above_at)
    table = Table(number, caption, tuple(cells), bottom - top + 1, right - left + 1,
                  position=len(paragraphs), sheet=nfc(ws.title), origin=(top, left))
    for r in range(bottom + 1, n_rows):
        line = " ".join(v for v in values[r] if v)
        if line:
            paragraphs.append(Paragraph(line))
    return table


def _has_border(cell: Any) -> bool:
    border = cell.border
    if border is None:
        return False
    return any(getattr(getattr(border, side, None), "style", None)
               for side in ("left", "right", "top", "bottom"))


def _check_overlaps(merges: Sequence[tuple[int, int, int, int]], number: int,
                    sheet: str) -> None:
    """Two merged ranges that share a cell: Excel never writes that, a damaged or
    hand-made file can, and then nobody knows which header a cell belongs to."""
    ordered = sorted(merges)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b[0] > a[2]:
                break
            if b[1] <= a[3] and b[3] >= a[1]:
                raise PlanError(
                    f"Bảng {number} (trang tính «{sheet}»), ô {_a1(b[0], b[1])}",
                    f"vùng gộp {_a1(a[0], a[1])}:{_a1(a[2], a[3])} chồng lên vùng gộp "
                    f"{_a1(b[0], b[1])}:{_a1(b[2], b[3])}; hãy bỏ gộp rồi gộp lại")


def _a1(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


# --------------------------------------------------------------------------- shared


def _caption(paragraphs: Sequence[Paragraph], since: int) -> tuple[str, ...]:
    """The paragraphs just above a table: up to four non-empty body paragraphs after the
    previous table; if one of them starts a caption («Phụ lục…», «Biểu…», «Mẫu…»,
    «ĐƠN VỊ…»), the caption starts there, else it is the nearest two."""
    found: list[str] = []
    for p in reversed(paragraphs[since:]):
        if p.table or len(found) == 4:
            break
        if p.text:
            if len(p.text) > 400:
                break
            found.append(p.text)
    found.reverse()
    marks = [i for i, text in enumerate(found) if _APPENDIX.match(text)]
    if marks:
        return tuple(found[marks[0]:])
    return tuple(found[-2:])


def _is_layout(table: Table) -> bool:
    """A small table that lays out the heading or signature block, or a boxed note."""
    if table.n_rows * table.n_cols <= 1:
        return True
    if table.n_rows > 4 or table.n_cols > 3:
        return False
    return any(_LAYOUT_MARKS.search(c.text) for c in table.cells)


def is_numberish(text: str) -> bool:
    """Blank, a number, a running number, «…», «-»: what fills a data cell, never a
    header."""
    return bool(_NUMBERISH.match(text))


def column_marks(texts: Sequence[str]) -> bool:
    """A row of column numbers — «(1) (2) (3)…», «1 2 3…», «A B 1 2…» — which plans put
    under the header and which is neither header nor data."""
    marks = [t for t in texts if t]
    if len(marks) < 2 or len(marks) * 2 < len(texts):
        return False
    numbers: list[int] = []
    for text in marks:
        m = _COLUMN_MARK.match(text)
        if m is None:
            return False
        if m.group(1).isdigit():
            numbers.append(int(m.group(1)))
    return len(numbers) >= 2 and all(b == a + 1 for a, b in itertools.pairwise(numbers))


def _check_tables(plan: Plan) -> None:
    """A plan needs at least one table that is not a heading/signature block, and every
    such table needs a header row."""
    if not plan.tables:
        raise PlanError(f"Tệp «{plan.filename}»", "kế hoạch không có bảng nào; các phụ lục "
                        "(biểu số liệu) phải được vẽ thành bảng trong Word hoặc Excel")
    if not plan.data_tables:
        raise PlanError(f"Tệp «{plan.filename}»", "kế hoạch không có bảng phụ lục nào (chỉ "
                        "có bảng tiêu đề hoặc chữ ký); các phụ lục phải được vẽ thành bảng")
    for table in plan.data_tables:
        first = [c.text for c in table.starting_in(0)]
        if not any(first):
            raise PlanError(table.where(0), "bảng không có dòng tiêu đề: dòng đầu tiên trống. "
                            "Hãy ghi tên cột (ví dụ «TT», «Nội dung», «Số lượng») ở dòng đầu")
        if all(is_numberish(t) for t in first) or column_marks(first):
            shown = ", ".join(f"«{t}»" for t in first if t)[:80]
            raise PlanError(table.where(0), f"bảng không có dòng tiêu đề: dòng đầu tiên chỉ "
                            f"có số ({shown}). Hãy thêm dòng tên cột phía trên")


__all__ = ["Cell", "Paragraph", "Plan", "PlanError", "Table", "column_marks", "is_numberish",
           "read_plan"]
