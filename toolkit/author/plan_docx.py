"""A Word plan (``.docx``) read into :class:`~toolkit.author.plan_model.Plan`: body
paragraphs in order (text boxes and tracked changes handled), tables as grids of anchors
with their merge extents (gridSpan/vMerge)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from toolkit.author.plan_model import (
    MAX_TABLE_COLS,
    MAX_TABLE_ROWS,
    MAX_TABLES,
    Cell,
    Paragraph,
    Plan,
    PlanError,
    Table,
    caption_above,
    is_layout,
)
from toolkit.spec.text import clean_text

# --------------------------------------------------------------------------- docx

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def read_docx(data: bytes, name: str) -> Plan:
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
        caption = caption_above(paragraphs, last_table_at)
        cells, n_rows, n_cols = _docx_grid(element, Table(number, caption, (), 0, 0).label)
        table = Table(number, (), tuple(cells), n_rows, n_cols, position=len(paragraphs))
        layout = is_layout(table)
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


def _within(parent: Any, tag: str) -> Iterator[Any]:
    """The ``tag`` children of ``parent``, also those wrapped in content controls
    (``w:sdt``) or custom XML, as Word nests rows and cells."""
    for child in parent.iterchildren():
        if child.tag == f"{_W}{tag}":
            yield child
        elif child.tag in (f"{_W}sdt", f"{_W}customXml"):
            content = child.find(f"{_W}sdtContent")
            yield from _within(content if content is not None else child, tag)


def _rows(tbl: Any) -> Iterator[Any]:
    return _within(tbl, "tr")


def _cells(tr: Any) -> Iterator[Any]:
    return _within(tr, "tc")
