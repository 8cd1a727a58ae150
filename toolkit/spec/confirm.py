"""The confirmation cell of a template: where a unit says a flagged figure is right.

A plausibility warning (:mod:`toolkit.history.plausibility`) asks a unit to look again at a
figure; when the figure is right (a commune that really trained 3,100 young people), the
unit says so in one text cell under the form's table, «Xác nhận số liệu đúng», and the
figure is not flagged again. One cell per form sheet, between the table and the signature
block: a label on the left (the same split as the signature's «NGƯỜI LẬP BIỂU»), the
unlocked cell merged over the rest of the table's width.

Only a form whose figures are judged has one (:func:`checked_columns`: a list of documents
or names has nothing a warning could flag, so a cell there would only puzzle the unit).
It is mapped in ``_meta`` like every value (row ``-``, column :data:`CONFIRM_KEY`), so a
file made before it existed (no such map row) reads as before. It is a note, not a
figure: the reader sets it apart (:attr:`~toolkit.spec.models.Submission.confirmations`),
so no check, sum or table ever sees it. Summaries have none.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.spec.campaign import Column, Form
from toolkit.spec.layout import FormLayout, a1, heading_split
from toolkit.spec.targets import TARGET
from toolkit.spec.text import nfc

CONFIRM_KEY = "_xac_nhan"  # the map's column key of the confirmation cell (never a spec key)
CONFIRM_ROW = "-"  # its row key in the map
CONFIRM_LABEL = "Xác nhận số liệu đúng"
CONFIRM_GAP = 1  # blank rows between the table and the confirmation row
# the line of the instruction sheet that explains it
CONFIRM_GUIDE = (f"Nếu được báo một số liệu cần kiểm tra lại mà số liệu đó đúng, ghi «x» (cả "
                 f"biểu) hoặc các ô đó (ví dụ: D14, F14) kèm lý do vào ô «{CONFIRM_LABEL}» "
                 f"dưới bảng của biểu rồi gửi lại; số liệu đã xác nhận không bị cảnh báo lại.")


CHECKED_TYPES = ("count", "number", "money")


def checked_columns(form: Form) -> list[Column]:
    """The columns of ``form`` whose figures the plausibility warnings judge: typed
    count/number/money (no percent, nothing computed, not a target allocated from above);
    none on a list form. The one rule for both the warnings and the confirmation cell."""
    if form.kind == "list":
        return []
    return [c for c in form.input_columns if c.type in CHECKED_TYPES and c.key != TARGET]


def has_confirmation(form: Form) -> bool:
    """Whether ``form``'s template gets a confirmation cell: when a figure of it can be
    flagged."""
    return bool(checked_columns(form))


def confirm_hint(example: str) -> str:
    """The hint beside the label; ``example`` is a value cell of the form (``D14``)."""
    return (f"Nếu số liệu bị cảnh báo là đúng, ghi «x» (cả biểu) hoặc các ô "
            f"(ví dụ: {example}) và lý do")


@dataclass(frozen=True)
class ConfirmPlace:
    """Where the confirmation row of one form sheet is (0-based): the label over columns
    ``label_cols``, the unit's text over ``input_cols`` (its first cell is the mapped one)."""

    row: int
    label_cols: tuple[int, int]
    input_cols: tuple[int, int]

    @property
    def cell(self) -> str:
        return a1(self.row, self.input_cols[0])


def confirm_place(layout: FormLayout) -> ConfirmPlace:
    """The confirmation row of a template laid out as ``layout``: one blank row under the
    table, the label on the left ~40 %, the input on the rest."""
    split = heading_split(layout.widths, layout.last_col)
    split = min(split, layout.last_col - 1) if layout.last_col > 0 else 0
    first_input = min(split + 1, layout.last_col)
    return ConfirmPlace(row=layout.last_row + 1 + CONFIRM_GAP, label_cols=(0, split),
                        input_cols=(first_input, layout.last_col))


def confirm_example(layout: FormLayout) -> str:
    """The first value cell of the form (``D14``): the example the hint shows."""
    for _row, _col, cell in layout.input_cells():
        return cell
    return "D14"


def is_confirm_label(value: object) -> bool:
    """Whether a cell shows the confirmation label (what the reader looks for when a unit
    inserted rows above it)."""
    if not isinstance(value, str):
        return False
    text = " ".join(nfc(value).split()).casefold()
    return text.startswith(CONFIRM_LABEL.casefold())
