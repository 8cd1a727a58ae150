"""What a unit confirmed in its forms' «Xác nhận số liệu đúng» cells.

The cell (:mod:`toolkit.spec.confirm`) holds free text a unit typed: untrusted, never
evaluated, only looked at for cell references. Its meaning:

- empty: nothing confirmed;
- one or more A1 references (``D14``, ``d14``, ``$D$14``, ``PL2!D14``; separated by commas,
  semicolons or spaces, with a reason around them or not): those value cells of the form
  (a reference naming another form's sheet means that form's cell), mapped to their row and
  column through the file's own cells — a reference to a cell that holds no value of the
  form confirms nothing (a form's own name, ``PL4``, is a word, not a cell);
- any other text (``x``, ``đúng``, ``Đã kiểm tra``): every figure of the form.

The result is what :func:`toolkit.history.plausibility.plausibility_findings` takes as
``confirmed``: ``(unit, form)`` for a whole form, ``(unit, form, row, column)`` for a cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from toolkit.spec.campaign import Campaign
from toolkit.spec.models import Submission
from toolkit.spec.text import is_blank, nfc

MAX_CONFIRM_CHARS = 2_000  # what is looked at of a confirmation (a cell may hold 32,767)
# one token: an optional sheet name and "!", then a cell; quotes around the sheet allowed
_REF = re.compile(r"(?:'?(?P<sheet>[^!'\s]{1,31})'?!)?\$?(?P<col>[A-Za-z]{1,3})\$?"
                  r"(?P<row>[1-9][0-9]{0,6})")
_SEPARATORS = re.compile(r"[\s,;]+")
_PUNCTUATION = "()[]{}.:«»\"“”"


def references(text: str, names: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The cell references in ``text``: (sheet or "", A1 in capitals), in order; a word in
    ``names`` (the forms' sheet names: ``PL4`` looks like a cell) is not one."""
    skip = {n.casefold() for n in names}
    found: list[tuple[str, str]] = []
    for token in _SEPARATORS.split(nfc(text[:MAX_CONFIRM_CHARS])):
        word = token.strip(_PUNCTUATION)
        m = _REF.fullmatch(word)
        if m and word.casefold() not in skip:
            found.append((m.group("sheet") or "", f"{m.group('col').upper()}{m.group('row')}"))
    return found


def confirmed_cells(campaign: Campaign, submissions: Iterable[Submission]
                    ) -> set[tuple[str, ...]]:
    """Everything the ``submissions`` confirmed (module text), keyed by unit code."""
    forms = {f.id: f for f in campaign.forms}
    by_sheet = {nfc(f.sheet).casefold(): f.id for f in campaign.forms}
    by_sheet.update({f.id.casefold(): f.id for f in campaign.forms})
    out: set[tuple[str, ...]] = set()
    for sub in submissions:
        notes = [c for c in sub.confirmations if c.form in forms and not is_blank(c.raw)]
        if not notes or not sub.unit_code:
            continue
        cells: dict[tuple[str, str], tuple[str, str]] | None = None
        for note in notes:
            refs = references(str(note.raw), by_sheet)
            if not refs:
                out.add((sub.unit_code, note.form))
                continue
            if cells is None:  # (form, A1) → (row, column), made only when needed
                cells = {(c.form, c.cell.upper()): (c.row, c.column) for c in sub.cells}
            for sheet, cell in refs:
                form = by_sheet.get(nfc(sheet).casefold(), "") if sheet else note.form
                place = cells.get((form, cell))
                if place is not None:
                    out.add((sub.unit_code, form, *place))
    return out
