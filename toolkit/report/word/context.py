"""What a report template is filled with: the heading of a Đoàn document, the title, the
opening sentence, one entry per heading of the campaign's outline (its sentences, the
placeholder for what only people know, the units' notes), the recipients and the signature.

Pure: a consolidation's result in, plain data out (dicts and lists a Jinja template reads).
The names a template may use are listed in :data:`TEMPLATE_NAMES`; an office's own template
uses the same names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from toolkit.report.word.compare_text import comparison_sentences
from toolkit.report.word.figures import notes, sentences, unit_word
from toolkit.spec.campaign import Section
from toolkit.spec.layout import DOTS
from toolkit.spec.levels import symbol_for
from toolkit.spec.models import ConsolidationResult
from toolkit.spec.units import Unit

# "Huyện đoàn Thọ Xuân" → "BCH Đoàn huyện Thọ Xuân", the name on the heading of a document
_BODY_KINDS = {"tỉnh": "tỉnh", "huyện": "huyện", "thành": "thành phố", "thị": "thị xã",
               "quận": "quận"}
_LOCAL_BODY = re.compile(r"^(tỉnh|huyện|thành|thị|quận)\s+đoàn\s+(.+)$", re.IGNORECASE)
BLANK_DATE = "ngày … tháng … năm …"
TEMPLATE_NAMES = {
    "heading": "superior (cơ quan cấp trên), issuer (cơ quan ban hành), number (Số: …), "
               "place_date (địa danh, ngày … tháng … năm …)",
    "title": "BÁO CÁO", "subject": "trích yếu (tên chiến dịch)",
    "intro": "câu mở đầu", "as_of": "thời điểm số liệu",
    "sections": "các đề mục: heading, level, sentences, placeholder, notes",
    "recipients": "Nơi nhận", "signer": "for_line (TM. …), title (BÍ THƯ), name",
    "office": "tên đơn vị báo cáo", "campaign": "id, title, document_number, period",
}


def body_name(unit: Unit) -> str:
    """The committee's name as a document heading writes it (before upper-casing):
    ``Tỉnh đoàn Thanh Hóa`` → ``BCH Đoàn tỉnh Thanh Hóa``; ``Đoàn xã Xuân Hòa`` → ``BCH
    Đoàn xã Xuân Hòa``; any other name as it is."""
    m = _LOCAL_BODY.match(unit.name.strip())
    if m:
        return f"BCH Đoàn {_BODY_KINDS[m[1].lower()]} {m[2]}"
    if unit.name.lower().startswith("đoàn "):
        return f"BCH {unit.name}"
    return unit.name


def number_symbol(office: Unit) -> str:
    """``…-BC/ĐTN`` (a district's committee); ``…-BC/TĐTN`` for a province's, ``…-BC/TWĐTN``
    for the centre's (:mod:`toolkit.spec.levels`)."""
    return f"BC/{symbol_for(office.level)}"


def standing_committee(office: Unit) -> str:
    """``BAN THƯỜNG VỤ HUYỆN ĐOÀN`` from ``Huyện đoàn …``; ``BAN THƯỜNG VỤ`` otherwise."""
    m = _LOCAL_BODY.match(office.name.strip())
    return f"BAN THƯỜNG VỤ {m[1].upper()} ĐOÀN" if m else "BAN THƯỜNG VỤ"


def _document_kind(number: str) -> str:
    folded = number.upper()
    return ("Kế hoạch" if "KH" in folded else "Hướng dẫn" if "HD" in folded
            else "Công văn" if "CV" in folded else "Văn bản")


def _is_leaf(outline: Sequence[Section], i: int) -> bool:
    return i + 1 >= len(outline) or outline[i + 1].level <= outline[i].level


def section_entries(result: ConsolidationResult) -> list[dict[str, Any]]:
    """One entry per heading of the outline: the sentences its figures support, a marked
    placeholder where the outline asks for what only people know, and the units' notes."""
    outline = result.campaign.outline
    out: list[dict[str, Any]] = []
    for i, section in enumerate(outline):
        lines = [s for ref in section.figures
                 for s in (*sentences(result, ref), *comparison_sentences(result, ref))]
        gathered = [n for ref in section.notes for n in notes(result, ref)]
        placeholder = ""
        if section.points:
            placeholder = "Phần cần viết: " + " ".join(section.points)
        elif not lines and _is_leaf(outline, i):
            placeholder = "Phần cần viết."
        out.append({"heading": section.heading, "level": section.level, "sentences": lines,
                    "placeholder": placeholder, "notes": gathered})
    return out


def report_context(result: ConsolidationResult, *, place: str = "") -> dict[str, Any]:
    """Everything a report template reads (see :data:`TEMPLATE_NAMES`)."""
    campaign, office, parent = result.campaign, result.office, result.office_parent
    as_of = result.generated_at.strftime("%d/%m/%Y")
    accepted = sum(1 for u in result.expected if result.status_of(u.code) == "accepted")
    intro = (f"Thực hiện {_document_kind(campaign.document_number)} số "
             f"{campaign.document_number}, ngày {campaign.document_date:%d/%m/%Y} của "
             f"{campaign.issuer} về việc {campaign.title[:1].lower()}{campaign.title[1:]}, "
             f"Ban Thường vụ {office.name} báo cáo kết quả như sau (số liệu tổng hợp từ báo "
             f"cáo của {accepted}/{len(result.expected)} {unit_word(result)}, tính đến ngày "
             f"{as_of}):")
    recipients = []
    if parent is not None:
        recipients.append(f"Ban Thường vụ {parent.name} (b/c);")
    if campaign.return_to and office.name not in campaign.return_to:
        recipients.append(f"{campaign.return_to} (b/c);")
    recipients.append("Lưu VP.")
    return {
        "heading": {
            "superior": body_name(parent).upper() if parent is not None else "",
            "issuer": body_name(office).upper(),
            "number": f"Số:       -{number_symbol(office)}",
            "place_date": f"{place or DOTS}, {BLANK_DATE}",
        },
        "title": "BÁO CÁO",
        "subject": campaign.title,
        "intro": intro,
        "as_of": as_of,
        "sections": section_entries(result),
        "recipients": recipients,
        "signer": {"for_line": f"TM. {standing_committee(office)}", "title": "BÍ THƯ",
                   "name": DOTS},
        "office": office.name,
        "campaign": {"id": campaign.id, "title": campaign.title,
                     "document_number": campaign.document_number, "period": campaign.period},
    }
