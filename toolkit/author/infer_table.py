"""Reading one table of a plan as a person does: where its header rows end, which leading
columns are row labels, the tree of its merged header cells, and the caption that names it
(«Phụ lục 2: …»). :mod:`toolkit.author.infer` turns that into a proposed form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from toolkit.author.infer_notes import Findings
from toolkit.author.infer_text import ascii_fold, capitalize, expand, norm, roman, sentence_case
from toolkit.author.plan import Cell, Table, column_marks, is_numberish

SEQ_HEADERS = frozenset({"tt", "stt", "so tt", "thu tu", "so thu tu", "t t"})
ALWAYS_LABEL = frozenset({"nam", "don vi", "ten don vi", "thang", "quy", "ky bao cao"})
ROW_LABELS = frozenset({
    "chi tieu", "cac chi tieu", "ten chi tieu", "noi dung", "noi dung chi tieu", "tieu chi",
    "noi dung tieu chi", "danh muc", "linh vuc", "hang muc", "nhom chi tieu", "doi tuong",
    "noi dung danh gia", "cac mat cong tac", "mat cong tac", "khu vuc", "cap", "loai hinh",
    "chi tieu nhiem ky", "cac chi tieu nhiem ky", "nhiem vu", "cac nhiem vu"})
UNIT_HEADERS = frozenset({"dvt", "don vi tinh", "d vt"})
_SPLIT_PART = re.compile(r"^(so|tong so)\b")
_SEQ_VALUE = re.compile(r"^(\d{1,3}|[ivxlIVXL]{1,5}|[a-zđ])[.)]?$")
YEAR = re.compile(r"^(19|20)\d{2}$")


@dataclass(eq=False)
class Node:
    """A header cell in the tree (a group or a leaf column)."""

    text: str
    cols: list[int] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None
    cell: Cell | None = None

    def path(self) -> list[str]:
        out: list[str] = []
        node: Node | None = self
        while node is not None and node.parent is not None:
            out.append(node.text)
            node = node.parent
        return out[::-1]

    def ancestors(self) -> list[Node]:
        """Groups above this node, nearest first (not the root)."""
        out = []
        node = self.parent
        while node is not None and node.parent is not None:
            out.append(node)
            node = node.parent
        return out

    def leaves(self) -> list[Node]:
        if not self.children:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]


@dataclass
class Shape:
    """Where the header, the row labels and the data are in a table."""

    header_rows: int
    marks_row: int | None
    data_rows: list[int]
    seq_col: int | None
    label_cols: list[int]
    unit_col: int | None
    title_rows: int = 0  # a title drawn as the table's first row, not a header

    @property
    def main_label(self) -> int | None:
        return self.label_cols[-1] if self.label_cols else None


# --------------------------------------------------------------------------- header rows


def _crosses(table: Table, boundary: int) -> bool:
    return any(c.row < boundary <= c.last_row for c in table.cells)


def _row_marks(table: Table, row: int) -> list[str]:
    return [c.text if c is not None and c.row == row else "" for c in table.grid[row]]


def _seq_header(table: Table) -> bool:
    top = 1 if _title_row(table) else 0
    return top < table.n_rows and ascii_fold(norm(table.text(top, 0))) in SEQ_HEADERS


def _data_like(table: Table, row: int) -> bool:
    """A row of data: only numbers and blanks, or a row label (the leftmost one or two
    cells, not sub-headers of a wider cell above), or a running number under «TT»."""
    cells = table.starting_in(row)
    if not cells:
        return False
    seq = _seq_header(table)
    if seq and cells[0].col == 0 and _SEQ_VALUE.match(cells[0].text.strip()):
        return True
    first = 1 if seq else 0
    texts = [c for c in cells if c.col >= first and not is_numberish(c.text)]
    if not texts:
        return True
    if len(texts) > 2 or len(cells) < len(texts) + 1:
        return False
    expected = first
    for cell in texts:
        above = table.at(row - 1, cell.col) if row else None
        if cell.col != expected or (above is not None and above.col_span > cell.col_span):
            return False
        expected = cell.last_col + 1
    return True


def _title_row(table: Table) -> str:
    """The text of a first row that is one cell across the whole table, above other header
    rows, written as a title («Phụ lục 3: …», or in capitals): a title drawn inside the table,
    not a group of every column."""
    first = table.at(0, 0) if table.n_rows and table.n_cols else None
    if (first is None or first.col_span < table.n_cols or first.row_span > 1 or table.n_cols < 2
            or table.n_rows < 3):
        return ""
    text = norm(first.text)
    letters = [ch for ch in text if ch.isalpha()]
    if _MARKER.match(text) or (letters and not any(ch.islower() for ch in letters)):
        return text
    return ""


def header_band(table: Table) -> tuple[int, int | None]:
    """``(h, marks)``: rows ``0..h-1`` are the header; ``marks`` is the row of column
    numbers under it, when there is one."""
    for h in range(1, table.n_rows):
        if _crosses(table, h):
            continue
        if column_marks(_row_marks(table, h)):
            return h, h
        if _data_like(table, h):
            return h, None
    return table.n_rows, None


def table_shape(table: Table) -> Shape:
    h, marks = header_band(table)
    title = 1 if _title_row(table) and h > 1 else 0
    first_data = h + 1 if marks is not None else h
    data_rows = list(range(first_data, table.n_rows))
    seq_col: int | None = None
    unit_col: int | None = None
    labels: list[int] = []
    c = 0
    while c < table.n_cols:
        top = table.at(title, c)
        head = ascii_fold(norm(" ".join(chain_texts(table, h, c, title))))
        filled = [v for v in (table.text(r, c).strip() for r in data_rows)
                  if v and v not in ("…", "...")]
        span = top.last_col if top is not None else c
        if head in SEQ_HEADERS and seq_col is None and not labels:
            seq_col = c
        elif head in ALWAYS_LABEL and (seq_col is None or filled):
            labels.append(c)
        elif head in UNIT_HEADERS and labels:
            unit_col = c
        elif filled and (head in ROW_LABELS or (not head and all(
                not is_numberish(v) or YEAR.match(v) for v in filled))):
            labels.append(c)
        else:
            break
        for extra in range(c + 1, span + 1):  # a label header spanning two columns
            labels.append(extra)
        c = span + 1
    return Shape(h, marks, data_rows, seq_col, labels, unit_col, title)


def chain_texts(table: Table, h: int, col: int, start: int = 0) -> list[str]:
    out: list[str] = []
    last: Cell | None = None
    for r in range(start, h):
        cell = table.at(r, col)
        if cell is None or cell is last or not cell.text.strip():
            continue
        out.append(cell.text)
        last = cell
    return out


# --------------------------------------------------------------------------- header tree


def header_tree(table: Table, shape: Shape, value_cols: list[int], form: str,
          found: Findings) -> Node:
    root = Node("")
    for c in value_cols:
        node = root
        last: Cell | None = None
        for r in range(shape.title_rows, shape.header_rows):
            cell = table.at(r, c)
            if cell is None or cell is last or not cell.text.strip():
                continue
            last = cell
            child = next((ch for ch in node.children if ch.cell is cell), None)
            if child is None:
                context = " ".join([*node.path(), cell.text])
                text, original = expand(norm(cell.text), context)
                if original is not None:
                    found.note(form, "", f"Viết tắt «{norm(original)}» được hiểu là «{text}» "
                               f"({table.where(cell.row, cell.col)}).", kind="abbreviation")
                child = Node(text, parent=node, cell=cell)
                node.children.append(child)
            child.cols.append(c)
            node = child
        if node is root:
            data = [table.text(r, c) for r in shape.data_rows if table.text(r, c)]
            if data:
                text = f"Cột {c + 1}"
                child = Node(text, [c], parent=root)
                root.children.append(child)
                found.ask(form, "", f"{table.where(None, c)} không có tiêu đề nhưng có số "
                          f"liệu: cột này là gì? (tạm đặt tên «{text}»)")
            else:
                found.note(form, "", f"{table.where(None, c)}: cột trống, không tiêu đề — "
                           "bỏ qua.", kind="header")
    _split_cells(root, form, found)
    _wide_leaves(root, table, form, found)
    return root


def split_two(text: str) -> tuple[str, list[str]] | None:
    """«Thành lập tổ chức mới (số lượng tổ chức/số đoàn viên)» → the group and its two
    figures; «Số cuộc/số đơn vị» → no group, two figures. None when the cell holds one."""
    m = re.search(r"\(([^()]*/[^()]*)\)\s*$", text)
    main, inner = (text[:m.start()].strip(), m.group(1)) if m else ("", text)
    parts = [p.strip() for p in inner.split("/")]
    if len(parts) != 2 or not all(_SPLIT_PART.match(ascii_fold(p)) for p in parts):
        return None
    return main, [capitalize(p) for p in parts]


def _split_cells(node: Node, form: str, found: Findings) -> None:
    for child in list(node.children):
        if child.children:
            _split_cells(child, form, found)
            continue
        split = split_two(child.text)
        if split is None:
            continue
        main, parts = split
        cols = child.cols if len(child.cols) == len(parts) else [child.cols[0]] * len(parts)
        if main:
            original = child.text
            child.text = main
            child.children = [Node(p, [c], parent=child) for p, c in zip(parts, cols,
                                                                            strict=True)]
        else:
            original = child.text
            at = node.children.index(child)
            node.children[at:at + 1] = [Node(p, [c], parent=node) for p, c in zip(
                parts, cols, strict=True)]
        found.note(form, "", f"Ô tiêu đề «{original}» ghi hai số liệu: tách thành hai cột "
                   f"«{parts[0]}» và «{parts[1]}».", kind="split")


def _wide_leaves(node: Node, table: Table, form: str, found: Findings) -> None:
    """A leaf over several data columns with nothing below it: one column per grid column,
    numbered, and a question."""
    for child in list(node.children):
        if child.children:
            _wide_leaves(child, table, form, found)
        elif len(set(child.cols)) > 1:
            cols = sorted(set(child.cols))
            child.children = [Node(f"Cột {i}", [c], parent=child)
                              for i, c in enumerate(cols, 1)]
            found.ask(form, "", f"Ô tiêu đề «{child.text}» trải trên {len(cols)} cột nhưng "
                      "không có tiêu đề con: mỗi cột là số liệu gì?")


# --------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Caption:
    form_id: str
    number: str
    title: str


_MARKER = re.compile(r"^\s*(phụ\s*lục|biểu\s*mẫu|biểu|mẫu)\s*(?:số\s*)?([0-9]{1,3}[a-z]?|"
                     r"[IVXLivxl]{1,6})?\b\s*[:.\-–]?\s*(.*)$", re.IGNORECASE)
_ID_PREFIX = {"phu luc": "PL", "bieu mau": "BM", "bieu": "BIEU", "mau": "MAU"}


def caption_of(table: Table, index: int) -> Caption | None:
    """The form's id, number and title from the caption «Phụ lục 2: Tình hình…», or None
    when the caption names no appendix."""
    lines = list(table.caption)
    title_row = _title_row(table)
    if title_row:
        lines.append(title_row)
    for i, line in enumerate(lines):
        m = _MARKER.match(line)
        if m is None:
            continue
        word = ascii_fold(m.group(1))
        raw = m.group(2) or ""
        digits = re.fullmatch(r"(\d+)([a-z]?)", raw, re.IGNORECASE)
        n, suffix = ((int(digits.group(1)), digits.group(2).lower()) if digits
                     else (roman(raw) if raw else None, ""))
        form_id = f"{_ID_PREFIX[word]}{n if n is not None else index}{suffix}"
        number = norm(line[:m.start(3)]).rstrip(":.-– ") if m.group(3) else norm(line)
        title = norm(m.group(3))
        rest = [norm(x) for x in lines[i + 1:] if not re.match(r"^\(?\s*kèm theo", x,
                                                                re.IGNORECASE)]
        if not title and rest:
            title = rest[0]
        return Caption(form_id, number, sentence_case(title) or number)
    return None


_NUMBER_VALUE = re.compile(r"^\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?\s*%?\s*$")


def parse_number(text: str) -> float | None:
    """«70%», «5.000», «12,5» → 70, 5000, 12.5 (Vietnamese separators); None otherwise."""
    m = _NUMBER_VALUE.match(text)
    if m is None:
        return None
    whole = m.group(1).replace(".", "")
    return float(f"{whole}.{m.group(2)}" if m.group(2) else whole)
