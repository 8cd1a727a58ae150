"""The campaign workbook: a campaign's definition as an ``.xlsx`` an office clerk edits in
Excel or LibreOffice (XLSForm's idea, in Vietnamese and for tables).

Sheets, after the instruction sheet «Hướng dẫn»: «Chiến dịch» (one row per item: mã, tiêu
đề, số và ngày văn bản, hạn nộp theo cấp, hướng dẫn…), «Biểu» (one row per form), «Cột» (one
row per column, header written as a path ``Trình độ › Chuyên môn › Thạc sỹ``), «Dòng cố
định», «Chỉ tiêu», «Quy tắc» (``Thạc sỹ + Đại học ≤ Số lượng``, columns named by their
words) and «Câu hỏi» (a proposal's open questions, informational). Every closed vocabulary
is a dropdown; blanks mean the loader's defaults, which each header's note states.

Pure functions on bytes, no IO (pyxform's way): :func:`workbook_bytes` writes the data of
:func:`toolkit.spec.data.campaign_to_data` (or a proposal's, even an incomplete one);
:func:`read_workbook` (in :mod:`.workbook_read`) reads it back into canonical data, checked
by :func:`toolkit.spec.load.campaign_from_data`, every mistake a :class:`WorkbookError`
naming sheet, row and column.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from toolkit.author.workbook_read import read_questions, read_workbook
from toolkit.author.workbook_vocab import (
    AGGREGATE_LABELS,
    CAMPAIGN,
    COLUMNS,
    FORMS,
    GUIDE,
    INDICATOR_KIND_LABELS,
    INDICATORS,
    ITEMS,
    KIND_LABELS,
    LIST_ENTRIES,
    LISTS,
    NO,
    OP_LABELS,
    OUTLINE,
    QUESTIONS,
    ROWS,
    RULES,
    SEVERITY_LABELS,
    SHEET_FIELDS,
    TYPE_LABELS,
    YES,
    ColumnName,
    Field,
    Question,
    WorkbookError,
    join_path,
    reference_for,
)
from toolkit.spec.text import nfc
from toolkit.write.styles import WORKBOOK_OPTIONS, Styles, setup_guide_print, text_lines

__all__ = ["Question", "WorkbookError", "read_questions", "read_workbook", "workbook_bytes"]

MIN_ROWS = 500  # rows with dropdowns and formats below the data, for what the clerk adds
SPARE_ROWS = 200
LINE_HEIGHT = 14.5
TIMES_PER_UNIT = 1.15  # Times New Roman fits ~15 % more characters than a width unit
DATE_FORMAT = "dd/mm/yyyy"


def workbook_bytes(campaign_data: Mapping[str, Any], forms_data: Sequence[Mapping[str, Any]],
                   questions: Iterable[Question | Mapping[str, Any]] = ()) -> bytes:
    """The campaign workbook of ``campaign_data`` and ``forms_data`` (the shapes of the
    YAML files), with ``questions`` from a proposal on «Câu hỏi». Same data, same bytes."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    writer = _Writer(workbook, campaign_data, forms_data)
    writer.guide()
    writer.table(CAMPAIGN, writer.campaign_rows())
    writer.table(FORMS, writer.form_rows())
    writer.table(COLUMNS, writer.column_rows())
    writer.table(ROWS, writer.fixed_rows())
    writer.table(INDICATORS, writer.indicator_rows())
    writer.table(RULES, writer.rule_rows())
    writer.table(OUTLINE, writer.outline_rows())
    writer.table(QUESTIONS, [_question_row(q) for q in questions])
    writer.lists()
    created = _as_date(campaign_data.get("document_date")) or dt.date(2000, 1, 1)
    cid = str(campaign_data.get("id", ""))
    workbook.set_properties({
        "title": nfc(f"Khai báo chiến dịch {cid}".strip()),
        "subject": nfc(str(campaign_data.get("title", ""))),
        "author": nfc(str(campaign_data.get("issuer", ""))),
        "comments": "Tạo bằng toolkit campaign export; nạp lại bằng toolkit campaign load.",
        "created": dt.datetime.combine(created, dt.time()),
    })
    workbook.close()
    return buffer.getvalue()


