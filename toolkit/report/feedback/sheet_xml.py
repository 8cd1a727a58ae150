"""Edits of one parsed worksheet part, and the new parts made for it: formulas the toolkit
did not write become values, a marked cell gets a coloured copy of its format, the sheet
gets a ``legacyDrawing`` for its notes; the comments and VML parts, and the list sheet.

Cell positions come from the ``r`` attributes where present and from the order of rows and
cells where not (the attribute is optional in the schema)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from toolkit.report.feedback.lines import (
    AUTHOR,
    HEADERS,
    HEADING_ROWS,
    WIDTHS,
    Line,
    clean,
    location,
    row_height,
)
from toolkit.report.feedback.ooxml import (
    MAIN,
    REL_NS,
    Unsupported,
    child,
    children,
    local,
    new_element,
    q,
)
from toolkit.report.feedback.source import FormulaRule
from toolkit.report.feedback.styles_xml import Styles
from toolkit.spec.layout import a1, rowcol
from toolkit.spec.models import SEVERITY_LABELS

# elements that come after legacyDrawing in CT_Worksheet
_AFTER_LEGACY = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                 "webPublishItems", "tableParts", "extLst")


def _attr(value: str) -> str:
    return quoteattr(value, {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def worksheet(root: Any) -> Any:
    """The ``<sheetData>`` of a parsed worksheet part (checking what the part is)."""
    if root.tag != q("worksheet"):
        raise Unsupported("unexpected root, not a worksheet")
    data = child(root, "sheetData")
    if data is None:
        raise Unsupported("worksheet without sheetData")
    return data


def cells(root: Any) -> Iterator[tuple[str, Any]]:
    """(A1 reference, ``<c>`` element) of every cell of a parsed worksheet."""
    row_no = 0
    for row in children(worksheet(root), "row"):
        row_no = int(row.get("r") or row_no + 1)
        col = -1
        for c in children(row, "c"):
            ref = c.get("r")
            if ref:
                r, col = rowcol(ref)
                if r != row_no - 1:
                    raise Unsupported(f"cell {ref} outside its row {row_no}")
            else:
                col += 1
                ref = a1(row_no - 1, col)
            yield ref.upper(), c


def neutralise(root: Any, sheet: str, rule: FormulaRule) -> bool:
    """Every formula cell the rule does not keep, as its cached value (or its text); True
    when something changed."""
    changed = False
    for ref, c in cells(root):
        formula = child(c, "f")
        if formula is None:
            continue
        text = formula.text or ""
        if formula.get("t") is None and rule.keep(sheet, ref, text):
            continue
        kind = c.get("t", "n")
        found = child(c, "v")
        value = found.text if found is not None else None
        inline = child(c, "is")
        for each in list(c):
            if each is not inline or kind != "inlineStr":
                c.remove(each)
        for name in ("t", "cm"):
            c.attrib.pop(name, None)
        changed = True
        if kind in ("n", "b", "s") and value:
            if kind != "n":
                c.set("t", kind)
            new_element(c, "v").text = value
            continue
        if kind == "inlineStr" and inline is not None:
            c.set("t", "inlineStr")
            continue
        shown = value if value else ("=" + text if text else "")
        if shown:
            _inline_text(c, clean(shown))
    return changed


def _inline_text(c: Any, text: str) -> None:
    c.set("t", "inlineStr")
    t = new_element(new_element(c, "is"), "t")
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    t.text = text


def merged_top_left(root: Any, ref: str) -> str:
    """``ref``, or the top-left cell of the merged range holding it."""
    r, c = rowcol(ref)
    block = child(root, "mergeCells")
    for merge in children(block, "mergeCell") if block is not None else ():
        first, _, last = (merge.get("ref") or "").partition(":")
        try:
            (r1, c1), (r2, c2) = rowcol(first), rowcol(last or first)
        except ValueError:
            continue
        if r1 <= r <= r2 and c1 <= c <= c2:
            return a1(r1, c1)
    return ref


def set_style(root: Any, ref: str, style_of: Callable[[int], int]) -> None:
    """Give cell ``ref`` the format ``style_of(its current format)``."""
    for each, c in cells(root):
        if each == ref:
            try:
                current = int(c.get("s") or 0)
            except ValueError:
                raise Unsupported(f"cell {ref}: bad style index") from None
            c.set("s", str(style_of(current)))
            return
    raise Unsupported(f"cell {ref} not in the file")


def unselect(root: Any) -> bool:
    """No tab of this sheet is selected (the list sheet is); True when something changed."""
    changed = False
    views = child(root, "sheetViews")
    for view in children(views, "sheetView") if views is not None else ():
        if view.attrib.pop("tabSelected", None) is not None:
            changed = True
    return changed


def insert_legacy(root: Any, rid: str) -> None:
    """The ``<legacyDrawing r:id>`` that shows the sheet's notes, in schema order."""
    if child(root, "legacyDrawing") is not None:
        raise Unsupported("sheet already has a legacy drawing")
    index = len(root)
    for i, each in enumerate(root):
        if local(each) in _AFTER_LEGACY:
            index = i
            break
    new_element(root, "legacyDrawing", rel_id=rid, index=index)


