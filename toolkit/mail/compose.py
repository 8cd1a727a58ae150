"""Build the messages: Vietnamese subject and body, the office as sender, attachments with
RFC 2231 file names (``email.policy.default`` encodes non-ASCII names itself).

Pure functions: nothing here touches the network or the disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from toolkit.mail.settings import MailError
from toolkit.spec.campaign import Campaign
from toolkit.spec.levels import name_of
from toolkit.spec.models import VIETNAM_TIME
from toolkit.spec.text import nfc
from toolkit.spec.units import Unit

EML_POLICY = policy.default.clone(linesep="\r\n")  # Outlook wants CRLF; Thunderbird accepts it
KINDS = ("templates", "feedback", "remind")
KIND_LABELS = {"templates": "biểu mẫu", "feedback": "phản hồi", "remind": "nhắc nộp"}
STATUS_LABELS = {"accepted": "đã tiếp nhận", "rejected": "chưa tiếp nhận (còn lỗi)",
                 "missing": "chưa nộp"}
WORKBOOK_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".xls": "application/vnd.ms-excel",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".zip": "application/zip",
}
SIGNATURE_NOTE = ("Thư này được gửi bằng công cụ toolkit. Đơn vị có thắc mắc xin trả lời "
                  "thư này hoặc liên hệ văn phòng.")


@dataclass(frozen=True)
class Attachment:
    """One file to attach: its name as the unit sees it, and its bytes."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def today_in_vietnam(now: dt.datetime | None = None) -> dt.date:
    """The calendar date in Vietnam (UTC+07:00)."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(VIETNAM_TIME).date()


def vn_date(day: dt.date) -> str:
    """``20/01/2021``."""
    return f"{day:%d/%m/%Y}"


def days_phrase(deadline: dt.date | None, today: dt.date) -> str:
    """``còn 3 ngày`` / ``hôm nay là hạn cuối`` / ``đã quá hạn 2 ngày`` (empty without a
    deadline)."""
    if deadline is None:
        return ""
    days = (deadline - today).days
    if days > 0:
        return f"còn {days} ngày"
    if days == 0:
        return "hôm nay là hạn cuối"
    return f"đã quá hạn {-days} ngày"


def recipients(unit: Unit) -> list[str]:
    """The unit's registered addresses (the ``email`` cell may hold several, ``,``/``;``)."""
    found = []
    for part in re.split(r"[,;\s]+", unit.email or ""):
        addr = parseaddr(part)[1]
        if "@" in addr and addr not in found:
            found.append(addr)
    return found


def sender_address(office_name: str, from_addr: str) -> Address:
    """``"Huyện đoàn Thọ Xuân" <vanphong@…>``; a bad address is a :class:`MailError`."""
    addr = parseaddr(from_addr or "")[1]
    if "@" not in addr or addr.startswith("@") or addr.endswith("@"):
        raise MailError(f"Địa chỉ người gửi không hợp lệ {from_addr!r}: dùng --from hoặc biến "
                        f"môi trường TOOLKIT_MAIL_FROM")
    username, domain = addr.rsplit("@", 1)
    return Address(display_name=office_name, username=username, domain=domain)


def _deadline_line(campaign: Campaign, unit: Unit, today: dt.date | None) -> str:
    deadline = campaign.deadline_for(unit.level)
    level = name_of(unit.level)
    if deadline is None:
        return f"Kế hoạch không quy định hạn nộp cho {level}; đề nghị đơn vị gửi sớm."
    line = f"Hạn gửi báo cáo đối với {level}: chậm nhất ngày {vn_date(deadline)}"
    phrase = days_phrase(deadline, today) if today is not None else ""
    return f"{line} ({phrase})." if phrase else f"{line}."


def _opening(campaign: Campaign, unit: Unit) -> list[str]:
    return [
        f"Kính gửi: {unit.name}",
        "",
        f"Thực hiện Kế hoạch số {campaign.document_number} ngày "
        f"{vn_date(campaign.document_date)} của {campaign.issuer} về "
        f"{nfc(campaign.title.strip())},",
    ]


def _closing(campaign: Campaign, office: Unit) -> list[str]:
    lines = [""]
    if campaign.return_to:
        lines.append(f"Nơi nhận báo cáo: {campaign.return_to}.")
    lines += [SIGNATURE_NOTE, "", "Trân trọng,", office.name]
    return lines


def _message(subject: str, body: Sequence[str], sender: Address, to: Sequence[str],
             attachments: Sequence[Attachment], reply_to: str | None,
             now: dt.datetime | None) -> EmailMessage:
    msg = EmailMessage(policy=policy.default)
    # Python 3.11's header folder drops the space between two folded encoded words
    # ("gửi Đoàn" arrives as "gửiĐoàn"): encode Subject and From with email.header instead,
    # which keeps spaces inside the encoded words, and store them as they are.
    msg.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())
    msg.set_raw("From", formataddr((sender.display_name, sender.addr_spec), charset="utf-8"))
    msg["To"] = ", ".join(to)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Date"] = format_datetime((now or dt.datetime.now(dt.UTC)).astimezone(VIETNAM_TIME))
    msg["Message-ID"] = make_msgid(domain=sender.domain)
    msg.set_content("\n".join(body) + "\n", charset="utf-8")
    for att in attachments:
        mime = WORKBOOK_TYPES.get(_suffix(att.name)) or mimetypes.guess_type(att.name)[0]
        maintype, subtype = (mime or "application/octet-stream").split("/", 1)
        msg.add_attachment(att.data, maintype=maintype, subtype=subtype,
                           filename=nfc(att.name))
    return msg


def _suffix(name: str) -> str:
    return ("." + name.rsplit(".", 1)[1].lower()) if "." in name else ""