# ----------------------------------------------------------------------------- rows as data


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _header(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(str(h) for h in value)
    return ()


def _question_row(q: Question | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(q, Question):
        q = {"form": q.form, "column": q.column, "question": q.question,
             "answered": q.answered, "note": q.note}
    return {"form": q.get("form", ""), "column": q.get("column", ""),
            "question": q.get("question", ""), "answered": YES if q.get("answered") else NO,
            "note": q.get("note", "")}


@dataclass
class _Cell:
    value: Any
    fmt: str = "text"  # text | number | date


class _Writer:
    """Writes the sheets of one workbook from plain data (never trusting it to be valid:
    a proposal may be incomplete, and the clerk finishes it)."""

    def __init__(self, workbook: Workbook, campaign: Mapping[str, Any],
                 forms: Sequence[Mapping[str, Any]]) -> None:
        self.wb = workbook
        self.st = Styles(workbook)
        self.campaign = campaign
        self.forms = list(forms)
        self.list_cols: dict[str, int] = {}
        self.n_forms = len(self.forms)

    # ------------------------------------------------------------------ the data sheets
    def campaign_rows(self) -> list[dict[str, Any]]:
        c = self.campaign
        deadlines = c.get("deadlines") or {}
        rows: list[dict[str, Any]] = []
        by_level = {i.key.split(".", 1)[1]: i for i in ITEMS if i.key.startswith("deadlines.")}
        order = [lv for lv in deadlines if lv in by_level]  # the campaign's order is kept
        # then the usual levels' rows, empty; a rare level's row is chosen from the list
        order += [lv for lv, i in by_level.items() if lv not in order and i.usual]
        first_deadline = True
        for item in ITEMS:
            if item.key.startswith("deadlines."):
                if first_deadline:
                    first_deadline = False
                    for level in order:
                        d = by_level[level]
                        rows.append({"item": d.label, "help": d.help,
                                     "value": _Cell(deadlines.get(level), "date")})
            elif item.key == "instructions":
                lines = list(c.get("instructions") or []) or [""]
                for i, line in enumerate(lines):
                    rows.append({"item": item.label, "help": item.help if i == 0 else "",
                                 "value": line})
            elif item.key.startswith("plausibility."):
                value = (c.get("plausibility") or {}).get(item.key.split(".", 1)[1])
                if value is not None:  # a row only for a threshold the campaign changes
                    rows.append({"item": item.label, "help": item.help, "value": value})
            else:
                value = c.get(item.key)
                if item.key == "template_version" and value is not None:
                    value = str(value)
                rows.append({"item": item.label, "help": item.help,
                             "value": _Cell(value, "date") if item.date else value})
        return rows

    def form_rows(self) -> list[dict[str, Any]]:
        return [{"id": f.get("id"), "number": f.get("number"), "title": f.get("title"),
                 "kind": KIND_LABELS.get(str(f.get("kind")), f.get("kind")),
                 "row_header": f.get("row_header"), "list_rows": f.get("list_rows")}
                for f in self.forms]

    def column_rows(self) -> list[dict[str, Any]]:
        rows = []
        for form in self.forms:
            cols = [c for c in form.get("columns") or [] if isinstance(c, Mapping)]
            names = [ColumnName(str(c.get("key", "")), _header(c.get("header"))) for c in cols]
            for col in cols:
                where = f"biểu «{form.get('id')}», cột «{col.get('key')}»"
                header = _header(col.get("header"))
                for part in header:
                    if "›" in part or ">" in part:
                        raise WorkbookError(f"{where}: tiêu đề «{part}» có dấu › hoặc >, là "
                                            "dấu phân tầng của sổ khai báo; hãy đổi chữ")
                choices = [str(x) for x in col.get("choices") or []]
                if any(";" in x for x in choices):
                    raise WorkbookError(f"{where}: lựa chọn có dấu chấm phẩy, là dấu phân "
                                        "cách của sổ khai báo; hãy đổi chữ")
                ctype = str(col.get("type", ""))
                agg = col.get("aggregate")
                refs = {k: reference_for(str(col[k]), names)
                        for k in ("numerator", "denominator") if col.get(k)}
                rows.append({
                    "form": form.get("id"), "key": col.get("key"), "header": join_path(header),
                    "type": TYPE_LABELS.get(ctype, ctype),
                    "required": YES if col.get("required") else None,  # blank: Không
                    "min": col.get("min"), "max": col.get("max"),
                    "choices": "; ".join(choices),
                    "aggregate": AGGREGATE_LABELS.get(str(agg), agg) if agg else None,
                    "numerator": refs.get("numerator"), "denominator": refs.get("denominator"),
                    "width": col.get("width"), "note": col.get("note"),
                })
        return rows

    def fixed_rows(self) -> list[dict[str, Any]]:
        rows = []
        for form in self.forms:
            for r in form.get("rows") or []:
                key, label = ((r.get("key"), r.get("label") or r.get("key"))
                              if isinstance(r, Mapping) else (r, r))
                rows.append({"form": form.get("id"), "key": str(key), "label": str(label)})
        return rows

    def indicator_rows(self) -> list[dict[str, Any]]:
        rows = []
        for form in self.forms:
            for ind in form.get("indicators") or []:
                kind = str(ind.get("kind", "count"))
                rows.append({"form": form.get("id"), "key": ind.get("key"),
                             "name": ind.get("name"), "unit": ind.get("unit"),
                             "kind": INDICATOR_KIND_LABELS.get(kind, kind),
                             "default_target": ind.get("default_target")})
        return rows

    def rule_rows(self) -> list[dict[str, Any]]:
        rows = []
        for form in self.forms:
            cols = [c for c in form.get("columns") or [] if isinstance(c, Mapping)]
            names = [ColumnName(str(c.get("key", "")), _header(c.get("header"))) for c in cols]
            for rule in form.get("rules") or []:
                left = rule.get("sum")
                left = [left] if isinstance(left, str) else list(left or [])
                op = str(rule.get("op", "le"))
                sev = str(rule.get("severity", "error"))
                rows.append({
                    "form": form.get("id"),
                    "sum": " + ".join(reference_for(str(k), names) for k in left),
                    "op": OP_LABELS.get(op, op),
                    "right": reference_for(str(rule.get("right", "")), names),
                    "severity": SEVERITY_LABELS.get(sev, sev),
                })
        return rows

    def outline_rows(self) -> list[dict[str, Any]]:
        outline = self.campaign.get("outline") or []
        return [{"level": s.get("level", 1), "heading": s.get("heading"),
                 "points": "\n".join(map(str, s.get("points") or [])) or None,
                 "figures": "; ".join(map(str, s.get("figures") or [])) or None,
                 "notes": "; ".join(map(str, s.get("notes") or [])) or None}
                for s in outline if isinstance(s, Mapping)]

    # ------------------------------------------------------------------ writing a table
    def table(self, sheet: str, rows: list[dict[str, Any]]) -> None:
        """Header (frozen, with a note on each cell), one row per entry, dropdowns and
        formats down to well below the data, A4 landscape one page wide."""
        ws = self.wb.add_worksheet(sheet)
        fields = SHEET_FIELDS[sheet]
        st = self.st
        last = max(len(rows) + SPARE_ROWS, MIN_ROWS)
        for c, f in enumerate(fields):
            fmt = st.get(num_format="@", text_wrap=True) if f.text else st.get(text_wrap=True)
            ws.set_column(c, c, f.width, fmt)
            ws.write_string(0, c, f.header, st.header())
            ws.write_comment(0, c, f.note, {"author": "toolkit", "x_scale": 2.4,
                                            "y_scale": 1.6, "font_name": "Times New Roman"})
            self._validate(ws, c, f, last)
        ws.set_row(0, 2 * LINE_HEIGHT + 4)
        for r, row in enumerate(rows, start=1):
            lines = 1
            for c, f in enumerate(fields):
                value = row.get(f.key)
                cell = value if isinstance(value, _Cell) else _Cell(value)
                self._write(ws, r, c, cell, f)
                if isinstance(cell.value, str) and cell.value:
                    lines = max(lines, text_lines(cell.value, f.width * TIMES_PER_UNIT))
            ws.set_row(r, LINE_HEIGHT * lines + 3)
        ws.freeze_panes(1, 0)
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.print_area(0, 0, max(len(rows), 1), len(fields) - 1)
        ws.set_footer(f'&C&"Times New Roman"&10{sheet} — trang &P/&N')

    def _write(self, ws: Worksheet, r: int, c: int, cell: _Cell, f: Field) -> None:
        value = cell.value
        center = f.center
        if value is None or value == "":
            ws.write_blank(r, c, None, self._fmt("text" if f.text else "blank", center))
            return
        day = _as_date(value) if cell.fmt == "date" else None
        if day is not None:
            ws.write_datetime(r, c, dt.datetime.combine(day, dt.time()), self._fmt("date"))
        elif isinstance(value, bool):
            ws.write_string(r, c, YES if value else NO, self._fmt("text", center))
        elif isinstance(value, int | float):
            ws.write_number(r, c, value, self._fmt("number"))
        else:
            ws.write_string(r, c, nfc(str(value)), self._fmt("text", center))

    def _fmt(self, kind: str, center: bool = False) -> Format:
        base: dict[str, Any] = {"border": 1, "text_wrap": True, "valign": "top",
                                "align": "center" if center else "left"}
        if kind == "text":
            return self.st.get(**base, num_format="@")
        if kind == "date":
            return self.st.get(**base, num_format=DATE_FORMAT)
        if kind == "number":
            return self.st.get(**{**base, "align": "right"}, num_format="General")
        return self.st.get(**base)

    def _validate(self, ws: Worksheet, c: int, f: Field, last: int) -> None:
        opts: dict[str, Any]
        if f.vocab == "forms":
            end = max(self.n_forms + SPARE_ROWS, MIN_ROWS) + 1
            col = _letter(next(i for i, x in enumerate(SHEET_FIELDS[FORMS]) if x.key == "id"))
            opts = {"validate": "list", "source": f"='{FORMS}'!${col}$2:${col}${end}"}
        elif f.vocab is not None:
            n = len(LIST_ENTRIES[f.vocab])
            col = _letter(self._list_col(f.vocab))
            opts = {"validate": "list", "source": f"='{LISTS}'!${col}$1:${col}${n}"}
        elif f.key in ("min", "max", "default_target"):
            opts = {"validate": "decimal", "criteria": "between", "minimum": -1e15,
                    "maximum": 1e15}
        elif f.key in ("width", "list_rows"):
            opts = {"validate": "decimal" if f.key == "width" else "integer",
                    "criteria": "between", "minimum": 1,
                    "maximum": 200 if f.key == "width" else 1000}
        else:
            return
        what = "một giá trị trong danh sách" if opts["validate"] == "list" else "một số"
        opts.update(ignore_blank=True, error_type="stop",
                    input_title=_clip(f.header, 32), input_message=_clip(f.note, 255),
                    error_title=_clip(f"{f.header}: không hợp lệ", 32),
                    error_message=_clip(f"Hãy nhập {what}. {f.note}", 255))
        ws.data_validation(1, c, last, c, opts)

    def _list_col(self, vocab: str) -> int:
        if vocab not in self.list_cols:
            self.list_cols[vocab] = len(self.list_cols)
        return self.list_cols[vocab]

    def lists(self) -> None:
        """The hidden sheet that holds the dropdowns' entries."""
        ws = self.wb.add_worksheet(LISTS)
        for vocab, c in self.list_cols.items():
            for r, entry in enumerate(LIST_ENTRIES[vocab]):
                ws.write_string(r, c, entry)
        ws.hide()

    # ------------------------------------------------------------------ instructions
    def guide(self) -> None:
        """«Hướng dẫn»: what the file is, one line per sheet, how to write, the words."""
        ws = self.wb.add_worksheet(GUIDE)
        st = self.st
        widths = (24.0, 100.0)
        ws.set_column(0, 0, widths[0])
        ws.set_column(1, 1, widths[1])
        row = 0

        def span(text: str, fmt: Format, height: float = LINE_HEIGHT + 2) -> None:
            nonlocal row
            ws.merge_range(row, 0, row, 1, "", fmt)
            ws.write_string(row, 0, nfc(text), fmt)
            ws.set_row(row, max(height, (LINE_HEIGHT + 1) * text_lines(text, sum(widths))))
            row += 1

        def pair(label: str, text: str, *, bold: bool = False) -> None:
            nonlocal row
            ws.write_string(row, 0, label, st.text(bold=True, border=1))
            ws.write_string(row, 1, nfc(text), st.text(bold=bold, border=1))
            ws.set_row(row, (LINE_HEIGHT + 1) * text_lines(text, widths[1]))
            row += 1

        span("KHAI BÁO CHIẾN DỊCH BÁO CÁO", st.text(bold=True, size=14, align="center"), 24)
        title = str(self.campaign.get("title") or "")
        if title:
            span(title, st.text(italic=True, align="center"))
        row += 1
        span(GUIDE_INTRO, st.text())
        row += 1
        span("Các trang trong tệp", st.text(bold=True, size=12, wrap=False))
        for sheet, text in GUIDE_SHEETS:
            pair(sheet, text)
        row += 1
        span("Cách ghi", st.text(bold=True, size=12, wrap=False))
        for i, text in enumerate(GUIDE_HOW, start=1):
            span(f"{i}. {text}", st.text())
        row += 1
        span("Kiểu cột", st.text(bold=True, size=12, wrap=False))
        for code, text in GUIDE_TYPES.items():
            pair(TYPE_LABELS[code], text)
        row += 1
        span("Cách tổng hợp khi cộng các đơn vị", st.text(bold=True, size=12, wrap=False))
        for code, text in GUIDE_AGGREGATES.items():
            pair(AGGREGATE_LABELS[code], text)
        setup_guide_print(ws, row - 1)
        ws.set_footer('&C&"Times New Roman"&10Hướng dẫn — trang &P/&N')


def _letter(col: int) -> str:
    return xlsxwriter.utility.xl_col_to_name(col)


def _clip(text: str, limit: int) -> str:
    """Excel refuses validation titles over 32 and messages over 255 characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


GUIDE_INTRO = (
    "Tệp này khai báo một đợt báo cáo (chiến dịch): văn bản và hạn nộp, các biểu (phụ lục), "
    "các cột, dòng, chỉ tiêu và quy tắc kiểm tra số liệu. Sửa tệp bằng Excel hoặc "
    "LibreOffice, lưu dạng .xlsx, rồi tạo chiến dịch bằng lệnh «toolkit campaign load "
    "<tệp này>»; sau đó «toolkit make-templates --campaign <mã chiến dịch>» tạo biểu mẫu cho "
    "các đơn vị. Máy đọc lại toàn bộ tệp: nếu có chỗ sai, máy báo trang, dòng và cột cần sửa "
    "và không ghi gì.")
GUIDE_SHEETS = (
    (CAMPAIGN, "Mỗi dòng một mục: mã chiến dịch, tiêu đề, đơn vị ban hành, số và ngày văn "
               "bản, kỳ báo cáo, hạn nộp theo từng cấp, nơi nhận báo cáo, các câu hướng dẫn "
               "điền biểu (mỗi câu một dòng «Hướng dẫn»)."),
    (FORMS, "Mỗi dòng một biểu (một trang tính của biểu mẫu), theo thứ tự trong tệp biểu mẫu."),
    (COLUMNS, "Mỗi dòng một cột của một biểu, theo thứ tự từ trái sang phải. Các cột có chung "
              "tầng tiêu đề trên được gộp ô tự động."),
    (ROWS, "Các dòng của biểu loại Dòng cố định, ví dụ các năm 2016 … 2020."),
    (INDICATORS, "Các chỉ tiêu của biểu loại Chỉ tiêu. Các cột của biểu này (chỉ tiêu được "
                 "giao, kết quả, tỷ lệ hoàn thành…) do máy tạo, không khai ở trang «Cột»."),
    (RULES, "Kiểm tra giữa các cột trên cùng một dòng, ví dụ: Thạc sỹ + Đại học + Cao đẳng, "
            "Trung cấp ≤ Số lượng."),
    (OUTLINE, "Đề cương báo cáo Word: mỗi dòng một đề mục, những ý cần viết, số liệu máy tự "
              "viết thành câu và ghi chú của các đơn vị gom về dưới đề mục. Không ảnh hưởng "
              "biểu mẫu đã gửi."),
    (QUESTIONS, "Những điều máy chưa tự quyết được khi đọc kế hoạch; chỉ để đọc và ghi chú."),
)
GUIDE_HOW = (
    "Ô để trống là dùng giá trị mặc định. Di chuột vào ô tiêu đề của mỗi cột (ô có góc đỏ) để "
    "đọc cách ghi và giá trị mặc định.",
    "Kiểu, Loại, Cách tổng hợp, So sánh, Mức độ, Bắt buộc: chọn trong danh sách (bấm mũi tên "
    "bên phải ô).",
    "Tiêu đề nhiều tầng ghi thành một dòng, các tầng cách nhau bởi dấu › (gõ > cũng được), ví "
    "dụ: Ban Thường vụ › Trình độ › Chuyên môn › Thạc sỹ. Dấu phẩy là chữ của tiêu đề, không "
    "tách tầng.",
    "Trong quy tắc và tử số, mẫu số, gọi cột bằng tiêu đề cuối (Thạc sỹ) khi chỉ một cột có "
    "tiêu đề đó; nếu nhiều cột trùng tiêu đề cuối, ghi thêm tầng trên (Ban Thường vụ › Thạc "
    "sỹ) hoặc ghi khóa của cột.",
    "Thêm cột: chèn một dòng ở trang «Cột» tại vị trí của cột mới; ô Khóa có thể để trống, "
    "máy tự đặt khóa từ tiêu đề.",
    "Đã gửi biểu mẫu cho đơn vị thì không đổi khóa và mã biểu; sửa biểu thì tăng «Phiên bản "
    "biểu mẫu» ở trang «Chiến dịch».",
)
GUIDE_TYPES = {
    "count": "Số nguyên không âm: số người, số cuộc, số lớp.",
    "number": "Số bất kỳ, có thể có phần thập phân.",
    "money": "Số tiền không âm; ghi đơn vị ở tiêu đề, ví dụ (triệu đồng).",
    "percent": "Phần trăm từ 0 đến 100. Với cách tổng hợp «Tỷ lệ tử/mẫu», biểu mẫu tự tính từ "
               "cột tử số và cột mẫu số; đơn vị không nhập.",
    "text": "Nội dung chữ.",
    "date": "Ngày, dạng ngày/tháng/năm.",
    "choice": "Đơn vị chọn một giá trị trong cột «Lựa chọn» (các giá trị cách nhau bởi ;).",
}
GUIDE_AGGREGATES = {
    "sum": "Cộng số liệu các đơn vị (mặc định của số đếm, số, số tiền).",
    "ratio": "Tỷ lệ tính lại từ tổng tử số và tổng mẫu số, không lấy trung bình các tỷ lệ.",
    "concat": "Ghép nội dung chữ của các đơn vị (mặc định của chữ và lựa chọn).",
    "none": "Không tổng hợp (mặc định của tỷ lệ nhập tay và ngày).",
}
