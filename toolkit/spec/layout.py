"""Cell positions of a form sheet, shared by every writer and by the reader.

A form sheet is, top to bottom: the heading block of a Đoàn document, the title, the
multi-level header built from the columns' header paths (merged automatically), a row of
column numbers ``(1) (2) …``, then the data rows. All positions here are 0-based
(row, col) as xlsxwriter uses them; :func:`a1` turns them into what a clerk sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name, xl_rowcol_to_cell

from toolkit.spec.campaign import Column, Form

# Fixed rows of the heading block (0-based).
ORG_ROW = 0  # left: superior organisation; right: ĐOÀN TNCS HỒ CHÍ MINH
UNIT_ROW = 1  # left: the unit's own name; right: place and date line
STARS_ROW = 2  # left: "***"
NUMBER_TITLE_ROW = 4  # "PHỤ LỤC 1"
TITLE_ROW = 5  # the form's title
SOURCE_ROW = 6  # "(Kèm theo Kế hoạch số … )"
HEADER_TOP = 8  # first header row

TOTAL_KEY = "total"
DOTS = "……………………"  # a name or place left for the unit to write in
MAX_ROWS = 1_048_576  # Excel's sheet size
MAX_COLS = 16_384
_A1 = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}")


def a1(row: int, col: int) -> str:
    """0-based (row, col) → ``C7``."""
    return xl_rowcol_to_cell(row, col)


def rowcol(cell: str) -> tuple[int, int]:
    """``C7`` → 0-based (row, col); raises ValueError on a malformed reference."""
    cell = cell.strip().upper().replace("$", "")
    match = _A1.fullmatch(cell)
    if not match:
        raise ValueError(f"not an A1 reference: {cell!r}")
    row, col = xl_cell_to_rowcol(cell)
    if not (0 <= row < MAX_ROWS and 0 <= col < MAX_COLS):
        raise ValueError(f"outside the sheet: {cell!r}")
    return row, col


def col_name(col: int) -> str:
    return xl_col_to_name(col)


@dataclass(frozen=True)
class HeaderCell:
    """One (possibly merged) header cell."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int
    label: str

    @property
    def merged(self) -> bool:
        return (self.first_row, self.first_col) != (self.last_row, self.last_col)


@dataclass(frozen=True)
class DataRow:
    """One data row of the sheet. ``kind``: ``input`` (a unit fills it), ``total``, ``unit``
    (one unit's figures in a summary), or any other tag a writer needs."""

    key: str
    label: str
    row: int
    kind: str = "input"
    skip: frozenset[str] = frozenset()  # columns of this row that are not value cells


@dataclass(frozen=True)
class FormLayout:
    """Where everything of one form sits on its sheet."""

    form: Form
    columns: dict[str, int]
    extra_columns: dict[str, int]
    header_cells: tuple[HeaderCell, ...]
    header_rows: int
    rows: tuple[DataRow, ...]
    widths: dict[int, float] = field(default_factory=dict)

    @property
    def ncols(self) -> int:
        return 1 + len(self.extra_columns) + len(self.columns)

    @property
    def last_col(self) -> int:
        return self.ncols - 1

    @property
    def number_row(self) -> int:
        """The ``(1) (2) …`` row under the header."""
        return HEADER_TOP + self.header_rows

    @property
    def first_data_row(self) -> int:
        return self.number_row + 1

    @property
    def last_row(self) -> int:
        return self.rows[-1].row if self.rows else self.number_row

    def row(self, key: str) -> DataRow:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)

    def cell(self, row_key: str, col_key: str) -> str:
        """A1 reference of the value of ``col_key`` in row ``row_key``."""
        return a1(self.row(row_key).row, self.columns[col_key])

    def input_cells(self, kinds: Sequence[str] = ("input",)) -> Iterator[tuple[str, Column, str]]:
        """Every value cell a unit fills in: (row key, column, A1), in reading order."""
        for r in self.rows:
            if r.kind not in kinds:
                continue
            for col in self.form.input_columns:
                if col.key not in r.skip:
                    yield r.key, col, a1(r.row, self.columns[col.key])


def _default_width(col: Column) -> float:
    if col.width:
        return float(col.width)
    return {"text": 24.0, "date": 12.0, "choice": 16.0}.get(col.type, 11.0)


