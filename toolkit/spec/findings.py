"""Finding codes, their severity and their Vietnamese message templates — in one place.

Codes are stable (CSV outputs, feedback workbooks and tests rely on them); wording may
change freely. A template is a ``str.format`` string; fields a caller does not supply are
rendered empty rather than raising, so a missing detail never stops a run.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from toolkit.spec.models import Finding
from toolkit.spec.text import nfc


@dataclass(frozen=True)
class Code:
    """One finding code: default severity and message template."""

    code: str
    severity: str
    template: str


_TABLE: tuple[Code, ...] = (
    # ----------------------------------------------------------------- values (one cell)
    Code("not_a_number", "error",
         "{where} — «{value}» không phải là số; chỉ nhập chữ số, không kèm đơn vị hay chữ"),
    Code("not_integer", "error",
         "{where} — {label}: {value} phải là số nguyên (số người, số cuộc… không có phần lẻ)"),
    Code("negative", "error",
         "{where} — {label}: {value} là số âm; số liệu này không được nhỏ hơn 0"),
    Code("out_of_range", "error", "{where} — {label}: {value} nằm ngoài khoảng {range}"),
    Code("not_in_choices", "error",
         "{where} — «{value}» không có trong danh sách; chọn một trong: {choices}"),
    Code("bad_date", "error",
         "{where} — «{value}» không phải là ngày; nhập theo dạng ngày/tháng/năm, "
         "ví dụ 20/01/2021"),
    Code("required_missing", "error", "{where} — {label}: bắt buộc nhập nhưng đang để trống"),
    Code("rule_violation", "error",
         "{where} — {group}{left} ({left_value}) {relation} {right} ({right_value})"),
    Code("invalid_value", "error", "{where} — {label}: giá trị «{value}» không hợp lệ ({detail})"),
    Code("number_as_text_converted", "warning",
         "{where} — «{value}» được nhập dạng chữ, đã hiểu là số {number}; "
         "lần sau hãy nhập ô này dạng số"),
    Code("thousands_comma_read", "warning",
         "{where} — {label}: «{value}» đã được hiểu là {number} (dấu phẩy ngăn cách hàng "
         "nghìn, vì ô này là số nguyên); nếu ý khác, hãy sửa lại. Lần sau nhập số không có "
         "dấu ngăn cách, ví dụ 1234"),
    Code("number_formatted_as_date", "warning",
         "{where} — ô đang mang định dạng ngày/giờ (thường do dán cả định dạng từ tệp khác) "
         "nên hiện «{value}»; đã hiểu là số {number}. Hãy đặt lại định dạng số cho ô"),
    Code("text_normalised", "warning", "{where} — «{value}» đã được hiểu là «{normalised}»"),
    Code("legacy_encoding_converted", "warning",
         "{where} — «{value}» được gõ bằng bảng mã cũ (TCVN3/VNI, phông .VnTime hay "
         "VNI-Times), đã chuyển sang Unicode thành «{normalised}»; lần sau hãy gõ bằng "
         "Unicode (phông Times New Roman)"),
    Code("row_key_changed", "error",
         "{where} — ô đầu dòng phải là «{expected}» nhưng đang là «{value}»; không chèn, "
         "xóa hay sắp xếp lại các dòng của biểu"),
    Code("result_without_target", "warning",
         "{where} — {indicator}: đơn vị không được giao chỉ tiêu này (ô chỉ tiêu trống hoặc "
         "«không giao») nhưng báo cáo {label} = {value}; kiểm tra lại số liệu"),
    Code("allocation_blank", "warning",
         "{where} — chỉ tiêu «{indicator}» của {unit_name} để trống: đơn vị sẽ thấy "
         "«không giao» và không phải báo cáo chỉ tiêu này"),
    Code("allocation_negative", "warning",
         "{where} — chỉ tiêu «{indicator}» của {unit_name} là số âm ({value}); coi như "
         "không giao, hãy sửa lại"),
    Code("allocation_not_number", "warning",
         "{where} — chỉ tiêu «{indicator}» của {unit_name}: «{value}» không phải là số; "
         "coi như không giao, hãy sửa lại"),
    Code("allocation_unit_unknown", "warning",
         "{where} — mã đơn vị «{unit_code}» không có trong danh sách đơn vị trực thuộc "
         "{office_name}; dòng này bị bỏ qua"),
    Code("allocation_sum_mismatch", "warning",
         "{where} — «{indicator}»: tổng chỉ tiêu phân bổ cho các đơn vị ({total}) khác "
         "chỉ tiêu của {office_name} ({own})"),
    Code("allocation_unit_missing", "warning",
         "{file} — {unit_name} ({unit_code}) không có dòng trong tệp phân bổ; đơn vị sẽ "
         "thấy mọi chỉ tiêu là «không giao»"),
    Code("layout_shifted", "warning",
         "{file} — trang {sheet}: biểu đã bị chèn hoặc xóa dòng/cột nên số liệu không còn ở "
         "vị trí gốc; đã tìm lại bảng theo dòng số thứ tự cột và tên dòng rồi đọc ở vị trí "
         "mới{detail}. Lần sau không chèn, xóa dòng hay cột trong biểu"),
    Code("layout_damaged", "error",
         "{file} — trang {sheet}: {detail} vì đã bị xóa khỏi biểu; số liệu ở đó không đọc "
         "được. Hãy nhập lại vào biểu mẫu gốc rồi gửi lại"),
    Code("merged_cells", "warning",
         "{file} — trang {sheet}: các ô {value} đã bị gộp (Merge) nên chỉ còn đọc được ô đầu "
         "{cell}, các ô nhập liệu còn lại được coi là để trống. Hãy bỏ gộp ô rồi nhập lại "
         "từng ô"),
    Code("formula_in_input", "warning",
         "{where} — ô nhập liệu chứa công thức; đã dùng giá trị đang hiển thị ({value}). "
         "Hãy nhập số liệu trực tiếp"),
    # plausibility (toolkit.history.plausibility): warnings to check, never a rejection
    Code("plausibility_peer", "warning",
         "{where} — {label}: {value}, {comparison} ({reference}); kiểm tra lại số "
         "liệu{confirm}"),
    Code("plausibility_jump", "warning",
         "{where} — {label}: {value}, {comparison} ({reference}); kiểm tra lại số "
         "liệu{confirm}"),
    Code("plausibility_trend", "warning",
         "{where} — {label}: {value}, {comparison} ({reference}); kiểm tra lại số "
         "liệu{confirm}"),
    # ----------------------------------------------------------------- whole file
    Code("file_unreadable", "error",
         "{file} — không đọc được tệp ({detail}); hãy mở lại bằng Excel hoặc LibreOffice, "
         "lưu dạng .xlsx rồi gửi lại"),
    Code("file_encrypted", "error",
         "{file} — tệp được đặt mật khẩu nên không đọc được; hãy gỡ mật khẩu rồi gửi lại"),
    Code("not_a_workbook", "error", "{file} — không phải tệp bảng tính ({detail})"),
    Code("too_large", "error",
         "{file} — tệp vượt giới hạn an toàn ({detail}) nên không được đọc; hãy gửi lại "
         "đúng biểu mẫu, không thêm dữ liệu ngoài biểu"),
    Code("xml_entities", "error",
         "{file} — phần «{detail}» của tệp có khai báo DOCTYPE/ENTITY (thực thể XML); tệp "
         "bị từ chối vì lý do an toàn, không đọc. Hãy lưu lại bằng Excel hoặc LibreOffice "
         "rồi gửi lại"),
    Code("read_timeout", "error",
         "{file} — đọc tệp quá {seconds} giây nên đã dừng; hãy mở lại, lưu dạng .xlsx "
         "rồi gửi lại"),
    Code("reader_crashed", "error",
         "{file} — chương trình đọc bị dừng đột ngột khi mở tệp này ({detail}); tệp có thể "
         "bị hỏng. Hãy mở lại bằng Excel hoặc LibreOffice, lưu dạng .xlsx rồi gửi lại"),
    Code("legacy_xls", "error",
         "{file} — tệp dạng .xls (Excel 97–2003) không còn thông tin nhận diện biểu mẫu; "
         "hãy nhập số liệu vào biểu mẫu gốc và lưu dạng .xlsx"),
    Code("no_identity", "error",
         "{file} — không nhận diện được đơn vị và chiến dịch (không có trang _meta và "
         "thuộc tính tệp); hãy dùng đúng biểu mẫu đã được gửi cho đơn vị"),
    Code("meta_rebuilt", "warning",
         "{file} — trang ẩn _meta (bảng vị trí ô) đã bị xóa hoặc hỏng; đã đọc số liệu theo "
         "bố cục biểu mẫu hiện hành sau khi đối chiếu dòng số thứ tự cột và tên dòng. Lần "
         "sau hãy gửi đúng tệp biểu mẫu, không xóa hay sửa trang ẩn"),
    Code("identity_from_content", "warning",
         "{file} — tệp không còn thông tin nhận diện (trang _meta và thuộc tính tệp); đã "
         "nhận ra {unit_name} qua tên đơn vị ở đầu trang «{sheet}» và đọc theo bố cục biểu "
         "mẫu hiện hành. Lần sau hãy gửi đúng tệp biểu mẫu đã được gửi cho đơn vị"),
    Code("unknown_kind", "error",
         "{file} — loại tệp «{kind}» không hợp lệ (chỉ nhận biểu mẫu hoặc bảng tổng hợp)"),
    Code("meta_unreadable", "error",
         "{file} — trang _meta bị hỏng ({detail}); không đọc được vị trí các ô số liệu"),
    Code("unit_unknown", "error",
         "{file} — mã đơn vị «{unit_code}» không có trong danh sách đơn vị"),
    Code("unit_not_child", "error",
         "{file} — {unit_name} ({unit_code}) thuộc {parent_name}, không phải đơn vị trực "
         "thuộc {office_name}; tệp không được tổng hợp"),
    Code("sheet_missing", "error",
         "{file} — thiếu trang tính «{sheet}»; không xóa hay đổi tên trang tính của biểu mẫu"),
    Code("sheet_renamed", "warning",
         "{file} — trang tính «{sheet}» đã bị đổi tên thành «{value}»; đã nhận ra biểu qua "
         "tiêu đề và đọc số liệu ở trang đó. Lần sau không đổi tên trang tính của biểu mẫu"),
    Code("cell_outside_sheet", "error",
         "{file} — bảng vị trí ô (_meta) ghi ô «{ref}» của {form}, không phải ô hợp lệ"),
    Code("unit_merged", "warning",
         "{file} — tệp của {merged_name} ({merged_code}, đã sáp nhập vào {unit_name}{since}): "
         "tính cho {unit_name} ({unit_code})"),
    Code("superseded", "warning",
         "{file} — {unit_name} đã gửi bản mới hơn ({newer}); tệp này không được dùng"),
    Code("duplicate_copy", "warning",
         "{file} — giống hệt tệp {other}; chỉ tính một lần"),
    Code("sender_mismatch", "warning",
         "{file} — gửi từ địa chỉ {sender}, không phải địa chỉ đã đăng ký của {unit_name} "
         "({expected}); hãy kiểm tra tệp có đúng của đơn vị không"),
    Code("spec_changed", "warning",
         "{file} — biểu mẫu được tạo từ phiên bản khác của kế hoạch; đã đọc theo bảng vị "
         "trí ô của chính tệp{detail}"),
    Code("name_not_unicode", "warning",
         "{file} — tên tệp không phải Unicode (UTF-8), thường do giải nén tệp .zip tạo trên "
         "Windows; tên ở đây được đọc theo bảng mã Windows-1258. Nên đặt lại tên tệp"),
    Code("manifest_bad_date", "warning",
         "{file} — ngày nhận ghi trong manifest.csv không hợp lệ hoặc ngoài khoảng "
         "1980–2999 nên bị bỏ qua; đã dùng thời gian của tệp"),
    Code("same_name_other_form", "warning",
         "{file} — tên tệp chỉ khác tệp {other} ở cách mã hóa dấu (bản lưu trên máy Mac, "
         "dạng Unicode NFD) nên trông giống hệt; hai tệp được đọc riêng, mỗi tệp giữ số "
         "liệu của mình"),
    # ----------------------------------------------------------------- skipped, not read
    Code("other_campaign", "warning",
         "tệp của chiến dịch khác («{other}»), không thuộc {campaign}"),
    Code("lock_file", "warning", "tệp khóa/tệp tạm do Excel hoặc LibreOffice tạo"),
    Code("hidden_file", "warning", "tệp ẩn"),
    Code("symlink", "warning", "liên kết tượng trưng (symlink), không đọc để bảo đảm an toàn"),
    Code("not_a_spreadsheet", "warning",
         "không phải tệp bảng tính (chỉ đọc .xlsx, .xlsm, .ods, .xls)"),
    Code("not_regular_file", "warning",
         "không phải tệp thông thường ({detail}), không đọc để bảo đảm an toàn"),
    Code("folder_unreadable", "warning",
         "không đọc được thư mục ({detail}); các tệp trong đó chưa được xem. Hãy cấp quyền "
         "đọc rồi chạy lại"),
    Code("zip_refused", "warning", "tệp nén: {detail}"),
    Code("manifest_unreadable", "warning",
         "không đọc được {file} ({detail}); thời gian nhận lấy theo thời gian đơn vị lưu "
         "tệp, người gửi không được kiểm tra"),
    # ----------------------------------------------------------------- outputs (report)
    Code("text_truncated", "warning",
         "{where} — {label}: nội dung dài {length} ký tự, vượt giới hạn {limit} ký tự của "
         "một ô Excel; bảng tổng hợp chỉ giữ {limit} ký tự đầu («{value}»), tệp values.csv "
         "giữ đủ. Hãy rút gọn nội dung ô này"),
)

CODES: dict[str, Code] = {c.code: c for c in _TABLE}

# What a clerk reads in place of a code (the «Mã» column of the Lỗi sheet): a few Vietnamese
# words per code. The code itself stays in findings.csv, for machines.
LABELS: dict[str, str] = {
    "not_a_number": "Không phải số",
    "not_integer": "Không phải số nguyên",
    "negative": "Số âm",
    "out_of_range": "Ngoài khoảng cho phép",
    "not_in_choices": "Không có trong danh sách",
    "bad_date": "Ngày không hợp lệ",
    "required_missing": "Bỏ trống ô bắt buộc",
    "rule_violation": "Số liệu không khớp nhau",
    "invalid_value": "Giá trị không hợp lệ",
    "number_as_text_converted": "Số nhập dạng chữ",
    "thousands_comma_read": "Dấu phẩy hàng nghìn",
    "number_formatted_as_date": "Ô số mang định dạng ngày",
    "text_normalised": "Đã chuẩn hóa chữ",
    "legacy_encoding_converted": "Bảng mã cũ (TCVN3/VNI)",
    "row_key_changed": "Dòng bị thay đổi",
    "result_without_target": "Kết quả khi không giao chỉ tiêu",
    "allocation_blank": "Chỉ tiêu để trống",
    "allocation_negative": "Chỉ tiêu âm",
    "allocation_not_number": "Chỉ tiêu không phải số",
    "allocation_unit_unknown": "Đơn vị lạ trong tệp phân bổ",
    "allocation_sum_mismatch": "Tổng phân bổ lệch",
    "allocation_unit_missing": "Đơn vị thiếu trong tệp phân bổ",
    "layout_shifted": "Bảng bị xê dịch",
    "layout_damaged": "Bảng bị sửa cấu trúc",
    "merged_cells": "Ô bị gộp",
    "formula_in_input": "Công thức trong ô nhập",
    "plausibility_peer": "Khác xa các đơn vị cùng cấp",
    "plausibility_jump": "Thay đổi lớn so với kỳ trước",
    "plausibility_trend": "Thay đổi lớn giữa các năm",
    "file_unreadable": "Không đọc được tệp",
    "file_encrypted": "Tệp có mật khẩu",
    "not_a_workbook": "Không phải tệp bảng tính",
    "too_large": "Tệp quá lớn",
    "xml_entities": "Tệp chứa nội dung nguy hiểm",
    "read_timeout": "Đọc tệp quá lâu",
    "reader_crashed": "Tệp làm hỏng trình đọc",
    "legacy_xls": "Tệp .xls không phải biểu mẫu",
    "no_identity": "Không rõ đơn vị, chiến dịch",
    "meta_rebuilt": "Mất trang _meta, đã đọc lại",
    "identity_from_content": "Nhận đơn vị theo tên trong tệp",
    "unknown_kind": "Loại tệp không rõ",
    "meta_unreadable": "Trang _meta hỏng",
    "unit_unknown": "Đơn vị không có trong danh sách",
    "unit_not_child": "Không phải đơn vị trực thuộc",
    "sheet_missing": "Thiếu trang tính",
    "sheet_renamed": "Trang tính bị đổi tên",
    "cell_outside_sheet": "Ô nằm ngoài trang",
    "unit_merged": "Đơn vị đã sáp nhập",
    "superseded": "Đã có bản mới hơn",
    "duplicate_copy": "Bản trùng",
    "sender_mismatch": "Người gửi khác địa chỉ đăng ký",
    "spec_changed": "Biểu mẫu phiên bản cũ",
    "name_not_unicode": "Tên tệp không phải Unicode",
    "manifest_bad_date": "Ngày trong manifest sai",
    "same_name_other_form": "Trùng tên trang của biểu khác",
    "other_campaign": "Tệp của chiến dịch khác",
    "lock_file": "Tệp khóa của Office",
    "hidden_file": "Tệp ẩn",
    "symlink": "Liên kết tượng trưng",
    "not_a_spreadsheet": "Không phải tệp bảng tính",
    "not_regular_file": "Không phải tệp thường",
    "folder_unreadable": "Không đọc được thư mục",
    "manifest_unreadable": "Không đọc được manifest",
    "zip_refused": "Tệp nén không giải nén được",
    "text_truncated": "Nội dung quá dài",
}


# the end of a plausibility warning on a template that has a confirmation cell
CONFIRM_HINT = (". Nếu số liệu đúng, ghi «x» hoặc {cell} vào ô Xác nhận ({where}) rồi "
                "gửi lại")


def label(code: str) -> str:
    """The Vietnamese words a clerk reads for ``code`` (the code itself when it has none)."""
    return LABELS.get(code, code)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


_FORMATTER = string.Formatter()


QUOTE_CHARS = 60  # a message quotes at most this much of what a unit typed
MAX_MESSAGE = 2_000
TYPED_FIELDS = ("value", "normalised")  # what the unit typed, as it came from the file


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """At most ``limit`` characters of ``text``, ``…`` when cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def message(code: str, **fields: Any) -> str:
    """The Vietnamese message of ``code`` with ``fields`` filled in (missing ones blank).
    What came from the unit's file is quoted at most :data:`QUOTE_CHARS` characters long (a
    40,000-character text once made a 40,072-character message); a message is at most
    :data:`MAX_MESSAGE` characters."""
    for key in TYPED_FIELDS:
        if isinstance(fields.get(key), str):
            fields[key] = quote(fields[key])
    template = CODES[code].template
    return quote(nfc(_FORMATTER.vformat(template, (), _Blank(fields))), MAX_MESSAGE)


def make_finding(
    code: str,
    *,
    file: str,
    unit_code: str,
    form: str = "",
    cell: str = "",
    column: str = "",
    value: str = "",
    row: str = "",
    severity: str | None = None,
    **fmt: Any,
) -> Finding:
    """Build a :class:`Finding` for ``code``; ``{where}`` is ``PL2!E9``, the form or the file.

    ``severity`` overrides the code's default (a spec rule may be only a warning).
    """
    info = CODES[code]
    where = f"{form}!{cell}" if form and cell else (form or file)
    fields = {"where": where, "file": file, "unit_code": unit_code, "form": form,
              "cell": cell, "column": column, "value": value, "row": row, **fmt}
    return Finding(
        file=file,
        unit_code=unit_code,
        form=form,
        cell=cell,
        column=column,
        severity=severity or info.severity,
        code=code,
        message=message(code, **fields),
        value=nfc(str(value)),
        row=row,
    )
