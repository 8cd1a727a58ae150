"""The words of the campaign workbook, shared by its writer and its reader: sheet names,
column headers, the Vietnamese labels of every closed vocabulary (mapped both ways), header
paths, column references in rules, and :class:`WorkbookError`.

Why one module: the writer must only write what the reader reads back, and the dropdowns,
the instruction sheet and the error messages must use the very same words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from toolkit.spec.campaign import (
    AGGREGATES,
    COLUMN_TYPES,
    FORM_KINDS,
    INDICATOR_KINDS,
    PLAUSIBILITY_KEYS,
    RULE_OPS,
    XML_ESCAPE,
    Plausibility,
)
from toolkit.spec.levels import LEVEL_NAMES, LEVELS, TABLE
from toolkit.spec.text import clean_text, format_number
from toolkit.write.templates import slugify

# ----------------------------------------------------------------------------- sheets

GUIDE = "Hướng dẫn"
CAMPAIGN = "Chiến dịch"
FORMS = "Biểu"
COLUMNS = "Cột"
ROWS = "Dòng cố định"
INDICATORS = "Chỉ tiêu"
RULES = "Quy tắc"
QUESTIONS = "Câu hỏi"
OUTLINE = "Đề cương"  # the report outline; optional when read
LISTS = "_danh_muc"  # hidden: the dropdowns' entries
DATA_SHEETS = (CAMPAIGN, FORMS, COLUMNS, ROWS, INDICATORS, RULES)  # read; all required
SHEET_ORDER = (GUIDE, *DATA_SHEETS, OUTLINE, QUESTIONS)


@dataclass(frozen=True)
class Field:
    """One column of a sheet: its header, the spec key it holds, width and the note a
    clerk sees on the header cell."""

    header: str
    key: str
    width: float
    note: str
    vocab: str | None = None  # name of the dropdown list (see LIST_ENTRIES)
    text: bool = False  # formatted as text, so 2016 or 0123 stay as typed
    center: bool = False  # short codes and symbols read better centred


CAMPAIGN_FIELDS = (
    Field("Mục", "item", 26, "Tên mục; chọn trong danh sách. Thêm dòng «Hướng dẫn» cho mỗi "
          "câu hướng dẫn điền biểu.", "item", text=True),
    Field("Giá trị", "value", 90, "Giá trị của mục. Ngày viết dạng ngày/tháng/năm."),
    Field("Giải thích", "help", 46, "Chỉ để đọc; máy không đọc cột này."),
)
FORM_FIELDS = (
    Field("Mã biểu", "id", 10, "Tên trang tính của biểu trong biểu mẫu: ngắn, không dấu, "
          "không cách, ví dụ PL1.", text=True, center=True),
    Field("Số", "number", 13, "Ví dụ «Phụ lục 1». Để trống: dùng mã biểu.", text=True),
    Field("Tiêu đề", "title", 70, "Tên biểu in trên biểu mẫu.", text=True),
    Field("Loại", "kind", 15, "Một dòng: mỗi đơn vị một dòng. Dòng cố định: các dòng ghi ở "
          "trang «Dòng cố định» (ví dụ các năm). Danh sách: đơn vị tự thêm dòng (ví dụ văn "
          "bản). Chỉ tiêu: chỉ tiêu ghi ở trang «Chỉ tiêu».", "kind"),
    Field("Tiêu đề cột dòng", "row_header", 20, "Tiêu đề cột đầu tiên. Để trống: Đơn vị "
          "(một dòng), Năm (dòng cố định), TT (danh sách), Chỉ tiêu.", text=True),
    Field("Số dòng", "list_rows", 9, "Chỉ với biểu Danh sách: số dòng để trống cho đơn vị "
          "điền. Để trống: 30."),
)
COLUMN_FIELDS = (
    Field("Biểu", "form", 8, "Mã biểu (trang «Biểu»).", "forms", text=True, center=True),
    Field("Khóa", "key", 15, "Tên cột cho máy: không dấu, không cách, ví dụ so_luong. "
          "Để trống: máy tự đặt từ tiêu đề. Đã gửi biểu mẫu thì đừng đổi.", text=True),
    Field("Tiêu đề", "header", 46, "Tiêu đề nhiều tầng, các tầng cách nhau bởi › (hoặc >), "
          "ví dụ: Trình độ › Chuyên môn › Thạc sỹ. Dấu phẩy là chữ, không tách tầng.",
          text=True),
    Field("Kiểu", "type", 11, "Số đếm, Số, Số tiền, Tỷ lệ (%), Chữ, Ngày, Lựa chọn.", "type"),
    Field("Bắt buộc", "required", 8, "Có: đơn vị phải điền ô này. Để trống: không bắt "
          "buộc.", "yes_no", center=True),
    Field("Nhỏ nhất", "min", 8, "Để trống: số đếm, số tiền từ 0; tỷ lệ từ 0 đến 100."),
    Field("Lớn nhất", "max", 8, "Để trống: không giới hạn (tỷ lệ: 100)."),
    Field("Lựa chọn", "choices", 24, "Chỉ với kiểu Lựa chọn: các giá trị cách nhau bởi "
          "dấu chấm phẩy (;).", text=True),
    Field("Cách tổng hợp", "aggregate", 13, "Để trống: số thì cộng, chữ thì nối, tỷ lệ và "
          "ngày thì không tổng hợp. Tỷ lệ tử/mẫu: tính lại từ cột tử số và mẫu số.",
          "aggregate"),
    Field("Tử số", "numerator", 16, "Chỉ với Tỷ lệ tử/mẫu: cột tử số (tiêu đề hoặc khóa).",
          text=True),
    Field("Mẫu số", "denominator", 16, "Chỉ với Tỷ lệ tử/mẫu: cột mẫu số.", text=True),
    Field("Độ rộng", "width", 7, "Độ rộng cột trên biểu mẫu (số ký tự). Để trống: tự chọn."),
    Field("Ghi chú", "note", 24, "Hiện khi đơn vị chọn ô.", text=True),
)
ROW_FIELDS = (
    Field("Biểu", "form", 8, "Mã biểu loại Dòng cố định.", "forms", text=True, center=True),
    Field("Khóa", "key", 14, "Tên dòng cho máy, ví dụ 2016 hoặc co_so. Để trống: như nhãn.",
          text=True),
    Field("Nhãn", "label", 40, "Chữ in ở cột đầu của dòng. Để trống: như khóa.", text=True),
)
INDICATOR_FIELDS = (
    Field("Biểu", "form", 8, "Mã biểu loại Chỉ tiêu.", "forms", text=True, center=True),
    Field("Khóa", "key", 22, "Tên chỉ tiêu cho máy, không dấu, không cách. Để trống: máy "
          "tự đặt từ tên.", text=True),
    Field("Tên chỉ tiêu", "name", 60, "Tên chỉ tiêu in trên biểu mẫu.", text=True),
    Field("Đơn vị tính", "unit", 13, "Ví dụ người, công trình. Để trống: % với tỷ lệ.",
          text=True),
    Field("Loại", "kind", 11, "Số lượng, hoặc Tỷ lệ (đơn vị nhập số đạt và tổng số).",
          "indicator_kind"),
    Field("Chỉ tiêu mặc định", "default_target", 11, "Chỉ tiêu khi cấp trên không phân bổ "
          "riêng (tỷ lệ: 70 nghĩa là 70%). Để trống: không có."),
)
RULE_FIELDS = (
    Field("Biểu", "form", 8, "Mã biểu.", "forms", text=True, center=True),
    Field("Tổng các cột", "sum", 60, "Các cột cộng lại, cách nhau bởi +. Ghi cột bằng tiêu đề "
          "cuối, hoặc đường dẫn tiêu đề (Ban Thường vụ › Thạc sỹ), hoặc khóa.", text=True),
    Field("So sánh", "op", 8, "≤ (không quá), ≥ (ít nhất), = (bằng).", "op", center=True),
    Field("Với cột", "right", 36, "Cột để so sánh.", text=True),
    Field("Mức độ", "severity", 10, "Lỗi: trả lại tệp. Cảnh báo: chỉ nhắc.", "severity"),
)
QUESTION_FIELDS = (
    Field("Biểu", "form", 8, "Mã biểu.", "forms", text=True),
    Field("Cột", "column", 30, "Cột (nếu câu hỏi về một cột).", text=True),
    Field("Câu hỏi", "question", 70, "Điều máy chưa tự quyết được khi đọc kế hoạch.",
          text=True),
    Field("Đã trả lời", "answered", 10, "Có khi đã sửa các trang khác theo câu trả lời.",
          "yes_no"),
    Field("Ghi chú", "note", 40, "Trả lời hoặc ghi chú. Trang này chỉ để đọc; máy không "
          "đọc nó khi tạo chiến dịch.", text=True),
)
OUTLINE_FIELDS = (
    Field("Cấp", "level", 7, "1: mục La Mã (I, II…); 2: mục 1, 2…; 3: mục 2.1…; 4: mục «*». "
          "Để trống: 1.", center=True),
    Field("Đề mục", "heading", 60, "Đề mục của báo cáo, ghi như trong đề cương (kể cả số "
          "thứ tự).", text=True),
    Field("Gợi ý nội dung", "points", 60, "Những ý đề cương yêu cầu viết; mỗi ý một dòng "
          "trong ô (Alt+Enter). Báo cáo để chỗ trống có ghi các ý này cho người viết.",
          text=True),
    Field("Số liệu", "figures", 34, "Số liệu máy viết thành câu dưới đề mục: status (tình "
          "hình báo cáo), mã biểu (PL2), hoặc mã biểu.khóa+khóa (PL5.to_chuc_moi+doan_vien_moi); "
          "nhiều mục cách nhau bởi dấu ;", text=True),
    Field("Ý kiến đơn vị", "notes", 20, "Cột chữ có ghi chú của các đơn vị gom về dưới đề "
          "mục, ví dụ PL4.ghi_chu; nhiều cột cách nhau bởi dấu ;", text=True),
)
SHEET_FIELDS: dict[str, tuple[Field, ...]] = {
    CAMPAIGN: CAMPAIGN_FIELDS, FORMS: FORM_FIELDS, COLUMNS: COLUMN_FIELDS, ROWS: ROW_FIELDS,
    INDICATORS: INDICATOR_FIELDS, RULES: RULE_FIELDS, QUESTIONS: QUESTION_FIELDS,
    OUTLINE: OUTLINE_FIELDS,
}
OPTIONAL_FIELDS = {(CAMPAIGN, "help")}  # a clerk may delete these columns


def header_of(sheet: str, key: str) -> str:
    """The header of the column holding spec key ``key`` on ``sheet``."""
    for f in SHEET_FIELDS[sheet]:
        if f.key == key:
            return f.header
    raise KeyError((sheet, key))


# ----------------------------------------------------------------------------- campaign items


@dataclass(frozen=True)
class Item:
    """One row kind of the «Chiến dịch» sheet."""

    label: str
    key: str  # campaign.yaml key; ``deadlines.<level>`` for a deadline
    help: str
    date: bool = False
    required: bool = False
    usual: bool = True  # written in every new workbook (a rare level's deadline: when set)


ITEMS = (
    Item("Mã chiến dịch", "id", "Ngắn, không dấu, ví dụ nq02-2020: tên thư mục và tên tệp "
         "biểu mẫu.", required=True),
    Item("Tiêu đề", "title", "Tên đợt báo cáo, in trên biểu mẫu.", required=True),
    Item("Đơn vị ban hành", "issuer", "Ví dụ BTV Huyện đoàn Thọ Xuân.", required=True),
    Item("Số văn bản", "document_number", "Số kế hoạch, hướng dẫn, ví dụ 161-KH/ĐTN.",
         required=True),
    Item("Ngày văn bản", "document_date", "Ngày ký văn bản (ngày/tháng/năm).", date=True,
         required=True),
    Item("Kỳ báo cáo", "period", "Ví dụ 2016 - 2020."),
    Item("Phiên bản biểu mẫu", "template_version", "Tăng lên khi sửa biểu sau khi đã gửi "
         "biểu mẫu cho đơn vị."),
    # one row per level, lowest first (they send first): toolkit.spec.levels
    *(Item(f"Hạn nộp {LEVEL_NAMES[level.key]}", f"deadlines.{level.key}",
           f"Ngày các đơn vị {LEVEL_NAMES[level.key]} phải nộp. Để trống nếu kế hoạch không "
           "nêu.", date=True, usual=level.usual_deadline) for level in reversed(TABLE)),
    Item("Nơi nhận báo cáo", "return_to", "Ví dụ Văn phòng Huyện đoàn Thọ Xuân."),
    Item("Hướng dẫn", "instructions", "Mỗi câu hướng dẫn điền biểu một dòng; thêm dòng "
         "«Hướng dẫn» khi cần."),
)
assert {i.key.split(".", 1)[1] for i in ITEMS if i.key.startswith("deadlines.")} == set(LEVELS)

# The thresholds of the plausibility warnings (``plausibility:`` of campaign.yaml): written
# only for a campaign that changes one; a clerk adds the row from the «Mục» dropdown.
_PLAUSIBILITY_HELP = {
    "z": "Số liệu khác xa các đơn vị cùng cấp khi điểm z hiệu chỉnh vượt ngưỡng này.",
    "min_units": "Chỉ so với các đơn vị cùng cấp khi ít nhất chừng này đơn vị có số liệu.",
    "peer_ratio": "…và số liệu gấp ít nhất chừng này lần trung vị của các đơn vị cùng cấp.",
    "ratio": "Tăng quá hoặc giảm dưới chừng này lần so với kỳ trước, năm trước.",
    "floor": "Chỉ cảnh báo khi chênh lệch lớn hơn số này (3 so với 1 không là bất thường).",
}
_PLAUSIBILITY_LABELS = {
    "z": "Cảnh báo: ngưỡng điểm z", "min_units": "Cảnh báo: số đơn vị tối thiểu",
    "peer_ratio": "Cảnh báo: số lần trung vị", "ratio": "Cảnh báo: số lần so với kỳ trước",
    "floor": "Cảnh báo: chênh lệch tối thiểu",
}
PLAUSIBILITY_ITEMS = tuple(
    Item(_PLAUSIBILITY_LABELS[key], f"plausibility.{key}",
         f"{_PLAUSIBILITY_HELP[key]} Để trống: "
         f"{format_number(getattr(Plausibility(), key))}.")
    for key in PLAUSIBILITY_KEYS)
ITEMS = (*ITEMS, *PLAUSIBILITY_ITEMS)

# ----------------------------------------------------------------------------- vocabularies

TYPE_LABELS = {"count": "Số đếm", "number": "Số", "money": "Số tiền", "percent": "Tỷ lệ (%)",
               "text": "Chữ", "date": "Ngày", "choice": "Lựa chọn"}
KIND_LABELS = {"single_row": "Một dòng", "fixed_rows": "Dòng cố định", "list": "Danh sách",
               "targets": "Chỉ tiêu"}
AGGREGATE_LABELS = {"sum": "Cộng", "ratio": "Tỷ lệ tử/mẫu", "concat": "Nối chữ",
                    "none": "Không tổng hợp"}
INDICATOR_KIND_LABELS = {"count": "Số lượng", "rate": "Tỷ lệ"}
OP_LABELS = dict(RULE_OPS)  # le → ≤, ge → ≥, eq → =
OP_ALIASES = {"<=": "le", "=<": "le", ">=": "ge", "=>": "ge", "==": "eq"}
SEVERITY_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}
YES, NO = "Có", "Không"
YES_WORDS = {"có", "co", "x", "1", "true", "yes", "đúng"}
NO_WORDS = {"không", "khong", "0", "false", "no", "sai"}
assert set(TYPE_LABELS) == set(COLUMN_TYPES) and set(KIND_LABELS) == set(FORM_KINDS)
assert set(AGGREGATE_LABELS) == set(AGGREGATES)
assert set(INDICATOR_KIND_LABELS) == set(INDICATOR_KINDS)

LIST_ENTRIES: dict[str, tuple[str, ...]] = {
    "item": tuple(i.label for i in ITEMS),
    "type": tuple(TYPE_LABELS.values()),
    "kind": tuple(KIND_LABELS.values()),
    "aggregate": tuple(AGGREGATE_LABELS.values()),
    "indicator_kind": tuple(INDICATOR_KIND_LABELS.values()),
    "op": tuple(OP_LABELS.values()),
    "severity": tuple(SEVERITY_LABELS.values()),
    "yes_no": (YES, NO),
}
VOCAB_NAMES = {"type": "kiểu", "kind": "loại biểu", "aggregate": "cách tổng hợp",
               "indicator_kind": "loại chỉ tiêu", "op": "phép so sánh", "severity": "mức độ",
               "yes_no": "giá trị", "item": "mục"}


def fold(text: str) -> str:
    """Text as compared when reading: NFC, invisible characters gone, spaces collapsed,
    case folded (``  Số  Đếm`` matches ``Số đếm``)."""
    return " ".join(clean_text(text).split()).casefold()


def choices_text(labels: Mapping[str, str]) -> str:
    """``Số đếm (count), Số (number), …`` for an error message."""
    return ", ".join(f"{label} ({code})" for code, label in labels.items())


def code_of(text: str, labels: Mapping[str, str],
            aliases: Mapping[str, str] | None = None) -> str | None:
    """The code a clerk meant by a label, a code or an alias; None when unknown."""
    wanted = fold(text)
    for code, label in labels.items():
        if wanted in (fold(label), code.casefold()):
            return code
    if aliases:
        for alias, code in aliases.items():
            if wanted == fold(alias):
                return code
    return None


# ----------------------------------------------------------------------------- header paths

PATH_SEPARATOR = " › "
_PATH_SPLIT = re.compile(r"\s*[›>]\s*")
RESERVED_IN_REFERENCE = ("+", "≤", "≥", "=", "<", ">", "›")


def join_path(parts: Sequence[str]) -> str:
    """``Trình độ › Chuyên môn › Thạc sỹ``: commas inside a part stay part of it."""
    return PATH_SEPARATOR.join(parts)


def split_path(text: str) -> list[str]:
    """The parts of a header path: split on ``›`` (or ``>``), never on commas."""
    return [p.strip() for p in _PATH_SPLIT.split(text.strip())]


# ----------------------------------------------------------------------------- references


@dataclass(frozen=True)
class ColumnName:
    """What a reference can name a column by: its key and its header path."""

    key: str
    header: tuple[str, ...]


def _is_subsequence(parts: Sequence[str], header: Sequence[str]) -> bool:
    it = iter(header)
    return all(any(p == h for h in it) for p in parts)


def resolve_reference(text: str, columns: Iterable[ColumnName]) -> list[str]:
    """The keys a reference may mean: an exact key, else an exact header path, else every
    column whose leaf is the reference's last part and whose path holds its other parts in
    order (``Ban Thường vụ › Thạc sỹ``). One key: found; none: missing; more: ambiguous."""
    cols = list(columns)
    ref = clean_text(text)
    exact = [c.key for c in cols if c.key == ref] or [
        c.key for c in cols if c.key.casefold() == ref.casefold()]
    if exact:
        return exact
    parts = [fold(p) for p in split_path(ref)]
    if not parts or not all(parts):
        return []
    headers = {c.key: [fold(h) for h in c.header] for c in cols}
    full = [k for k, h in headers.items() if h == parts]
    if full:
        return full
    return [k for k, h in headers.items() if h and h[-1] == parts[-1]
            and _is_subsequence(parts[:-1], h[:-1])]


def reference_for(key: str, columns: Sequence[ColumnName]) -> str:
    """The shortest words that name column ``key`` unambiguously: its leaf header, else
    top group › leaf, else the full path, else the key itself."""
    col = next((c for c in columns if c.key == key), None)
    if col is None or not col.header:
        return key
    h = col.header
    candidates = [[h[-1]], [h[0], h[-1]], list(h)] if len(h) > 1 else [[h[-1]]]
    for parts in candidates:
        if any(any(mark in p for mark in RESERVED_IN_REFERENCE) for p in parts):
            continue
        text = join_path(parts)
        if resolve_reference(text, columns) == [key]:
            return text
    return key


# ----------------------------------------------------------------------------- keys


def derived_key(text: str, taken: set[str], *, limit: int = 40) -> str:
    """A key for a column or indicator the clerk left without one, made from its words
    (``Số người tham gia`` → ``so_nguoi_tham_gia``); unique among ``taken``."""
    words = slugify(text).split("-")
    key = ""
    for word in words:
        if key and len(key) + 1 + len(word) > limit:
            break
        # "_xa_" would be read back by LibreOffice as an escaped character: glue such words
        sep = "" if key and XML_ESCAPE.fullmatch(f"_{word}_") else "_"
        key = f"{key}{sep}{word}" if key else word
    key = key or "cot"
    if key[0].isdigit():
        key = f"c_{key}"
    base, n = key, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


# ----------------------------------------------------------------------------- questions


@dataclass(frozen=True)
class Question:
    """One open question of a proposal, shown on «Câu hỏi» (never read into the spec)."""

    form: str
    column: str
    question: str
    answered: bool = False
    note: str = ""


# ----------------------------------------------------------------------------- errors


class WorkbookError(Exception):
    """A mistake in a campaign workbook, said in Vietnamese with its sheet, row (as Excel
    numbers it) and column: ``Trang «Cột», dòng 14, cột «Kiểu»: …``."""

    def __init__(self, problem: str, *, sheet: str | None = None, row: int | None = None,
                 column: str | None = None, file: str = "") -> None:
        self.problem, self.sheet, self.row, self.column, self.file = (
            problem, sheet, row, column, file)
        where = []
        if sheet:
            where.append(f"Trang «{sheet}»")
        if row:
            where.append(f"dòng {row}")
        if column:
            where.append(f"cột «{column}»")
        text = (", ".join(where) + ": " if where else "") + problem
        super().__init__(f"{file}: {text}" if file else text)

    def in_file(self, file: str) -> WorkbookError:
        """The same error naming the file it was found in."""
        return WorkbookError(self.problem, sheet=self.sheet, row=self.row, column=self.column,
                             file=file)
