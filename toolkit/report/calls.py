"""The phone-call list: units that have not reported or must send their file again, with
how to reach them. One list (:func:`call_list`) for the summary's printable sheet
(:func:`write_call_sheet`) and the terminal (:func:`render_calls`), so both always agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xlsxwriter.workbook import Workbook

from toolkit.spec.models import ConsolidationResult
from toolkit.spec.units import Unit
from toolkit.write.styles import Styles, setup_print, text_lines, write_text

CALL_SHEET = "Cần liên hệ"
CALL_COLUMNS: tuple[tuple[str, float], ...] = (
    ("TT", 5), ("Mã đơn vị", 9), ("Tên đơn vị", 28), ("Tình trạng", 16), ("Hạn nộp", 11),
    ("Điện thoại", 14), ("Email", 28), ("Việc cần nhắc", 34), ("Kết quả liên hệ", 22),
)
TERMINAL_MAX = 40  # a province's terminal shows this many; the sheet has them all


@dataclass(frozen=True)
class Call:
    """One unit to call: why, and what to ask of it."""

    unit: Unit
    status: str  # "missing" or "rejected"
    deadline: dt.date | None
    errors: int

    @property
    def state(self) -> str:
        return "Chưa nộp" if self.status == "missing" else f"Bị trả lại ({self.errors} lỗi)"

    @property
    def ask(self) -> str:
        if self.status == "missing":
            return "Nhắc gửi báo cáo" + (f" (hạn {self.deadline:%d/%m/%Y})"
                                         if self.deadline else "")
        return "Sửa các ô sai theo tệp phản hồi rồi gửi lại"


def call_list(result: ConsolidationResult) -> list[Call]:
    """Every expected unit still ``missing`` or ``rejected``, in units-file order."""
    calls = []
    for unit in result.expected:
        status = result.status_of(unit.code)
        if status not in ("missing", "rejected"):
            continue
        sub = result.chosen(unit.code)
        calls.append(Call(unit, status, result.campaign.deadline_for(unit.level),
                          sub.errors if sub is not None else 0))
    return calls


def write_call_sheet(wb: Workbook, st: Styles, result: ConsolidationResult) -> None:
    """The printable call list: a title, one row per unit with its phone and e-mail, and an
    empty column to note the answer during the call."""
    calls = call_list(result)
    ws = wb.add_worksheet(CALL_SHEET)
    widths = {i: w for i, (_label, w) in enumerate(CALL_COLUMNS)}
    last_col = len(CALL_COLUMNS) - 1
    missing = sum(1 for c in calls if c.status == "missing")
    write_text(ws, 0, 0, 0, last_col, "DANH SÁCH ĐƠN VỊ CẦN LIÊN HỆ",
               st.text(bold=True, size=13, align="center", wrap=False))
    write_text(ws, 1, 0, 1, last_col,
               f"{result.office.name} — {result.campaign.document_number}: {len(calls)} đơn vị "
               f"(chưa nộp {missing}, bị trả lại {len(calls) - missing})",
               st.text(italic=True, align="center", wrap=False))
    top = 3
    for col, (label, _w) in enumerate(CALL_COLUMNS):
        ws.write_string(top, col, label, st.header())
    ws.set_row(top, 32)
    date_fmt = st.value("date")
    for i, call in enumerate(calls, start=1):
        row = top + i
        ws.write_number(row, 0, i, st.label(align="center"))
        texts = {1: call.unit.code, 2: call.unit.name, 3: call.state, 5: call.unit.phone,
                 6: call.unit.email, 7: call.ask, 8: ""}
        for col, text in texts.items():
            ws.write_string(row, col, text, st.label(bold=col == 3 and call.status ==
                                                      "missing"))
        if call.deadline is not None:
            ws.write_datetime(row, 4, dt.datetime.combine(call.deadline, dt.time()), date_fmt)
        else:
            ws.write_blank(row, 4, None, st.label())
        lines = max(text_lines(str(texts[c]), CALL_COLUMNS[c][1]) for c in (2, 6, 7))
        ws.set_row(row, 15 * lines + 6)  # room to write the answer by hand
    last = top + len(calls)
    if not calls:
        last += 1
        ws.write_string(last, 0, "Mọi đơn vị đã nộp hợp lệ; không cần liên hệ.",
                        st.text(italic=True, wrap=False))
    setup_print(ws, widths, last_row=last, last_col=last_col, repeat=(top, top),
                freeze=(top + 1, 0))


def render_calls(result: ConsolidationResult) -> list[str]:
    """The call list for the terminal: one line per unit (at most :data:`TERMINAL_MAX`)."""
    calls = call_list(result)
    if not calls:
        return []
    lines = [f"Cần liên hệ ({len(calls)} đơn vị; danh sách in được ở trang «{CALL_SHEET}»):"]
    for call in calls[:TERMINAL_MAX]:
        reach = "; ".join(x for x in (f"ĐT {call.unit.phone}" if call.unit.phone else "",
                                      call.unit.email) if x) or "chưa có số điện thoại, email"
        lines.append(f"  {call.unit.code} {call.unit.name} — {call.state.lower()} — {reach}")
    if len(calls) > TERMINAL_MAX:
        lines.append(f"  … và {len(calls) - TERMINAL_MAX} đơn vị khác")
    return lines
