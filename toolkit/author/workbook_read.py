"""Reading a campaign workbook back into the data of the YAML files.

Why it checks so much itself: a clerk writes labels (``Số đếm``), header paths and column
names in rules, not codes and keys, so a mistake must be told in those words and at the
cell where it was typed: ``Trang «Cột», dòng 14, cột «Kiểu»: kiểu «so» không có; …``.
What only the spec loader knows (a ratio of a text column, min above max…) comes from
:func:`toolkit.spec.load.campaign_from_data` and is mapped back to the sheet and row the
offending key was read from. The result is canonical data
(:func:`toolkit.spec.data.campaign_to_data`), so one spec reads back identically whatever
labels, aliases or blanks the clerk used.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from python_calamine import CalamineWorkbook

from toolkit._infra.zipguard import Refused, check_members
from toolkit.author.workbook_vocab import (
    AGGREGATE_LABELS,
    CAMPAIGN,
    COLUMNS,
    DATA_SHEETS,
    FORMS,
    INDICATOR_KIND_LABELS,
    INDICATORS,
    ITEMS,
    KIND_LABELS,
    NO_WORDS,
    OP_ALIASES,
    OP_LABELS,
    OPTIONAL_FIELDS,
    OUTLINE,
    QUESTIONS,
    ROWS,
    RULES,
    SEVERITY_LABELS,
    SHEET_FIELDS,
    TYPE_LABELS,
    YES_WORDS,
    ColumnName,
    Item,
    Question,
    WorkbookError,
    choices_text,
    code_of,
    derived_key,
    fold,
    header_of,
    join_path,
    reference_for,
    resolve_reference,
    split_path,
)
from toolkit.spec.campaign import DEFAULT_AGGREGATE, NUMERIC_TYPES
from toolkit.spec.data import campaign_to_data, default_min_max, number
from toolkit.spec.errors import SpecError
from toolkit.spec.load import campaign_from_data
from toolkit.spec.text import clean_text, format_number

CAMPAIGN_SOURCE = "<sổ khai báo>"
CAMPAIGN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_TEXT = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_NUMBER_TEXT = re.compile(r"[-+]?\d+([.,]\d+)?")
_OP_IN_TEXT = re.compile(r"≤|≥|<=|>=|=<|=>|==|=")
_PARTS = {"columns": COLUMNS, "rows": ROWS, "indicators": INDICATORS, "rules": RULES}

Data = tuple[dict[str, Any], list[dict[str, Any]]]


def read_workbook(data: bytes, *, name: str = "") -> Data:
    """The canonical ``(campaign, forms)`` data of a campaign workbook (``.xlsx`` or
    ``.ods``); any mistake is a :class:`WorkbookError` naming sheet, row and column (and the
    file, when ``name`` is given)."""
    try:
        return _Reader(_open(data)).read()
    except WorkbookError as exc:
        raise (exc.in_file(name) if name else exc) from None


def read_questions(data: bytes) -> list[Question]:
    """The «Câu hỏi» sheet (none when the sheet is gone): informational, never checked."""
    book = _open(data)
    sheets = {fold(n): n for n in book.sheet_names}
    if fold(QUESTIONS) not in sheets:
        return []
    out = []
    for row in _table(book, sheets[fold(QUESTIONS)], QUESTIONS):
        v = row.values
        out.append(Question(form=_text(v["form"]), column=_text(v["column"]),
                            question=_text(v["question"]),
                            answered=fold(_text(v["answered"])) in YES_WORDS,
                            note=_text(v["note"])))
    return out


# ----------------------------------------------------------------------------- cells


def _open(data: bytes) -> CalamineWorkbook:
    if not data:
        raise WorkbookError("tệp rỗng (0 byte)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            check_members(data, z.infolist())
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Refused as exc:
        raise WorkbookError(f"tệp hỏng hoặc không an toàn: {exc.detail}") from None
    except Exception:  # zipfile, calamine: several error types for a file that is no workbook
        raise WorkbookError("không đọc được tệp: cần bảng tính .xlsx (Excel) hoặc .ods "
                            "(LibreOffice)") from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not clean_text(value))


def _text(value: Any) -> str:
    """A cell as text: a number typed where text belongs (2016, 1) is its digits."""
    if _blank(value):
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, float):
        return str(number(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    return clean_text(str(value))


@dataclass
class _Row:
    sheet: str
    line: int  # the row number Excel shows
    values: dict[str, Any]

    def fail(self, key: str | None, problem: str) -> WorkbookError:
        column = header_of(self.sheet, key) if key else None
        return WorkbookError(problem, sheet=self.sheet, row=self.line, column=column)

    def text(self, key: str) -> str:
        return _text(self.values[key])

    def number(self, key: str, *, whole: bool = False) -> int | float | None:
        value = self.values[key]
        if _blank(value):
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            out = number(float(value))
        elif isinstance(value, str) and _NUMBER_TEXT.fullmatch(clean_text(value)):
            out = number(float(clean_text(value).replace(",", ".")))
        else:
            raise self.fail(key, f"«{_text(value)}» không phải là số")
        if whole and not isinstance(out, int):
            raise self.fail(key, f"«{format_number(out)}» phải là số nguyên")
        return out

    def date(self, key: str) -> dt.date | None:
        value = self.values[key]
        if _blank(value):
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool) \
                and 1 <= value < 2958466:  # a date whose cell lost its date format
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        text = _text(value)
        m = _DATE_TEXT.fullmatch(text)
        try:
            if m:
                return dt.date(int(m[3]), int(m[2]), int(m[1]))
            return dt.date.fromisoformat(text)
        except ValueError:
            raise self.fail(key, f"ngày «{text}» không hợp lệ; viết dạng ngày/tháng/năm, ví "
                                 "dụ 20/01/2021") from None

    def code(self, key: str, labels: Mapping[str, str], what: str, *, required: bool = False,
             aliases: Mapping[str, str] | None = None) -> str | None:
        text = self.text(key)
        if not text:
            if required:
                raise self.fail(key, f"chưa chọn {what}; dùng: {choices_text(labels)}")
            return None
        code = code_of(text, labels, aliases)
        if code is None:
            raise self.fail(key, f"{what} «{text}» không có; dùng: {choices_text(labels)}")
        return code

    def yes_no(self, key: str) -> bool:
        value = self.values[key]
        if isinstance(value, bool):
            return value
        text = fold(_text(value))
        if text in YES_WORDS:
            return True
        if not text or text in NO_WORDS:
            return False
        raise self.fail(key, f"«{_text(value)}» không hợp lệ; dùng: Có hoặc Không")


def _table(book: CalamineWorkbook, real_name: str, sheet: str) -> list[_Row]:
    """The non-blank rows of ``sheet`` as field key → cell, columns found by their header
    (a clerk may move columns or add his own: those are ignored)."""
    grid = book.get_sheet_by_name(real_name).to_python(skip_empty_area=False)
    fields = SHEET_FIELDS[sheet]
    header = [fold(_text(h)) for h in grid[0]] if grid else []
    where: dict[str, int] = {}
    for f in fields:
        if fold(f.header) in header:
            where[f.key] = header.index(fold(f.header))
        elif (sheet, f.key) not in OPTIONAL_FIELDS:
            raise WorkbookError(f"thiếu cột «{f.header}» (dòng 1 phải là dòng tiêu đề: "
                                f"{', '.join(x.header for x in fields)})", sheet=sheet, row=1)
    out = []
    for i, raw in enumerate(grid[1:], start=2):
        values = {k: raw[c] if c < len(raw) else "" for k, c in where.items()}
        meaningful = [v for k, v in values.items() if k not in ("form", "help")]
        if all(_blank(v) for v in meaningful):
            continue  # an empty row, or one where only the form was chosen
        out.append(_Row(sheet, i, values))
    return out


# ----------------------------------------------------------------------------- the reader


@dataclass
class _Form:
    """One form being assembled, with the row each of its parts came from."""

    data: dict[str, Any]
    row: int
    columns: list[tuple[_Row, dict[str, Any]]] = field(default_factory=list)
    rows: list[tuple[_Row, dict[str, Any]]] = field(default_factory=list)
    indicators: list[tuple[_Row, dict[str, Any]]] = field(default_factory=list)
    rules: list[_Row] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def kind(self) -> str:
        return str(self.data["kind"])


class _Reader:
    def __init__(self, book: CalamineWorkbook) -> None:
        self.book = book
        self.sheets = {fold(n): n for n in book.sheet_names}
        self.item_rows: dict[str, int] = {}
        self.forms: list[_Form] = []
        self.outline_rows: list[_Row] = []

    def read(self) -> Data:
        present = [s for s in DATA_SHEETS if fold(s) in self.sheets]
        if not present:
            names = ", ".join(f"«{s}»" for s in DATA_SHEETS)
            raise WorkbookError(f"tệp không phải sổ khai báo chiến dịch: không có trang nào "
                                f"trong các trang {names} (tạo sổ bằng toolkit campaign export)")
        for sheet in DATA_SHEETS:
            if sheet not in present:
                raise WorkbookError(f"tệp không có trang «{sheet}»; sổ khai báo cần đủ các "
                                    f"trang {', '.join(f'«{s}»' for s in DATA_SHEETS)}")
        campaign = self.campaign()
        self.read_forms()
        self.read_columns()
        self.read_fixed_rows()
        self.read_indicators()
        self.read_rules()
        forms = [self.form_data(f) for f in self.forms]
        self.outline_rows = self.table(OUTLINE) if fold(OUTLINE) in self.sheets else []
        outline = [_outline_item(row) for row in self.outline_rows]
        if outline:
            campaign["outline"] = outline
        sources = [f"<biểu {i}>" for i in range(len(forms))]
        try:
            parsed = campaign_from_data(campaign, forms, CAMPAIGN_SOURCE, form_sources=sources)
        except SpecError as exc:
            raise self.mapped(exc, sources) from None
        return campaign_to_data(parsed)

    def table(self, sheet: str) -> list[_Row]:
        return _table(self.book, self.sheets[fold(sheet)], sheet)

    # ------------------------------------------------------------------ «Chiến dịch»
    def campaign(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        deadlines: dict[str, dt.date] = {}
        instructions: list[str] = []
        for row in self.table(CAMPAIGN):
            label = row.text("item")
            if not label:
                raise row.fail("item", "dòng có giá trị nhưng chưa ghi tên mục")
            item = _item(label)
            if item is None:
                raise row.fail("item", f"mục «{label}» không có; dùng: "
                                       f"{', '.join(i.label for i in ITEMS)}")
            if item.key == "instructions":
                line = row.text("value")
                if line:
                    instructions.append(line)
                self.item_rows.setdefault(item.key, row.line)
                continue
            if item.key in self.item_rows:
                raise row.fail("item", f"mục «{item.label}» đã có ở dòng "
                                       f"{self.item_rows[item.key]}")
            self.item_rows[item.key] = row.line
            if item.key.startswith("plausibility."):
                threshold = row.number("value")
                if threshold is not None:
                    out.setdefault("plausibility", {})[item.key.split(".", 1)[1]] = threshold
                continue
            if item.date:
                day = row.date("value")
                if day is not None and item.key.startswith("deadlines."):
                    deadlines[item.key.split(".", 1)[1]] = day
                elif day is not None:
                    out[item.key] = day
                continue
            text = row.text("value")
            if item.key == "id" and text and not CAMPAIGN_ID.fullmatch(text):
                raise row.fail("value", f"mã chiến dịch «{text}» chỉ được gồm chữ không dấu, "
                                        "số và các dấu - _ . (ví dụ nq02-2020)")
            if text:
                out[item.key] = text
        for item in ITEMS:
            if item.required and item.key not in out:
                if item.key in self.item_rows:
                    raise WorkbookError(f"chưa ghi {item.label.lower()}", sheet=CAMPAIGN,
                                        row=self.item_rows[item.key],
                                        column=header_of(CAMPAIGN, "value"))
                raise WorkbookError(f"thiếu dòng «{item.label}»", sheet=CAMPAIGN)
        out["deadlines"] = deadlines
        if instructions:
            out["instructions"] = instructions
        return out

    # ------------------------------------------------------------------ «Biểu»
    def read_forms(self) -> None:
        seen: dict[str, int] = {}
        for row in self.table(FORMS):
            fid = row.text("id")
            if not fid:
                raise row.fail("id", "chưa ghi mã biểu")
            if not fid.isidentifier() or len(fid) > 31:
                raise row.fail("id", f"mã biểu «{fid}» là tên trang tính: chỉ được gồm chữ "
                                     "không dấu, số và _, không cách, tối đa 31 ký tự (ví dụ "
                                     "PL1)")
            if fid in seen:
                raise row.fail("id", f"mã biểu «{fid}» đã có ở dòng {seen[fid]}")
            seen[fid] = row.line
            kind = row.code("kind", KIND_LABELS, "loại biểu", required=True)
            data: dict[str, Any] = {"id": fid}
            for key in ("number", "title"):
                if row.text(key):
                    data[key] = row.text(key)
            data["kind"] = kind
            if row.text("row_header"):
                data["row_header"] = row.text("row_header")
            list_rows = row.number("list_rows", whole=True)
            if list_rows is not None:
                data["list_rows"] = list_rows
            self.forms.append(_Form(data, row.line))
        if not self.forms:
            raise WorkbookError("chưa có biểu nào (mỗi biểu một dòng, từ dòng 2)", sheet=FORMS)

    def form_of(self, row: _Row, *, kinds: tuple[str, ...] | None = None,
                why: str = "") -> _Form:
        fid = row.text("form")
        if not fid:
            raise row.fail("form", "chưa ghi mã biểu")
        form = next((f for f in self.forms if f.id == fid), None)
        if form is None:
            known = ", ".join(f.id for f in self.forms)
            raise row.fail("form", f"không có biểu «{fid}» ở trang «{FORMS}» (các biểu: "
                                   f"{known})")
        if kinds is not None and form.kind not in kinds:
            raise row.fail("form", f"biểu «{fid}» là loại {KIND_LABELS[form.kind]}: {why}")
        return form

    # ------------------------------------------------------------------ «Cột»
    def read_columns(self) -> None:
        kinds = ("single_row", "fixed_rows", "list")
        for row in self.table(COLUMNS):
            form = self.form_of(row, kinds=kinds, why="các cột của biểu chỉ tiêu do máy tạo; "
                                                      f"ghi chỉ tiêu ở trang «{INDICATORS}»")
            col: dict[str, Any] = {}
            if row.text("key"):
                col["key"] = row.text("key")
            text = row.text("header")
            if not text:
                raise row.fail("header", "chưa ghi tiêu đề cột")
            header = split_path(text)
            if not all(header):
                raise row.fail("header", f"tiêu đề «{text}» có tầng trống; các tầng cách nhau "
                                         "bởi một dấu ›")
            col["header"] = header
            col["type"] = row.code("type", TYPE_LABELS, "kiểu", required=True)
            if row.yes_no("required"):
                col["required"] = True
            for key in ("min", "max"):
                value = row.number(key)
                if value is not None:
                    col[key] = value
            choices = [c.strip() for c in re.split(r"[;\n]", row.text("choices"))]
            if any(choices):
                col["choices"] = [c for c in choices if c]
            aggregate = row.code("aggregate", AGGREGATE_LABELS, "cách tổng hợp")
            if aggregate is not None:
                col["aggregate"] = aggregate
            width = row.number("width")
            if width is not None:
                col["width"] = width
            if row.text("note"):
                col["note"] = row.text("note")
            _check_column(row, col)
            form.columns.append((row, col))
        for form in self.forms:
            seen: dict[str, int] = {}
            for row, col in form.columns:
                if "key" in col and col["key"] in seen:
                    raise row.fail("key", f"khóa «{col['key']}» đã có ở dòng {seen[col['key']]} "
                                          f"(biểu «{form.id}»)")
                seen.setdefault(col.get("key", ""), row.line)
            taken = set(seen)
            for _row, col in form.columns:
                if "key" not in col:
                    col["key"] = derived_key(" ".join(col["header"]), taken)
                    taken.add(col["key"])
            names = [ColumnName(c["key"], tuple(c["header"])) for _r, c in form.columns]
            for row, col in form.columns:
                for key in ("numerator", "denominator"):
                    if row.text(key):
                        col[key] = self.reference(row, key, row.text(key), names, form)

    def reference(self, row: _Row, key: str, text: str, names: list[ColumnName],
                  form: _Form) -> str:
        """The key of the column ``text`` names in ``form``, or the error saying why not."""
        found = resolve_reference(text, names)
        if len(found) == 1:
            return found[0]
        if not found:
            raise row.fail(key, f"không có cột «{text}» trong biểu «{form.id}» (ghi tiêu đề "
                                "cuối, đường dẫn tiêu đề hoặc khóa của cột)")
        paths = "; ".join(join_path(c.header) for c in names if c.key in found)
        hint = reference_for(found[0], names)
        raise row.fail(key, f"«{text}» chỉ nhiều cột của biểu «{form.id}» ({paths}); ghi rõ "
                            f"hơn, ví dụ «{hint}»")

    # ------------------------------------------------------------------ «Dòng cố định»
    def read_fixed_rows(self) -> None:
        for row in self.table(ROWS):
            form = self.form_of(row, kinds=("fixed_rows",),
                                why="chỉ biểu loại Dòng cố định mới khai dòng ở trang này")
            key, label = row.text("key"), row.text("label")
            key = key or label
            earlier = next((r.line for r, x in form.rows if x["key"] == key), None)
            if earlier is not None:
                raise row.fail("key", f"dòng «{key}» của biểu «{form.id}» đã có ở dòng {earlier}")
            form.rows.append((row, {"key": key, "label": label or key}))

    # ------------------------------------------------------------------ «Chỉ tiêu»
    def read_indicators(self) -> None:
        for row in self.table(INDICATORS):
            form = self.form_of(row, kinds=("targets",),
                                why="chỉ biểu loại Chỉ tiêu mới khai chỉ tiêu ở trang này")
            ind: dict[str, Any] = {}
            if row.text("key"):
                ind["key"] = row.text("key")
            if row.text("name"):
                ind["name"] = row.text("name")
            if row.text("unit"):
                ind["unit"] = row.text("unit")
            kind = row.code("kind", INDICATOR_KIND_LABELS, "loại chỉ tiêu")
            if kind is not None:
                ind["kind"] = kind
            target = row.number("default_target")
            if target is not None:
                ind["default_target"] = target
            form.indicators.append((row, ind))
        for form in self.forms:
            taken = {i["key"] for _r, i in form.indicators if "key" in i}
            for row, ind in form.indicators:
                if "key" not in ind:
                    if "name" not in ind:
                        raise row.fail("name", "chưa ghi tên chỉ tiêu")
                    ind["key"] = derived_key(ind["name"], taken)
                    taken.add(ind["key"])

    # ------------------------------------------------------------------ «Quy tắc»
    def read_rules(self) -> None:
        for row in self.table(RULES):
            form = self.form_of(row, kinds=("single_row", "fixed_rows", "list"),
                                why="biểu chỉ tiêu đã có sẵn quy tắc, không khai thêm")
            form.rules.append(row)

    def rule_data(self, row: _Row, form: _Form) -> dict[str, Any]:
        names = [ColumnName(c["key"], tuple(c["header"])) for _r, c in form.columns]
        left_text, right_text = row.text("sum"), row.text("right")
        op_text = row.text("op")
        if not op_text and not right_text:  # the whole rule typed in one cell
            m = _OP_IN_TEXT.search(left_text)
            if m is None:
                raise row.fail("op", "chưa chọn phép so sánh (≤, ≥ hoặc =)")
            left_text, op_text, right_text = (left_text[:m.start()].strip(), m.group(),
                                              left_text[m.end():].strip())
        if not left_text:
            raise row.fail("sum", "chưa ghi các cột cộng lại")
        if not right_text:
            raise row.fail("right", "chưa ghi cột để so sánh")
        op = code_of(op_text, OP_LABELS, OP_ALIASES) if op_text else None
        if op is None:
            raise row.fail("op", f"phép so sánh «{op_text}» không có; dùng: ≤, ≥ hoặc =")
        left = [self.reference(row, "sum", part.strip(), names, form)
                for part in left_text.split("+")]
        out: dict[str, Any] = {"sum": left, "op": op,
                               "right": self.reference(row, "right", right_text, names, form)}
        severity = row.code("severity", SEVERITY_LABELS, "mức độ")
        if severity is not None:
            out["severity"] = severity
        return out

    # ------------------------------------------------------------------ assembling
    def form_data(self, form: _Form) -> dict[str, Any]:
        data = dict(form.data)
        if form.kind == "targets":
            data["indicators"] = [i for _r, i in form.indicators]
            return data
        if form.kind == "fixed_rows":
            data["rows"] = [r for _r, r in form.rows]
        data["columns"] = [c for _r, c in form.columns]
        rules = [self.rule_data(r, form) for r in form.rules]
        if rules:
            data["rules"] = rules
        return data

    def mapped(self, exc: SpecError, sources: list[str]) -> WorkbookError:
        """The loader's error at the sheet, row and column its key was read from."""
        at = re.fullmatch(r"outline\[(\d+)\](?:\.(\w+))?", exc.key)
        if exc.path not in sources and at and int(at[1]) < len(self.outline_rows):
            return self.outline_rows[int(at[1])].fail(at[2], exc.problem)
        if exc.path not in sources:  # the campaign itself
            item = exc.key.split("[", 1)[0]
            row = self.item_rows.get(item)
            return WorkbookError(exc.problem, sheet=CAMPAIGN, row=row,
                                 column=header_of(CAMPAIGN, "value") if row else None)
        form = self.forms[sources.index(exc.path)]
        m = re.fullmatch(r"(\w+)\[(\d+)\](?:\.(\w+))?", exc.key)
        if m and m[1] in _PARTS:
            sheet = _PARTS[m[1]]
            rows: list[Any] = getattr(form, m[1])
            entry = rows[int(m[2])] if int(m[2]) < len(rows) else None
            source: _Row | None = (entry if isinstance(entry, _Row)
                                   else entry[0] if entry else None)
            field_key = m[3] or ("numerator" if m[1] == "columns" else None)
            return WorkbookError(exc.problem, sheet=sheet,
                                 row=source.line if source else None,
                                 column=_header_or_none(sheet, field_key))
        key = exc.key.split("[", 1)[0].split(".", 1)[0]
        problem = exc.problem
        if key in _PARTS:
            problem += f" (biểu «{form.id}»; xem trang «{_PARTS[key]}»)"
        return WorkbookError(problem, sheet=FORMS, row=form.row,
                             column=_header_or_none(FORMS, key))