def header_cells(
    columns: Sequence[Column], first_col: int, top: int, depth: int
) -> list[HeaderCell]:
    """Merged header cells from header paths: equal consecutive prefixes share one cell;
    a path shorter than ``depth`` reaches down to the last header row."""
    cells: list[HeaderCell] = []
    for level in range(depth):
        start = 0
        while start < len(columns):
            col = columns[start]
            if len(col.header) <= level:
                start += 1
                continue
            prefix = col.header[: level + 1]
            end = start
            while (
                end + 1 < len(columns)
                and len(columns[end + 1].header) > level
                and columns[end + 1].header[: level + 1] == prefix
            ):
                end += 1
            leaf = all(len(c.header) == level + 1 for c in columns[start : end + 1])
            cells.append(
                HeaderCell(
                    first_row=top + level,
                    first_col=first_col + start,
                    last_row=top + (depth - 1 if leaf else level),
                    last_col=first_col + end,
                    label=prefix[-1],
                )
            )
            start = end + 1
    return cells


def default_rows(form: Form) -> list[tuple[str, str, str]]:
    """Rows of a template: (key, label, kind). Single-row forms get one row labelled later
    with the unit's name; fixed-row forms a total row under the fixed rows."""
    if form.kind == "single_row":
        return [("-", "", "input")]
    if form.kind == "fixed_rows":
        rows = [(r.key, r.label, "input") for r in form.rows]
        return [*rows, (TOTAL_KEY, "Tổng", "total")]
    if form.kind == "targets":
        return [(i.key, i.name, "input") for i in form.indicators]
    return [(str(i), str(i), "input") for i in range(1, form.list_rows + 1)]


def form_layout(
    form: Form,
    rows: Sequence[tuple[str, str, str]] | None = None,
    extra_columns: Sequence[tuple[str, str, float]] = (),
    skip: dict[str, frozenset[str]] | None = None,
) -> FormLayout:
    """Lay out ``form``. ``rows`` overrides the template rows (summaries list units);
    ``extra_columns`` (key, header, width) sit between the row header and the form's
    columns (e.g. the unit's name in a summary of a list form); ``skip`` names, per row
    key, columns that have no value cell on that row (a count indicator has no
    denominator)."""
    depth = max(len(c.header) for c in form.columns)
    cells = [HeaderCell(HEADER_TOP, 0, HEADER_TOP + depth - 1, 0, form.row_header)]
    widths: dict[int, float] = {0: {"single_row": 18.0, "fixed_rows": 10.0, "list": 5.0,
                                    "targets": 40.0}[form.kind]}
    extra: dict[str, int] = {}
    for i, (key, label, width) in enumerate(extra_columns, start=1):
        extra[key] = i
        widths[i] = width
        cells.append(HeaderCell(HEADER_TOP, i, HEADER_TOP + depth - 1, i, label))
    first = 1 + len(extra)
    cells.extend(header_cells(form.columns, first, HEADER_TOP, depth))
    columns = {c.key: first + i for i, c in enumerate(form.columns)}
    for c in form.columns:
        widths[columns[c.key]] = _default_width(c)
    top = HEADER_TOP + depth + 1
    spec_rows = default_rows(form) if rows is None else list(rows)
    data_rows = tuple(
        DataRow(key=k, label=label, row=top + i, kind=kind,
                skip=(skip or {}).get(k, frozenset()))
        for i, (k, label, kind) in enumerate(spec_rows)
    )
    return FormLayout(
        form=form,
        columns=columns,
        extra_columns=extra,
        header_cells=tuple(cells),
        header_rows=depth,
        rows=data_rows,
        widths=widths,
    )


def heading_split(widths: dict[int, float], last_col: int) -> int:
    """Last column of the left half of a block under or over a table (the heading's unit
    name, the signature's «NGƯỜI LẬP BIỂU», the confirmation's label): about 40 % of the
    table's width."""
    total = sum(widths.get(c, 8.43) for c in range(last_col + 1))
    acc = 0.0
    for col in range(last_col):
        acc += widths.get(col, 8.43)
        if acc >= 0.4 * total:
            return col
    return max(last_col - 1, 0)
