"""Cells and document facts through UNO, for :mod:`lo_driver`: what a cell holds, a
snapshot to undo a refused action, text set the way typing sets it, sheets, custom
properties and how Calc paginates for printing. Runs inside Debian's ``python3`` with
``uno``; nothing here imports ``uno`` at module level."""

from __future__ import annotations

from typing import Any


def prop_value(name: str, value: Any) -> Any:
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def sheets_info(doc: Any) -> list[dict[str, Any]]:
    out = []
    sheets = doc.Sheets
    for name in sheets.ElementNames:
        ws = sheets.getByName(name)
        out.append({"name": name, "visible": bool(ws.IsVisible),
                    "protected": bool(ws.isProtected())})
    return out


def custom_properties(doc: Any) -> dict[str, Any]:
    props = doc.DocumentProperties.UserDefinedProperties
    out: dict[str, Any] = {}
    for p in props.PropertySetInfo.Properties:
        value = props.getPropertyValue(p.Name)
        out[p.Name] = value if isinstance(value, (str, int, float, bool)) else repr(value)
    return out


def page_layout(doc: Any) -> list[dict[str, Any]]:
    """How Calc paginates each visible sheet when printing or exporting to PDF: the pages
    (size and position on the sheet, 1/100 mm), how many page columns (``across`` > 1: the
    sheet spills into a second page horizontally) and page rows, and the page style."""
    styles = doc.StyleFamilies.getByName("PageStyles")
    out = []
    for name in doc.Sheets.ElementNames:
        ws = doc.Sheets.getByName(name)
        if not ws.IsVisible:
            continue
        pages = []
        for i in range(doc.getRendererCount(ws, ())):
            props = {p.Name: p.Value for p in doc.getRenderer(i, ws, ())}
            pos, size = props.get("CalcPagePos"), props.get("PageSize")
            pages.append({"x": pos.X if pos is not None else 0,
                          "y": pos.Y if pos is not None else 0,
                          "width": size.Width, "height": size.Height})
        style = styles.getByName(ws.PageStyle)
        out.append({
            "sheet": name,
            "pages": pages,
            "across": len({p["x"] for p in pages}),
            "down": len({p["y"] for p in pages}),
            "style": {"width": style.Width, "height": style.Height,
                      "landscape": bool(style.IsLandscape),
                      "scale_to_pages_x": style.ScaleToPagesX,
                      "scale_to_pages_y": style.ScaleToPagesY,
                      "page_scale": style.PageScale},
        })
    return out


def cell_content(cell: Any) -> tuple[str, float, str]:
    """(empty | number | text | error, value, string) of a cell, formulas by result."""
    ctype = cell.Type.value
    if ctype == "EMPTY":
        return "empty", 0.0, ""
    if ctype == "FORMULA":
        if cell.getError() != 0:
            return "error", 0.0, cell.getString()
        if int(cell.FormulaResultType2) == 2:  # com.sun.star.sheet.FormulaResult.STRING
            return "text", 0.0, cell.getString()
        return "number", float(cell.getValue()), cell.getString()
    if ctype == "VALUE":
        return "number", float(cell.getValue()), cell.getString()
    return "text", 0.0, cell.getString()


def stored_value(cell: Any) -> dict[str, Any]:
    ctype = cell.Type.value
    out: dict[str, Any] = {"type": ctype, "string": cell.getString()}
    if ctype in ("VALUE", "FORMULA"):
        out["value"] = float(cell.getValue())
    if ctype == "FORMULA":
        out["formula"] = cell.getFormula()
    return out


def take_snapshot(cell: Any) -> tuple[str, Any, int]:
    ctype = cell.Type.value
    fmt = cell.NumberFormat
    if ctype == "VALUE":
        return "VALUE", float(cell.getValue()), fmt
    if ctype == "FORMULA":
        return "FORMULA", cell.getFormula(), fmt
    if ctype == "TEXT":
        return "TEXT", cell.getString(), fmt
    return "EMPTY", None, fmt


def restore_snapshot(cell: Any, snap: tuple[str, Any, int]) -> None:
    kind, value, fmt = snap
    if kind == "VALUE":
        cell.setValue(value)
    elif kind == "FORMULA":
        cell.setFormula(value)
    elif kind == "TEXT":
        set_text(cell, value)
    else:
        set_text(cell, "")
    cell.NumberFormat = fmt


def set_text(cell: Any, text: str) -> None:
    """Text into a cell without the API's side effect: ``setString`` also gives the cell
    the Text ("@") number format, which typing in the user interface never does."""
    fmt = cell.NumberFormat
    cell.setString(text)
    if cell.NumberFormat != fmt:
        cell.NumberFormat = fmt
