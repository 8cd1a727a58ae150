"""Calc's data validity, emulated through UNO for :mod:`lo_driver`: would the user
interface stop this value (type, operator, bounds, list entries of the cell's
``Validation``), and does LibreOffice's own Detective ▸ Mark Invalid Data circle it (an
independent check of the emulation)."""

from __future__ import annotations

import contextlib
import math
from typing import Any

from lo_cells import cell_content, prop_value

_NUMERIC_TYPES = ("WHOLE", "DECIMAL", "DATE", "TIME")


class Validity:
    """Validity checks on one open document; ``office`` evaluates constant formulas such
    as ``DATE(1990;1;1)`` in a scratch document."""

    def __init__(self, office: Any, doc: Any) -> None:
        self.office = office
        self.doc = doc

    def check(self, cell: Any) -> str | None:
        """None when the cell's content passes its Validation with a Stop error (or the
        rule would not stop it); otherwise the error message the user would see."""
        v = cell.Validation
        vtype = v.Type.value
        if vtype == "ANY":
            return None
        if not v.ShowErrorMessage or v.ErrorAlertStyle.value != "STOP":
            return None  # Calc accepts the value (warning/info asks, no message: silent)
        problem = self._violates(cell, v, vtype)
        if problem is None:
            return None
        title = v.ErrorTitle or "LibreOffice Calc"
        text = v.ErrorMessage or "Invalid value."
        return f"{title}: {text} [{problem}]"

    def _violates(self, cell: Any, v: Any, vtype: str) -> str | None:
        kind, number, string = cell_content(cell)
        if kind == "empty":
            return None if v.IgnoreBlankCells else "blank"
        op = v.getOperator().value
        f1, f2 = v.getFormula1(), v.getFormula2()
        if vtype in _NUMERIC_TYPES:
            if kind != "number":
                return f"not a number: {string!r}"
            if vtype == "WHOLE" and not float(number).is_integer():
                return f"not a whole number: {number!r}"
            if vtype == "DATE":
                number = math.floor(number)
            if vtype == "TIME":
                number = number - math.floor(number)
            return self._condition(number, op, f1, f2)
        if vtype == "TEXT_LEN":
            return self._condition(float(len(string)), op, f1, f2)
        if vtype == "LIST":
            entries = self._list_entries(f1)
            if entries is None:
                return None  # a source this emulation cannot resolve: let it pass
            if kind == "number":
                for e in entries:
                    with contextlib.suppress(ValueError):
                        if float(e.replace(",", ".")) == number:
                            return None
            folded = string.casefold()
            if any(e.casefold() == folded for e in entries):
                return None
            return f"{string!r} is not in the list"
        return None  # CUSTOM: not emulated

    def _condition(self, x: float, op: str, f1: str, f2: str) -> str | None:
        a = self._value(f1)
        b = self._value(f2) if op in ("BETWEEN", "NOT_BETWEEN") else None
        ok = {
            "EQUAL": lambda: x == a,
            "NOT_EQUAL": lambda: x != a,
            "GREATER": lambda: x > a,
            "GREATER_EQUAL": lambda: x >= a,
            "LESS": lambda: x < a,
            "LESS_EQUAL": lambda: x <= a,
            "BETWEEN": lambda: min(a, b) <= x <= max(a, b),
            "NOT_BETWEEN": lambda: not (min(a, b) <= x <= max(a, b)),
        }.get(op)
        if ok is None or a is None or (op in ("BETWEEN", "NOT_BETWEEN") and b is None):
            return None
        if ok():
            return None
        bounds = f"{a:g}" if b is None else f"{a:g}, {b:g}"
        return f"{x:g} fails {op} {bounds}"

    def _value(self, formula: str) -> float | None:
        text = (formula or "").strip().lstrip("=")
        try:
            return float(text)
        except ValueError:
            pass
        return self._evaluate(text)

    def _evaluate(self, formula: str) -> float | None:
        """Evaluate a constant expression (``DATE(1990;1;1)``) in a scratch document."""
        try:
            scratch = self.office.desktop.loadComponentFromURL(
                "private:factory/scalc", "_blank", 0, (prop_value("Hidden", True),))
            try:
                c = scratch.Sheets.getByIndex(0).getCellByPosition(0, 0)
                c.setFormula("=" + formula)
                scratch.calculateAll()
                return float(c.getValue()) if c.getError() == 0 else None
            finally:
                scratch.close(True)
        except Exception:
            return None

    def _list_entries(self, formula: str) -> list[str] | None:
        text = (formula or "").strip()
        if text.startswith('"'):
            entries, i = [], 0
            while i < len(text):
                if text[i] != '"':
                    i += 1
                    continue
                j, buf = i + 1, []
                while j < len(text):
                    if text[j] == '"' and j + 1 < len(text) and text[j + 1] == '"':
                        buf.append('"')
                        j += 2
                    elif text[j] == '"':
                        break
                    else:
                        buf.append(text[j])
                        j += 1
                entries.append("".join(buf))
                i = j + 1
            return entries
        # a range such as $'_lists'.$A$1:$A$9 or $_lists.$A$1:$A$9
        ref = text.lstrip("=").replace("$", "")
        if "." not in ref:
            return None
        sheet, cells = ref.rsplit(".", 1)
        sheet = sheet.strip("'")
        cells = cells.replace(f"{sheet}.", "").replace(f"'{sheet}'.", "")
        try:
            rng = self.doc.Sheets.getByName(sheet).getCellRangeByName(cells)
        except Exception:
            return None
        return [str(c) for row in rng.getDataArray() for c in row if str(c) != ""]

    def flags_invalid(self, ws: Any, cell: Any) -> bool | None:
        """LibreOffice's own verdict: does Detective ▸ Mark Invalid Data circle the cell?"""
        try:
            name = cell.AbsoluteName
            ws.clearArrows()
            ws.showInvalid()
            page = ws.DrawPage
            flagged = False
            for i in range(page.Count):
                shape = page.getByIndex(i)
                if shape.ShapeType != "com.sun.star.drawing.EllipseShape":
                    continue
                with contextlib.suppress(Exception):
                    if shape.Anchor.AbsoluteName == name:
                        flagged = True
            ws.clearArrows()
            return flagged
        except Exception:
            return None
