"""What a plan is read into (paragraphs, tables as grids of merged cells, the plan), the
limits every reader keeps, and the checks shared by the Word and Excel readers
(:mod:`toolkit.author.plan_docx`, :mod:`toolkit.author.plan_xlsx`)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from toolkit.spec.text import nfc

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
            parts.append(f"ô {a1(self.origin[0] + row, self.origin[1] + col)}")
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


# --------------------------------------------------------------------------- shared


def caption_above(paragraphs: Sequence[Paragraph], since: int) -> tuple[str, ...]:
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


def is_layout(table: Table) -> bool:
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


def check_tables(plan: Plan) -> None:
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


def a1(row: int, col: int) -> str:
    """Zero-based row and column → ``B3``."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"
