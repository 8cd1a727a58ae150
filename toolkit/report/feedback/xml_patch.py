"""Feedback workbooks written by patching the unit's own xlsx, part by part, without openpyxl.

The same workbook as :func:`toolkit.report.feedback.feedback_bytes` makes with openpyxl — each
cell with a finding coloured and commented, a first sheet "Lỗi cần sửa" listing everything
with links to the cells, ``_meta`` and custom properties kept — in ~5 ms instead of ~450 ms
(openpyxl loads every style, merged cell and validation of the template and writes them all
back). Every part the patch does not need to change is copied byte for byte, so nothing the
unit's program wrote is lost.

What changes: ``xl/styles.xml`` (fills, fonts, borders and cell formats appended; existing
indices untouched), the sheets holding marked cells (their ``s`` attribute, a
``legacyDrawing``), new comment and VML parts with their relationships, a new worksheet part
for the list (named ``sheet1.xml``; an existing part of that name moves), ``xl/workbook.xml``
(the list sheet first and active, sheet-local defined names shifted by one), the workbook
relationships and ``[Content_Types].xml``; and every formula cell the unit's file holds that
is not of the toolkit's own kind, or sits in an input cell, becomes its saved value or its
text (:class:`~toolkit.report.feedback.source.FormulaRule`), in every worksheet part.

:func:`annotate` returns None for anything it does not handle — a file that already went
through feedback (it has comments or the list sheet), a cell the file does not contain,
prefixed or unusual XML — and the caller falls back to openpyxl. Bytes are reproducible:
fixed zip times, no clock.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from toolkit.report.feedback.lines import (
    AUTHOR,
    BODY_SIZE,
    ERROR_FILL,
    FEEDBACK_SHEET,
    FONT_NAME,
    HEADERS,
    HEADING_ROWS,
    WARNING_FILL,
    WIDTHS,
    Line,
    clean,
    finding_lines,
    heading,
    location,
    row_height,
)
from toolkit.report.feedback.source import FormulaRule, original_bytes
from toolkit.spec.campaign import Campaign
from toolkit.spec.layout import a1, rowcol
from toolkit.spec.models import SEVERITY_LABELS, Submission

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL = _REL_NS + "/"
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_LIST_PART = "xl/worksheets/sheet1.xml"

_ATTR = re.compile(r'([\w:.-]+)\s*=\s*("[^"]*"|\'[^\']*\')')
_SHEET_EL = re.compile(r"<sheet\b[^>]*?/>", re.S)
_REL_EL = re.compile(r"<Relationship\b[^>]*?/>", re.S)
_ROOT = re.compile(r"\s*(?:<\?xml[^>]*\?>)?\s*<([\w:]+)([^>]*)>")
_MERGE = re.compile(r'<mergeCell\b[^>]*?\bref="([A-Z]+\d+):([A-Z]+\d+)"', re.S)
# elements that come after legacyDrawing in CT_Worksheet
_AFTER_LEGACY = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                 "webPublishItems", "tableParts", "extLst")


class _Unsupported(Exception):
    """This file needs the openpyxl path."""


def _attrs(tag: str) -> dict[str, str]:
    return {k: v[1:-1] for k, v in _ATTR.findall(tag)}


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def _text(value: str) -> str:
    return escape(value)


def _attr(value: str) -> str:
    return quoteattr(value, {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


# --------------------------------------------------------------------------- package


class _Package:
    """The zip members in order, edited in memory."""

    def __init__(self, data: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            self.names = [i.filename for i in zf.infolist()]
            self.parts = {i.filename: zf.read(i) for i in zf.infolist()}

    def text(self, name: str) -> str:
        try:
            return self.parts[name].decode("utf-8")
        except KeyError:
            raise _Unsupported(f"missing part {name}") from None
        except UnicodeDecodeError:
            raise _Unsupported(f"{name} is not UTF-8") from None

    def put(self, name: str, text: str | bytes) -> None:
        if name not in self.parts:
            self.names.append(name)
        self.parts[name] = text.encode("utf-8") if isinstance(text, str) else text

    def rename(self, old: str, new: str) -> None:
        self.names[self.names.index(old)] = new
        self.parts[new] = self.parts.pop(old)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name in self.names:
                entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o600 << 16
                zf.writestr(entry, self.parts[name])
        return out.getvalue()


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _root_ok(xml: str, tag: str) -> None:
    """The document element must be the unprefixed ``tag`` in the main namespace."""
    m = _ROOT.match(xml)
    if m is None or m.group(1) != tag or f'xmlns="{_MAIN}"' not in m.group(2):
        raise _Unsupported(f"unexpected root, not <{tag}>")


# --------------------------------------------------------------------------- styles


class _Styles:
    """Appends fills, fonts, borders and cell formats to ``xl/styles.xml``."""

    def __init__(self, xml: str) -> None:
        _root_ok(xml, "styleSheet")
        self.xml = xml
        self.xfs = self._items("cellXfs", "xf")
        self._block("cellStyleXfs")  # xfId="0" of the list's formats must exist
        self.added: dict[str, list[str]] = {"fonts": [], "fills": [], "borders": [],
                                            "cellXfs": []}
        self.counts = {k: len(self._items(k, k[:-1] if k != "cellXfs" else "xf"))
                       for k in self.added}
        self._cache: dict[tuple, int] = {}

    def _block(self, tag: str, xml: str | None = None) -> re.Match[str]:
        m = re.search(rf"<{tag}\b[^>]*?(?:/>|>(.*?)</{tag}>)", self.xml if xml is None else xml,
                      re.S)
        if m is None:
            raise _Unsupported(f"styles.xml has no {tag}")
        return m

    def _items(self, block: str, item: str) -> list[str]:
        body = self._block(block).group(1) or ""
        return re.findall(rf"<{item}\b[^>]*?/>|<{item}\b[^>]*?>.*?</{item}>", body, re.S)

    def _add(self, block: str, xml: str) -> int:
        key = (block, xml)
        if key not in self._cache:
            self.added[block].append(xml)
            self._cache[key] = self.counts[block] + len(self.added[block]) - 1
        return self._cache[key]

    def fill(self, rgb: str) -> int:
        return self._add("fills", f'<fill><patternFill patternType="solid"><fgColor '
                                  f'rgb="00{rgb}"/><bgColor rgb="00{rgb}"/></patternFill></fill>')

    def font(self, *, bold: bool = False, size: int | None = None, color: str | None = None,
             underline: bool = False) -> int:
        parts = ['<b val="1"/>' if bold else "", f'<color rgb="00{color}"/>' if color else "",
                 f'<sz val="{size or BODY_SIZE}"/>', '<u val="single"/>' if underline else "",
                 f'<name val="{FONT_NAME}"/>']
        return self._add("fonts", f"<font>{''.join(parts)}</font>")

    def border(self) -> int:
        sides = "".join(f'<{s} style="thin"><color auto="1"/></{s}>'
                        for s in ("left", "right", "top", "bottom"))
        return self._add("borders", f"<border>{sides}<diagonal/></border>")

    def xf(self, *, font: int = 0, fill: int = 0, border: int = 0,
           align: str = "") -> int:
        xml = (f'<xf numFmtId="0" fontId="{font}" fillId="{fill}" borderId="{border}" '
               f'xfId="0" applyFont="1" applyFill="1" applyBorder="1"'
               + (f' applyAlignment="1"><alignment {align}/></xf>' if align else "/>"))
        return self._add("cellXfs", xml)

    def marked(self, style: int, rgb: str) -> int:
        """A copy of cell format ``style`` with a solid ``rgb`` fill."""
        if not 0 <= style < len(self.xfs):
            raise _Unsupported(f"cell format {style} out of range")
        fill = self.fill(rgb)
        xf = self.xfs[style]
        head_end = xf.index(">")
        head, rest = xf[:head_end], xf[head_end:]
        head = re.sub(r'\s(fillId|applyFill)="[^"]*"', "", head)
        if head.endswith("/"):
            head, rest = head[:-1], "/" + rest
        return self._add("cellXfs", f'{head} fillId="{fill}" applyFill="1"{rest}')

    def result(self) -> str:
        xml = self.xml
        for block, items in self.added.items():
            if not items:
                continue
            m = self._block(block, xml)
            total = self.counts[block] + len(items)
            open_tag = re.sub(r'\scount="\d*"', "", m.group(0)[:m.group(0).index(">")])
            open_tag = open_tag.rstrip("/").rstrip()
            body = (m.group(1) or "") + "".join(items)
            xml = xml[:m.start()] + f'{open_tag} count="{total}">{body}</{block}>' + xml[m.end():]
        return xml


# --------------------------------------------------------------------------- sheets


@dataclass
class _Sheet:
    name: str
    part: str
    rid: str
    attrs: dict[str, str]


def _sheets(pkg: _Package) -> tuple[list[_Sheet], str]:
    book = pkg.text("xl/workbook.xml")
    _root_ok(book, "workbook")
    rels = {a.get("Id"): a for a in (_attrs(m) for m in _REL_EL.findall(
        pkg.text("xl/_rels/workbook.xml.rels")))}
    sheets = []
    rid_name = ""
    for tag in _SHEET_EL.findall(book):
        attrs = _attrs(tag)
        rid_name = next((k for k in attrs if k.endswith(":id")), "")
        rel = rels.get(attrs.get(rid_name, ""))
        if rel is None or "Target" not in rel:
            raise _Unsupported("sheet without relationship")
        sheets.append(_Sheet(_unescape(attrs.get("name", "")),
                             _resolve("xl/workbook.xml", _unescape(rel["Target"])),
                             attrs[rid_name], attrs))
    if not sheets or not rid_name:
        raise _Unsupported("no sheets")
    return sheets, rid_name


def _cell_tag(xml: str, ref: str) -> re.Match[str] | None:
    return re.search(rf'<c\b[^>]*?\br="{ref}"[^>]*?>', xml)


def _merged_top_left(xml: str, ref: str) -> str:
    r, c = rowcol(ref)
    for first, last in _MERGE.findall(xml):
        (r1, c1), (r2, c2) = rowcol(first), rowcol(last)
        if r1 <= r <= r2 and c1 <= c <= c2:
            return first
    return ref


def _set_style(xml: str, ref: str, style_of: Any) -> str:
    m = _cell_tag(xml, ref)
    if m is None:
        raise _Unsupported(f"cell {ref} not in the file")
    tag = m.group(0)
    current = re.search(r'\ss="(\d+)"', tag)
    new_style = style_of(int(current.group(1)) if current else 0)
    if current:
        new_tag = tag[:current.start()] + f' s="{new_style}"' + tag[current.end():]
    else:
        close = "/>" if tag.endswith("/>") else ">"
        new_tag = tag[: -len(close)] + f' s="{new_style}"' + close
    return xml[:m.start()] + new_tag + xml[m.end():]


def _insert_legacy(xml: str, rid: str) -> str:
    if re.search(r"<legacyDrawing\b", xml):
        raise _Unsupported("sheet already has a legacy drawing")
    element = f'<legacyDrawing xmlns:r="{_REL_NS}" r:id="{rid}"/>'
    for tag in _AFTER_LEGACY:
        m = re.search(rf"<{tag}\b", xml)
        if m:
            return xml[:m.start()] + element + xml[m.start():]
    end = xml.rindex("</worksheet>")
    return xml[:end] + element + xml[end:]


def _comments_xml(notes: list[tuple[str, str]]) -> str:
    body = "".join(f'<comment ref="{ref}" authorId="0"><text><t xml:space="preserve">'
                   f"{_text(text)}</t></text></comment>" for ref, text in notes)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments '
            f'xmlns="{_MAIN}"><authors><author>{AUTHOR}</author></authors>'
            f"<commentList>{body}</commentList></comments>")


def _vml(notes: list[tuple[str, int]], block: int) -> str:
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


def _add_rels(pkg: _Package, part: str, new: list[tuple[str, str]]) -> list[str]:
    """Add relationships (type, target) to ``part``'s rels; return their ids."""
    name = _rels_name(part)
    xml = (pkg.text(name) if name in pkg.parts else
           '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
           'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
    used = {_attrs(m).get("Id") for m in _REL_EL.findall(xml)}
    ids, items = [], []
    k = 1
    for rel_type, target in new:
        while f"rIdTk{k}" in used:
            k += 1
        used.add(f"rIdTk{k}")
        ids.append(f"rIdTk{k}")
        items.append(f'<Relationship Id="rIdTk{k}" Type="{_REL}{rel_type}" '
                     f"Target={_attr(target)}/>")
    end = xml.rindex("</Relationships>")
    pkg.put(name, xml[:end] + "".join(items) + xml[end:])
    return ids


# --------------------------------------------------------------------------- the list


def _cell(ref: str, style: int, value: str | int | None) -> str:
    if value is None or value == "":
        return f'<c r="{ref}" s="{style}"/>'
    if isinstance(value, int):
        return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'
    return (f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">'
            f"{_text(value)}</t></is></c>")


def _list_sheet(styles: _Styles, heading: Sequence[str], lines: Sequence[Line],
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
        cells = [_cell(a1(i - 1, 0), body, line.number)]
        for j, value in enumerate(values, start=1):
            style = (link if j == 2 and is_link else
                     error if j == 5 and line.severity == "error" else body)
            cells.append(_cell(a1(i - 1, j), style, value))
        height = f' ht="{row_height(values):g}" customHeight="1"'
        rows.append(f'<row r="{i}"{height}>{"".join(cells)}</row>')
        if is_link:
            links.append(f'<hyperlink ref="{a1(i - 1, 2)}" '
                         f"location={_attr(location(line.sheet, line.cell.upper()))} "
                         f"display={_attr(line.cell)}/>")
    cols = "".join(f'<col min="{j}" max="{j}" width="{w}" customWidth="1"/>'
                   for j, w in enumerate(WIDTHS, start=1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL_NS}">'
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


# --------------------------------------------------------------------------- workbook


def _workbook(xml: str, rid_name: str, rid: str, sheet_id: int) -> str:
    prefix = rid_name.split(":", 1)[0]
    root = _ROOT.match(xml)
    # the relationships prefix may be declared on each <sheet> (openpyxl with lxml does
    # that) rather than on the root: then the new element declares it itself
    declared = root is not None and f"xmlns:{prefix}=" in root.group(2)
    ns = "" if declared else f'xmlns:{prefix}="{_REL_NS}" '
    new = (f"<sheet {ns}name={_attr(FEEDBACK_SHEET)} sheetId=\"{sheet_id}\" "
           f'{rid_name}="{rid}"/>')
    m = re.search(r"<sheets\b[^>]*>", xml)
    if m is None:
        raise _Unsupported("workbook.xml has no <sheets>")
    xml = xml[:m.end()] + new + xml[m.end():]
    xml = re.sub(r'(<definedName\b[^>]*?\blocalSheetId=")(\d+)"',
                 lambda d: f'{d.group(1)}{int(d.group(2)) + 1}"', xml)
    top = HEADING_ROWS + 1
    titles = (f'<definedName name="_xlnm.Print_Titles" localSheetId="0">'
              f"{_text(location(FEEDBACK_SHEET, f'${top}:${top}'))}</definedName>")
    m = re.search(r"<definedNames\b[^>]*?(/?)>", xml)
    if m is not None and m.group(1):
        xml = xml[:m.start()] + f"<definedNames>{titles}</definedNames>" + xml[m.end():]
    elif m is not None:
        xml = xml[:m.end()] + titles + xml[m.end():]
    else:  # definedNames comes after sheets, functionGroups, externalReferences
        after = re.search(r"<(calcPr|oleSize|customWorkbookViews|pivotCaches|smartTagPr|"
                          r"smartTagTypes|webPublishing|fileRecoveryPr|webPublishObjects|"
                          r"extLst)\b|</workbook>", xml)
        if after is None:
            raise _Unsupported("workbook.xml has no end")
        xml = xml[:after.start()] + f"<definedNames>{titles}</definedNames>" + xml[after.start():]
    return re.sub(r'\s(activeTab|firstSheet)="\d+"', "", xml)


def _content_types(xml: str, renamed: tuple[str, str] | None, comments: list[str]) -> str:
    if renamed is not None:
        xml = xml.replace(f'PartName="/{renamed[0]}"', f'PartName="/{renamed[1]}"')
    adds = [f'<Override PartName="/{_LIST_PART}" ContentType="{_CT_SHEET}"/>']
    adds += [f'<Override PartName="/{c}" ContentType="{_CT_COMMENTS}"/>' for c in comments]
    if comments and not re.search(r'<Default\b[^>]*Extension="vml"', xml, re.I):
        adds.append(f'<Default Extension="vml" ContentType="{_CT_VML}"/>')
    end = xml.rindex("</Types>")
    return xml[:end] + "".join(adds) + xml[end:]


_CELL = re.compile(r"<c\b([^>]*?)(?<!/)>(.*?)</c>", re.S)
_FORMULA = re.compile(r"<f\b([^>]*?)(?:/>|>(.*?)</f>)", re.S)
_VALUE = re.compile(r"<v\b[^>]*?(?:/>|>(.*?)</v>)", re.S)
_INLINE = re.compile(r"<is\b.*?</is>", re.S)


def _neutralise(xml: str, sheet: str, rule: FormulaRule) -> str:
    """Every formula cell the rule does not keep, as its cached value (or its text)."""
    if "<f" not in xml:
        return xml

    def cell(m: re.Match[str]) -> str:
        head, body = m.group(1), m.group(2)
        formula = _FORMULA.search(body)
        if formula is None:
            return m.group(0)
        attrs = _attrs(head)
        text = _unescape(formula.group(2) or "")
        if "t=" not in formula.group(1) and rule.keep(sheet, attrs.get("r", ""), text):
            return m.group(0)
        kind = attrs.get("t", "n")
        keep = "".join(f" {k}={_attr(_unescape(v))}" for k, v in attrs.items()
                       if k not in ("t", "cm"))
        found = _VALUE.search(body)
        value = found.group(1) if found is not None else None
        inline = _INLINE.search(body)
        if kind in ("n", "b", "s") and value:
            t = "" if kind == "n" else f' t="{kind}"'
            return f"<c{keep}{t}><v>{value}</v></c>"
        if kind == "inlineStr" and inline is not None:
            return f'<c{keep} t="inlineStr">{inline.group(0)}</c>'
        shown = _unescape(value) if value else ("=" + text if text else "")
        if not shown:
            return f"<c{keep}/>"
        return (f'<c{keep} t="inlineStr"><is><t xml:space="preserve">{_text(shown)}</t>'
                "</is></c>")

    return _CELL.sub(cell, xml)


def _free(pkg: _Package, pattern: str) -> str:
    k = 1
    while pattern.format(k) in pkg.parts:
        k += 1
    return pattern.format(k)


def annotate(original: bytes, heading: Callable[[bool], Sequence[str]],
             lines: Sequence[Line], rule: FormulaRule | None = None) -> bytes | None:
    """The feedback workbook made from ``original`` by patching its XML, or None when this
    file needs the openpyxl path (see the module docstring). ``heading(marked)`` gives the
    lines above the list, ``marked`` telling whether any cell could be marked; ``rule``
    says which formulas stay (by default only the toolkit's own kind). ``original`` is
    untrusted: anything it makes go wrong (a damaged deflate stream, odd XML) declines."""
    try:
        return _annotate(original, heading, lines, rule or FormulaRule())
    except Exception:
        return None


def feedback_bytes_fast(submission: Submission, campaign: Campaign) -> bytes | None:
    """:func:`toolkit.report.feedback.feedback_bytes` for an ``.xlsx`` the XML path handles; None
    for anything else (the caller then uses the openpyxl path, which also covers .xlsm,
    whose macros it drops, files that already went through feedback, and broken files)."""
    path = submission.path
    if path is None or path.suffix.lower() != ".xlsx":
        return None
    original = original_bytes(submission)
    if original is None:
        return None
    return annotate(original, lambda marked: heading(submission, campaign, marked),
                    finding_lines(submission, campaign), FormulaRule(submission, campaign))


def _annotate(original: bytes, heading: Callable[[bool], Sequence[str]],
              lines: Sequence[Line], rule: FormulaRule) -> bytes:
    pkg = _Package(original)
    if any("vbaProject" in name for name in pkg.parts) or "macroEnabled" in pkg.text(
            "[Content_Types].xml"):
        raise _Unsupported("macros: the openpyxl path drops them")
    sheets, rid_name = _sheets(pkg)
    by_name = {s.name: s for s in sheets}
    if FEEDBACK_SHEET in by_name or any(n.startswith("xl/comments") for n in pkg.parts):
        raise _Unsupported("already annotated, or has comments")
    styles = _Styles(pkg.text("xl/styles.xml"))
    sheet_xml: dict[str, str] = {}
    names = {s.part: s.name for s in sheets}
    for part in list(pkg.names):  # every worksheet part, listed in workbook.xml or not
        if part.startswith("xl/worksheets/") and part.endswith(".xml"):
            xml = pkg.text(part)
            done = _neutralise(xml, names.get(part, ""), rule)
            if done != xml:
                sheet_xml[part] = done
    notes: dict[tuple[str, str], list[Line]] = {}
    for line in lines:
        if line.cell and line.sheet in by_name:
            notes.setdefault((line.sheet, line.cell.upper()), []).append(line)
    # the cell each note goes to (top-left of a merged range) and what it shows
    targets: dict[str, dict[str, tuple[str, str, int]]] = {}
    marked: set[tuple[str, str]] = set()
    for (sheet, ref), group in notes.items():
        try:
            rowcol(ref)
        except ValueError:
            continue
        part = by_name[sheet].part
        xml = sheet_xml.setdefault(part, pkg.text(part))
        _root_ok(xml, "worksheet")
        cell = _merged_top_left(xml, ref)
        worst = "error" if any(x.severity == "error" for x in group) else "warning"
        text = clean("\n".join(f"{SEVERITY_LABELS.get(x.severity, x.severity)}: {x.message}"
                                for x in group))
        height = min(60 + 18 * (len(text) // 45 + len(group)), 400)
        targets.setdefault(part, {})[cell] = (worst, text, height)
        marked.add((sheet, ref))
    comment_parts: list[str] = []
    for block, (part, cells) in enumerate(targets.items(), start=1):
        xml = sheet_xml[part]
        for cell, (worst, *_rest) in cells.items():
            colour = ERROR_FILL if worst == "error" else WARNING_FILL
            xml = _set_style(xml, cell, lambda s, c=colour: styles.marked(s, c))
        comments = _free(pkg, "xl/comments{}.xml")
        vml = _free(pkg, "xl/drawings/vmlDrawing{}.vml")
        ordered = sorted(cells.items(), key=lambda kv: rowcol(kv[0]))
        pkg.put(comments, _comments_xml([(c, t) for c, (_w, t, _h) in ordered]))
        pkg.put(vml, _vml([(c, h) for c, (_w, _t, h) in ordered], block))
        comment_parts.append(comments)
        _rel_comments, rel_vml = _add_rels(pkg, part, [
            ("comments", posixpath.relpath(comments, posixpath.dirname(part))),
            ("vmlDrawing", posixpath.relpath(vml, posixpath.dirname(part)))])
        sheet_xml[part] = _insert_legacy(xml, rel_vml)
    for each in sheets:  # only the list is selected
        xml = sheet_xml.get(each.part) or pkg.text(each.part)
        unselected = re.sub(r'\stabSelected="(1|true)"', "", xml)
        if unselected != xml or each.part in sheet_xml:
            pkg.put(each.part, unselected)
    for part, xml in sheet_xml.items():  # parts no <sheet> names: neutralised all the same
        if part not in names:
            pkg.put(part, xml)
    renamed = None
    if _LIST_PART in pkg.parts:  # the list takes sheet1.xml, as Excel would number it
        moved = _free(pkg, "xl/worksheets/sheet{}.xml")
        pkg.rename(_LIST_PART, moved)
        if _rels_name(_LIST_PART) in pkg.parts:
            pkg.rename(_rels_name(_LIST_PART), _rels_name(moved))
        renamed = (_LIST_PART, moved)
        rels = pkg.text("xl/_rels/workbook.xml.rels")
        rels = re.sub(r'Target="(/?)(xl/)?worksheets/sheet1\.xml"',
                      lambda m: f'Target="{m.group(1)}{m.group(2) or ""}worksheets/'
                                f'{posixpath.basename(moved)}"', rels)
        pkg.put("xl/_rels/workbook.xml.rels", rels)
    pkg.put(_LIST_PART, _list_sheet(styles, heading(bool(marked)), lines, marked))
    pkg.put("xl/styles.xml", styles.result())
    (rid,) = _add_rels(pkg, "xl/workbook.xml", [("worksheet", "worksheets/sheet1.xml")])
    sheet_id = 1 + max(int(s.attrs.get("sheetId", "0") or 0) for s in sheets)
    pkg.put("xl/workbook.xml", _workbook(pkg.text("xl/workbook.xml"), rid_name, rid, sheet_id))
    pkg.put("[Content_Types].xml", _content_types(pkg.text("[Content_Types].xml"), renamed,
                                                  comment_parts))
    return pkg.bytes()