def _check_column(row: _Row, col: dict[str, Any]) -> None:
    """The spec's rules on one column, said in the workbook's words (the loader checks them
    again, in its own words, as a backstop)."""
    ctype = col["type"]
    aggregate = col.get("aggregate", DEFAULT_AGGREGATE[ctype])
    ratio, percent = AGGREGATE_LABELS["ratio"], TYPE_LABELS["percent"]
    has_refs = bool(row.text("numerator") or row.text("denominator"))
    if aggregate == "ratio" and ctype != "percent":
        raise row.fail("type", f"cột tính {ratio} phải có kiểu {percent}")
    if aggregate == "ratio" and not (row.text("numerator") and row.text("denominator")):
        raise row.fail("numerator" if not row.text("numerator") else "denominator",
                       f"cột tính {ratio} cần ghi cả Tử số và Mẫu số")
    if aggregate != "ratio" and has_refs:
        raise row.fail("numerator" if row.text("numerator") else "denominator",
                       f"Tử số, Mẫu số chỉ ghi khi cách tổng hợp là {ratio}")
    if aggregate == "sum" and ctype not in NUMERIC_TYPES:
        raise row.fail("aggregate", f"không thể {AGGREGATE_LABELS['sum']} cột kiểu "
                                    f"{TYPE_LABELS[ctype]}")
    if ctype == "choice" and not col.get("choices"):
        raise row.fail("choices", f"cột kiểu {TYPE_LABELS['choice']} cần các lựa chọn, cách "
                                  "nhau bởi dấu chấm phẩy (;)")
    if ctype != "choice" and col.get("choices"):
        raise row.fail("choices", f"chỉ cột kiểu {TYPE_LABELS['choice']} mới ghi lựa chọn")
    default_lo, default_hi = default_min_max(ctype, aggregate)
    lo, hi = col.get("min", default_lo), col.get("max", default_hi)
    if lo is not None and hi is not None and lo > hi:
        raise row.fail("min", f"Nhỏ nhất ({format_number(lo)}) lớn hơn Lớn nhất "
                              f"({format_number(hi)})")


def _outline_item(row: _Row) -> dict[str, Any]:
    """One row of «Đề cương» as a section of the outline (see toolkit.spec.outline)."""
    item: dict[str, Any] = {"heading": row.text("heading")}
    level = row.number("level", whole=True)
    if level is not None and level != 1:
        item["level"] = level
    points = [p for p in (clean_text(x) for x in row.text("points").splitlines()) if p]
    if points:
        item["points"] = points
    for key in ("figures", "notes"):
        refs = [r for r in (clean_text(x) for x in re.split(r"[;\n]", row.text(key))) if r]
        if refs:
            item[key] = refs
    return item


def _header_or_none(sheet: str, key: str | None) -> str | None:
    if key is None:
        return None
    try:
        return header_of(sheet, key)
    except KeyError:
        return None


def _item(label: str) -> Item | None:
    wanted = fold(label)
    for item in ITEMS:
        if wanted in (fold(item.label), item.key.casefold()):
            return item
    if wanted.startswith(fold("Hướng dẫn")):  # "Hướng dẫn 2", "Hướng dẫn:"
        return next(i for i in ITEMS if i.key == "instructions")
    return None