# --------------------------------------------------------------------------- new parts


def comments_xml(notes: list[tuple[str, str]]) -> str:
    body = "".join(f'<comment ref="{ref}" authorId="0"><text><t xml:space="preserve">'
                   f"{escape(text)}</t></text></comment>" for ref, text in notes)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments '
            f'xmlns="{MAIN}"><authors><author>{AUTHOR}</author></authors>'
            f"<commentList>{body}</commentList></comments>")


def vml(notes: list[tuple[str, int]], block: int) -> str:
    shapes = []
    for k, (ref, height) in enumerate(notes):
        r, c = rowcol(ref)
        shapes.append(
            f'<v:shape id="_x0000_s{block * 1024 + k + 1}" type="#_x0000_t202" '
            f'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:320px;'
            f'height:{height}px;z-index:{k + 1};visibility:hidden" fillcolor="#ffffe1" '
            f'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" '
            f'obscured="t"/><v:path o:connecttype="none"/><v:textbox '
            f'style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
            f'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:AutoFill>False</x:AutoFill><x:Row>{r}</x:Row><x:Column>{c}</x:Column>"
            f"</x:ClientData></v:shape>")
    return ('<xml xmlns:v="urn:schemas-microsoft-com:vml" '
            'xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel">'
            f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/>'
            '</o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" '
            'o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
            '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
            + "".join(shapes) + "</xml>")


def _cell(ref: str, style: int, value: str | int | None) -> str:
    if value is None or value == "":
        return f'<c r="{ref}" s="{style}"/>'
    if isinstance(value, int):
        return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'
    return (f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">'
            f"{escape(value)}</t></is></c>")


def list_sheet(styles: Styles, heading: Sequence[str], lines: Sequence[Line],
               marked: set[tuple[str, str]]) -> str:
    """The "Lỗi cần sửa" sheet, cell for cell and format for format as
    :func:`toolkit.report.feedback.workbook._list_sheet_openpyxl` draws it (a test compares
    the two)."""
    border = styles.border()
    wrap = 'vertical="top" wrapText="1"'
    header = styles.xf(font=styles.font(bold=True), fill=styles.fill("D9E1F2"), border=border,
                       align='horizontal="center" vertical="center" wrapText="1"')
    body = styles.xf(font=styles.font(), border=border, align=wrap)
    link = styles.xf(font=styles.font(color="0563C1", underline=True), border=border,
                     align=wrap)
    error = styles.xf(font=styles.font(bold=True, color="C00000"), border=border, align=wrap)
    rows = []
    for i, text in enumerate(heading):
        font = styles.font(bold=True, size=14 if i == 0 else 11,
                           color="C00000" if i == len(heading) - 1 else None)
        rows.append(f'<row r="{i + 1}">{_cell(a1(i, 0), styles.xf(font=font), clean(text))}'
                    "</row>")
    top = HEADING_ROWS + 1
    rows.append(f'<row r="{top}">' + "".join(_cell(a1(top - 1, j), header, label)
                                             for j, label in enumerate(HEADERS)) + "</row>")
    links = []
    for i, line in enumerate(lines, start=top + 1):
        values = (line.form_label, line.cell, line.column, line.value,
                  SEVERITY_LABELS.get(line.severity, line.severity), line.message)
        is_link = (line.sheet, line.cell.upper()) in marked
        row_cells = [_cell(a1(i - 1, 0), body, line.number)]
        for j, value in enumerate(values, start=1):
            style = (link if j == 2 and is_link else
                     error if j == 5 and line.severity == "error" else body)
            row_cells.append(_cell(a1(i - 1, j), style, value))
        height = f' ht="{row_height(values):g}" customHeight="1"'
        rows.append(f'<row r="{i}"{height}>{"".join(row_cells)}</row>')
        if is_link:
            links.append(f'<hyperlink ref="{a1(i - 1, 2)}" '
                         f"location={_attr(location(line.sheet, line.cell.upper()))} "
                         f"display={_attr(line.cell)}/>")
    cols = "".join(f'<col min="{j}" max="{j}" width="{w}" customWidth="1"/>'
                   for j, w in enumerate(WIDTHS, start=1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{MAIN}" xmlns:r="{REL_NS}">'
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
            f'<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="{top}" '
            f'topLeftCell="{a1(top, 0)}" activePane="bottomLeft" state="frozen"/><selection '
            'pane="bottomLeft" activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
            f'<sheetData>{"".join(rows)}</sheetData>'
            + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
            + '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" '
              'footer="0.5"/><pageSetup orientation="landscape" paperSize="9" '
              'fitToHeight="0" fitToWidth="1"/></worksheet>')
