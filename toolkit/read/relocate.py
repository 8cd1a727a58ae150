"""Find a form's table where it really is, when a user inserted or deleted rows or columns.

The ``_meta`` map says where each value was when the template was made. A unit that
unprotects a sheet (LibreOffice, WPS, an old Excel) and inserts a row above the table
moves every value down by one while the map still points at the old cells: reading
through the map would then take each figure from its neighbour. So before reading, the
fixed labels the template wrote are checked:

- the column-number row ``(1) (2) (3) …`` under the header: where it is gives the row
  shift, and which number sits over which column gives every column's new place (an
  inserted column is a gap, a deleted one a missing number);
- the row labels in the first column (years of a fixed-rows form, ``1 2 3 …`` of a list
  form): a row inserted or deleted *inside* the table moves the rows below it.

When the labels are found, moved consistently (same order as the map), the map is shifted
to them and the file gets a ``layout_shifted`` warning; a value whose column or row is gone
is not read (``layout_damaged``, an error). When they cannot be found the map is used as
it is, and the row-label check of :mod:`toolkit.read.ingest` still refuses swapped or renamed
rows — a value is never read from a cell the labels say is another one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from toolkit.spec.campaign import Form
from toolkit.spec.layout import a1, col_name, form_layout
from toolkit.spec.meta import CellRef

SHIFT_SLACK = 64  # rows read below the map's last row, to find rows pushed down
_NUMBER = re.compile(r"\(\s*(\d{1,3})\s*\)")

Ref = tuple[CellRef, int, int]  # map entry, 0-based row, 0-based column
Report = Callable[..., None]


def _column_number(value: Any) -> int | None:
    """``(3)`` → 3; a program that turned the text into a negative number (-3) too."""
    if isinstance(value, str):
        m = _NUMBER.fullmatch(value.strip())
        return int(m.group(1)) if m else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0 and (
            float(value).is_integer()):
        return int(-value)
    return None


def _numbers(row: Sequence[Any]) -> dict[int, int]:
    """Column number → 0-based column where it stands, for a row that is a number row."""
    found: dict[int, int] = {}
    for j, value in enumerate(row):
        k = _column_number(value)
        if k is not None and k not in found:
            found[k] = j
    ordered = [found[k] for k in sorted(found)]
    return found if len(found) >= 3 and 1 in found and ordered == sorted(ordered) else {}


def _find_number_row(grid: Sequence[Sequence[Any]], expected: int) -> tuple[int, dict[int, int]]:
    """The number row nearest ``expected`` (-1 and {} when the sheet has none)."""
    if 0 <= expected < len(grid):  # where the map says: nothing can be nearer
        numbers = _numbers(grid[expected])
        if numbers:
            return expected, numbers
    best: tuple[int, dict[int, int]] = (-1, {})
    for i, row in enumerate(grid):
        numbers = _numbers(row)
        if numbers and (best[0] < 0 or abs(i - expected) < abs(best[0] - expected)):
            best = (i, numbers)
    return best


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().casefold() if value is not None else ""


def _row_labels(form: Form) -> dict[str, set[str]]:
    """What the first column shows for each row key (fixed and list forms)."""
    if form.kind == "fixed_rows":
        return {r.key: {r.key.casefold(), r.label.strip().casefold()} for r in form.rows}
    if form.kind == "list":
        return {str(i): {str(i)} for i in range(1, form.list_rows + 1)}
    return {}


def _relocate_rows(form: Form, refs: Sequence[Ref], grid: Sequence[Sequence[Any]], top: int,
                   first_col: int, dr: int) -> dict[str, int | None] | None:
    """Row key → actual row, from the labels under the number row; None when the labels
    do not give one consistent, order-keeping answer (the map is then left alone)."""
    labels = _row_labels(form)
    first: dict[str, int] = {}
    for ref, r, _c in refs:
        first[ref.row] = min(r, first.get(ref.row, r))
    keys = sorted(first, key=first.__getitem__)
    if not labels or not all(k in labels for k in keys):
        return None
    planned = {ref.row: r for ref, r, _c in refs}
    at = {}
    for i in range(top + 1, len(grid)):
        row = grid[i]
        text = _label(row[first_col]) if first_col < len(row) else ""
        for key in keys:
            if text and text in labels[key] and key not in at:
                at[key] = i
                break
    if all(at.get(k) == planned[k] + dr for k in keys):
        return {k: at[k] for k in keys}
    found = [at[k] for k in keys if k in at]
    if found != sorted(found) or len(set(found)) != len(found):
        return None  # rows sorted or swapped: the row-label check reports it
    if len(found) < len(keys) and form.kind != "list":
        return None
    return {k: at.get(k) for k in keys}


def relocate_all(forms: dict[str, Form], refs: list[Ref], grid: Sequence[Sequence[Any]],
                 sheet: str, summary: bool, report: Report, *,
                 strict: bool = False) -> tuple[list[Ref], set[str]]:
    """:func:`relocate` for every form on one sheet: the moved refs, and the forms whose
    row labels were verified here (the caller's own row-label check is then redundant).
    ``strict`` (a map not from the file itself): a form whose column-number row cannot be
    found is not read at all."""
    moved: list[Ref] = []
    verified: set[str] = set()
    for form_id in dict.fromkeys(ref.form for ref, _r, _c in refs):
        got, ok = relocate(forms[form_id], [x for x in refs if x[0].form == form_id], grid,
                           sheet, summary, report, strict=strict)
        moved.extend(got)
        if ok:
            verified.add(form_id)
    return moved, verified


def relocate(form: Form, refs: list[Ref], grid: Sequence[Sequence[Any]], sheet: str,
             summary: bool, report: Report, *, strict: bool = False) -> tuple[list[Ref], bool]:
    """``refs`` moved to where the sheet's labels say the table now is (see the module
    docstring), and whether the row labels were verified; cells that no longer exist are
    dropped with a ``layout_damaged`` finding."""
    if not refs:
        return refs, False
    expected = (form_layout(form).number_row if summary
                else min(r for _ref, r, _c in refs) - 1)
    at, numbers = _find_number_row(grid, expected)
    if at < 0 and strict:
        report("layout_damaged", form=form.id, sheet=sheet,
               detail="không tìm thấy dòng số thứ tự cột (1), (2)… của biểu")
        return [], True
    if at < 0:
        return refs, False  # no number row at all (older tools): nothing to check against
    dr = at - expected
    columns = {c: numbers.get(c + 1) for _ref, _r, c in refs}
    first_col = numbers.get(1, 0)
    labelled = not summary and form.kind != "single_row"
    rows = _relocate_rows(form, refs, grid, at, first_col, dr) if labelled else None
    moves = dr != 0 or any(new != c for c, new in columns.items() if new is not None)
    if labelled and rows is None and moves:
        report("layout_damaged", form=form.id, sheet=sheet,
               detail="không nhận ra được các dòng của biểu sau khi bị chèn/xóa dòng, cột")
        return [], True
    moved: list[Ref] = []
    gone_cols: set[int] = set()
    gone_rows: set[str] = set()
    example = ""
    for ref, r, c in refs:
        new_r = rows.get(ref.row) if rows is not None else r + dr
        new_c = columns[c]
        if new_c is None:
            gone_cols.add(c)
        elif new_r is None:
            gone_rows.add(ref.row)
        else:
            moved.append((ref, new_r, new_c))
            if (new_r, new_c) != (r, c) and not example:
                example = f"{a1(r, c)} → {a1(new_r, new_c)}"
    changed = moves or bool(example)
    if gone_cols:
        letters = ", ".join(col_name(c) for c in sorted(gone_cols))
        report("layout_damaged", form=form.id, sheet=sheet,
               detail=f"không còn cột số ({', '.join(f'({c + 1})' for c in sorted(gone_cols))}) "
                      f"của cột {letters}")
    if gone_rows and form.kind != "list":
        report("layout_damaged", form=form.id, sheet=sheet,
               detail=f"không còn dòng {', '.join(sorted(gone_rows))}")
    if changed:
        report("layout_shifted", form=form.id, sheet=sheet,
               detail=f", ví dụ ô {example}" if example else "")
    return moved, rows is not None
