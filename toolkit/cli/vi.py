"""Click's own words in Vietnamese: "Usage:", "Options", "Show this message and exit.",
"Error: …", "No such option", the metavars ``[OPTIONS]``, ``TEXT``, ``PATH``….

Click marks every string it prints with :func:`gettext.gettext` (``_``) or
:func:`gettext.ngettext`, imported into each of its modules; :func:`install` points those
names at the table below, so everything a clerk sees from the ``toolkit`` command is
Vietnamese, whatever the machine's locale. A string missing from the table stays as click
wrote it (a newer click may add some; ``tests/test_cli_vietnamese.py`` finds them).
"""

from __future__ import annotations

import sys
from typing import Any

import click

MESSAGES: dict[str, str] = {
    "Aborted!": "Đã dừng.",
    "deprecated": "không dùng nữa",
    "Options": "Tùy chọn",
    "Positional arguments": "Tham số",
    "Commands": "Lệnh",
    "Missing command.": "Thiếu lệnh.",
    "env var: {var}": "biến môi trường: {var}",
    "default: {default}": "mặc định: {default}",
    "(dynamic)": "(tự tính)",
    "required": "bắt buộc",
    "Error: {message}": "Lỗi: {message}",
    "Try '{command} {option}' for help.": "Xem hướng dẫn: {command} {option}",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ ở {param_hint}: {message}",
    "Missing argument": "Thiếu tham số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing {param_type}": "Thiếu {param_type}",
    "Missing parameter: {param_name}": "Thiếu tham số: {param_name}",
    "No such option: {name}": "Không có tùy chọn {name}",
    "No such option {name!r}.": "Không có tùy chọn {name!r}.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "unknown error": "lỗi không rõ",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "Usage:": "Cách dùng:",
    "Choose from:\n\t{choices}": "Chọn một trong:\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} không phải là {number_type}.",
    "{value} is not in the range {range}.": "{value} nằm ngoài khoảng {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "{value!r} không phải là có/không; dùng: {states}",
    "integer": "số nguyên",
    "float": "số",
    "text": "chữ",
    "boolean": "có/không",
    "file": "tệp",
    "directory": "thư mục",
    "path": "đường dẫn",
    "{name} {filename!r} does not exist.": "{name} {filename!r} không tồn tại.",
    "{name} {filename!r} is a file.": "{name} {filename!r} là một tệp.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} là một thư mục.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} không đọc được.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} không ghi được.",
    "{name} {filename!r} is not executable.": "{name} {filename!r} không chạy được.",
    "Do you want to continue?": "Tiếp tục?",
    "Confirm the action without prompting.": "Đồng ý, không hỏi lại.",
    "%(prog)s, version %(version)s": "%(prog)s, phiên bản %(version)s",
    "Show the version and exit.": "Hiện phiên bản rồi thoát.",
    "Show this message and exit.": "Hiện hướng dẫn này rồi thoát.",
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "Argument {name!r} takes {nargs} values.": "Tham số {name!r} cần {nargs} giá trị.",
    "Repeat for confirmation": "Nhập lại để xác nhận",
    "Error: The two entered values do not match.": "Lỗi: hai lần nhập không khớp nhau.",
    "Error: invalid input": "Lỗi: nhập không hợp lệ",
    "Press any key to continue...": "Nhấn phím bất kỳ để tiếp tục…",
    "Value must be an iterable.": "Giá trị phải là một danh sách.",
}
# msgid singular → (Vietnamese, which has one form for both)
PLURALS: dict[str, str] = {
    "Got unexpected extra argument ({args})": "Thừa tham số ({args})",
    "Did you mean {possibility}?": "Có phải ý là {possibility}?",
    "Option {name!r} requires an argument.": "Tùy chọn {name!r} cần {nargs} giá trị.",
    "{value!r} is not {choice}.": "{value!r} không phải {choice}.",
    "{value!r} does not match the format {format}.": "{value!r} không đúng dạng {format}.",
    "Takes {nargs} values but 1 was given.": "Cần {nargs} giá trị nhưng có {len}.",
    "{len_type} values are required, but {len_value} was given.":
        "Cần {len_type} giá trị nhưng có {len_value}.",
}
PLURAL_OTHER: dict[str, str] = {  # the plural msgid, when Vietnamese needs its own words
    "(Did you mean one of: {possibilities}?)": "(Có phải ý là một trong: {possibilities}?)",
    "{value!r} is not one of {choices}.": "{value!r} không phải một trong {choices}.",
    "{value!r} does not match the formats {formats}.": "{value!r} không đúng dạng {formats}.",
}
OPTIONS_METAVAR = "[TÙY CHỌN]"
SUBCOMMAND_METAVAR = "LỆNH [THAM SỐ]..."


def gettext(message: str) -> str:
    """Click's ``_``: the Vietnamese of ``message``, or ``message`` itself."""
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Click's ``ngettext``: Vietnamese has one form; a plural text with other words
    (``one of``) keeps them."""
    if n != 1 and plural in PLURAL_OTHER:
        return PLURAL_OTHER[plural]
    if singular in PLURALS:
        return PLURALS[singular]
    return singular if n == 1 else plural


def install() -> None:
    """Point every click module's ``_`` / ``ngettext`` at the tables above and give the
    parameter types Vietnamese names (their metavars: ``CHỮ``, ``SỐ NGUYÊN``…)."""
    for name, module in list(sys.modules.items()):
        if name == "click" or name.startswith("click."):
            if hasattr(module, "_"):
                module._ = gettext  # type: ignore[attr-defined]
            if hasattr(module, "ngettext"):
                module.ngettext = ngettext  # type: ignore[attr-defined]
    types: Any = click.types
    types.StringParamType.name = "chữ"
    types.IntParamType.name = "số nguyên"
    types.FloatParamType.name = "số"
    types.BoolParamType.name = "có/không"
    types.UnprocessedParamType.name = "chữ"
    types.DateTime.name = "ngày giờ"
    types.File.name = "tệp"


class VietnameseCommand(click.Command):
    """A command whose usage line reads ``[TÙY CHỌN]``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)


install()