def template_message(campaign: Campaign, office: Unit, unit: Unit, sender: Address,
                     attachment: Attachment, *, reply_to: str | None = None,
                     now: dt.datetime | None = None) -> EmailMessage:
    """The unit's own template, with what to do and the deadline of its level."""
    body = [
        *_opening(campaign, unit),
        f"{office.name} gửi đơn vị biểu mẫu báo cáo dành riêng cho {unit.name} "
        f"(mã {unit.code}), tệp đính kèm: {attachment.name}.",
        "",
        _deadline_line(campaign, unit, None),
        "",
        "Đề nghị đơn vị:",
        "1. Mở tệp đính kèm bằng Excel, LibreOffice hoặc WPS; chỉ nhập số liệu vào các ô "
        "nền vàng (xem trang Hướng dẫn trong tệp).",
        "2. Không đổi tên, thêm, xóa trang tính, dòng hoặc cột; không chép số liệu sang tệp "
        "khác.",
        "3. Lưu tệp (giữ dạng .xlsx) và gửi lại nguyên tệp bằng cách trả lời thư này, đúng "
        "hạn nêu trên.",
    ]
    if campaign.instructions:
        body += ["", "Lưu ý khi nhập số liệu:", *(f"- {x}" for x in campaign.instructions)]
    body += _closing(campaign, office)
    subject = (f"[{campaign.document_number}] Biểu mẫu báo cáo gửi {unit.name} ({unit.code})")
    return _message(subject, body, sender, recipients(unit), [attachment], reply_to, now)


def feedback_message(campaign: Campaign, office: Unit, unit: Unit, sender: Address,
                     attachment: Attachment, *, status: str, errors: int, warnings: int,
                     file: str = "", today: dt.date | None = None,
                     reply_to: str | None = None,
                     now: dt.datetime | None = None) -> EmailMessage:
    """The result of checking the unit's file, its feedback workbook attached."""
    checked = f" (tệp {file})" if file else ""
    body = [
        *_opening(campaign, unit),
        f"{office.name} đã nhận và kiểm tra báo cáo của đơn vị{checked}.",
        f"Kết quả: {STATUS_LABELS.get(status, status)} — {errors} lỗi, {warnings} cảnh báo.",
        "",
    ]
    if status == "rejected" or errors:
        body += [
            "Báo cáo CHƯA được tiếp nhận vì còn lỗi. Đề nghị đơn vị:",
            f"1. Mở tệp phản hồi đính kèm ({attachment.name}), xem trang \"Lỗi cần sửa\" và "
            "các ô được tô màu.",
            "2. Sửa trực tiếp trên tệp báo cáo của đơn vị (không sửa trên tệp phản hồi).",
            "3. Lưu và gửi lại tệp đã sửa bằng cách trả lời thư này.",
            "",
            _deadline_line(campaign, unit, today),
        ]
    else:
        body += [
            "Báo cáo đã được tiếp nhận. Tệp phản hồi đính kèm "
            f"({attachment.name}) nêu {warnings} điểm cần xem lại (cảnh báo).",
            "Đề nghị đơn vị kiểm tra; nếu số liệu cần điều chỉnh, gửi lại tệp đã sửa bằng cách "
            "trả lời thư này. Nếu số liệu đã đúng, đơn vị không cần làm gì thêm.",
        ]
    body += _closing(campaign, office)
    what = "cần sửa và gửi lại" if (status == "rejected" or errors) else "đã tiếp nhận"
    subject = (f"[{campaign.document_number}] Kết quả kiểm tra báo cáo của {unit.name} "
               f"({unit.code}): {what}")
    return _message(subject, body, sender, recipients(unit), [attachment], reply_to, now)


def reminder_message(campaign: Campaign, office: Unit, unit: Unit, sender: Address, *,
                     status: str, today: dt.date, attachments: Sequence[Attachment] = (),
                     reply_to: str | None = None,
                     now: dt.datetime | None = None) -> EmailMessage:
    """A reminder for a unit whose report is missing or was rejected."""
    deadline = campaign.deadline_for(unit.level)
    phrase = days_phrase(deadline, today)
    if status == "rejected":
        situation = [
            f"Báo cáo đơn vị đã gửi còn lỗi nên {office.name} chưa tiếp nhận được.",
            "Đề nghị đơn vị sửa theo tệp phản hồi đã được gửi"
            + (" (gửi kèm lại thư này)" if attachments else "")
            + " và gửi lại tệp đã sửa bằng cách trả lời thư này.",
        ]
    else:
        situation = [
            f"Đến ngày {vn_date(today)}, {office.name} chưa nhận được báo cáo của đơn vị.",
            "Đề nghị đơn vị điền biểu mẫu"
            + (" (gửi kèm lại thư này)" if attachments else " đã được gửi")
            + ", lưu lại và gửi về bằng cách trả lời thư này.",
        ]
    body = [*_opening(campaign, unit), *situation, "", _deadline_line(campaign, unit, today)]
    body += ["Nếu đơn vị đã gửi báo cáo trong hôm nay, xin bỏ qua thư này."]
    body += _closing(campaign, office)
    when = f" — hạn {vn_date(deadline)}, {phrase}" if deadline is not None else ""
    subject = (f"[{campaign.document_number}] Nhắc nộp báo cáo: {unit.name} "
               f"({unit.code}){when}")
    return _message(subject, body, sender, recipients(unit), attachments, reply_to, now)


def eml_bytes(msg: EmailMessage, *, draft: bool = True) -> bytes:
    """The message as an ``.eml`` file (CRLF). ``draft`` adds ``X-Unsent: 1`` so Outlook
    opens it ready to send; Thunderbird ignores the header."""
    data = msg.as_bytes(policy=EML_POLICY)
    return b"X-Unsent: 1\r\n" + data if draft else data
