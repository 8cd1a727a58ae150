"""A plan → a proposed campaign: the campaign mapping and one mapping per form, in exactly
the shapes the YAML spec files hold, plus the questions the clerk must answer and notes of
what was inferred. Pure (pyxform's ``convert()``): a :class:`~toolkit.author.plan.Plan` in,
data out; :meth:`Proposal.files` gives the YAML texts, the caller writes them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.author.infer import infer_form
from toolkit.author.infer_campaign import CampaignFacts, OutlineItem, infer_campaign
from toolkit.author.infer_notes import Findings, Note, Question
from toolkit.author.infer_table import Caption, caption_of
from toolkit.author.infer_text import ascii_fold, norm, sentence_case, words
from toolkit.author.plan import Plan
from toolkit.author.spec_files import campaign_files
from toolkit.spec.campaign import Campaign
from toolkit.spec.load import campaign_from_data
from toolkit.spec.outline import STATUS_REF
from toolkit.spec.text import nfc

TEMPLATE_VERSION = "1"
INSTRUCTIONS = (
    "Chỉ nhập số liệu vào các ô nền vàng; các ô khác đã được khóa.",
    "Ô số chỉ nhập số (không nhập chữ, không nhập đơn vị như \"người\", \"cuộc\"); để trống "
    "nếu không có số liệu, nhập 0 nếu số liệu bằng 0.",
    "Không đổi tên, thêm, xóa trang tính, dòng hoặc cột; không sao chép biểu sang tệp khác.",
    "Lưu tệp dưới dạng .xlsx (hoặc .ods) và gửi lại nguyên tệp này, không cần đổi tên tệp.",
)
RATE_INSTRUCTION = ("Tỷ lệ (%) được tính tự động từ tử số và mẫu số; không nhập tỷ lệ bằng "
                    "tay.")


@dataclass
class Proposal:
    """A proposed campaign. ``campaign`` and ``forms`` are what ``campaign.yaml`` and the
    form files hold (``campaign["forms"]`` names those files); ``questions`` must be answered
    before the campaign is used; ``notes`` say what was inferred and from where."""

    campaign: dict[str, Any]
    forms: list[dict[str, Any]]
    questions: list[Question] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    issuer_lines: tuple[str, ...] = ()
    outline: tuple[OutlineItem, ...] = ()
    source: str = ""

    def files(self) -> dict[str, str]:
        """File name → YAML text (``campaign.yaml`` first), the open questions as comments
        at the top of ``campaign.yaml``."""
        lines = [f"Đề xuất tự động từ kế hoạch «{self.source}»; hãy kiểm tra trước khi dùng."]
        if self.questions:
            lines.append("Câu hỏi cần trả lời:")
            lines.extend(f"- [{q.form or 'chiến dịch'}] {q.text}" for q in self.questions)
        return campaign_files(self.campaign, self.forms, note="\n".join(lines))

    def question_rows(self) -> list[dict[str, str]]:
        """The questions as rows of the campaign workbook's «Câu hỏi» sheet
        (:func:`toolkit.author.workbook.workbook_bytes` takes them as they are)."""
        return [{"form": q.form, "column": q.column, "question": q.text}
                for q in self.questions]

    def to_campaign(self) -> Campaign:
        """The proposal checked and built by the spec loader (a :class:`SpecError` names
        what is wrong), without writing any file."""
        return campaign_from_data(self.campaign, self.forms, Path(self.source or "plan") /
                                  "campaign.yaml")


def propose(plan: Plan) -> Proposal:
    """Infer a campaign from a plan: one form per appendix table, the campaign from the
    text. Everything undecided is a question; nothing is silently guessed."""
    found = Findings()
    chosen = _appendix_tables(plan, found)
    forms = [infer_form(table, caption, found) for table, caption in chosen]
    facts = infer_campaign(plan, found)
    campaign = _campaign(plan, facts, forms, found)
    return Proposal(
        campaign=_nfc(campaign),
        forms=[_nfc(f) for f in forms],
        questions=[Question(q.form, q.column, nfc(q.text)) for q in found.questions],
        notes=[Note(n.form, n.column, nfc(n.text), n.kind) for n in found.notes],
        issuer_lines=tuple(facts.issuer_lines),
        outline=tuple(facts.outline),
        source=plan.filename,
    )


def _appendix_tables(plan: Plan, found: Findings) -> list[tuple[Any, Caption]]:
    """Tables captioned «Phụ lục …»/«Biểu …»/«Mẫu …»; when no table has such a caption,
    every table that is not a heading or signature block."""
    tables = plan.data_tables
    captions = [caption_of(t, i) for i, t in enumerate(tables, 1)]
    any_marked = any(c is not None for c in captions)
    chosen: list[tuple[Any, Caption]] = []
    ids: set[str] = set()
    for i, (table, caption) in enumerate(zip(tables, captions, strict=True), 1):
        if caption is None:
            if any_marked:
                found.ask("", "", f"{table.where()} không có tiêu đề «Phụ lục …»/«Biểu …»: đây "
                          "có phải là một biểu cần báo cáo không? (chưa đưa vào đề xuất)")
                continue
            title = sentence_case(norm(table.caption[-1])) if table.caption else ""
            caption = Caption(f"B{i}", f"Bảng {table.number}", title or f"Bảng {table.number}")
            found.ask(caption.form_id, "", f"{table.where()} không có tiêu đề «Phụ lục …»: tên "
                      f"biểu là gì? (tạm đặt «{caption.title}»)")
        form_id, n = caption.form_id, 2
        while form_id in ids:
            form_id, n = f"{caption.form_id}_{n}", n + 1
        ids.add(form_id)
        chosen.append((table, Caption(form_id, caption.number, caption.title)))
    return chosen


def _file_names(forms: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for form in forms:
        base = str(form["id"]).lower()
        name, n = f"{base}.yaml", 2
        while name in names:
            name, n = f"{base}-{n}.yaml", n + 1
        names.append(name)
    return names


def _campaign(plan: Plan, facts: CampaignFacts, forms: list[dict[str, Any]],
              found: Findings) -> dict[str, Any]:
    day = facts.document_date
    if day is None:
        day = plan.created or min(facts.deadlines.values(), default=None) or dt.date(2000, 1, 1)
        found.note("", "", f"Tạm lấy ngày ban hành {day:%d/%m/%Y} (ngày tạo tệp hoặc hạn nộp sớm "
                   "nhất) cho đến khi được trả lời.", kind="campaign")
    years = sorted({int(r) for f in forms for r in f.get("rows", [])
                    if isinstance(r, str) and re.fullmatch(r"(19|20)\d{2}", r)})
    period = f"{years[0]} - {years[-1]}" if len(years) > 1 else facts.period
    if period:
        source = "các năm của biểu" if len(years) > 1 else "tên kế hoạch"
        found.note("", "", f"Kỳ báo cáo {period} (theo {source}).", kind="campaign")
    number_words = words(facts.document_number)
    ident = "-".join(number_words) if number_words else "-".join(words(facts.title)[:4])
    ident = (ident or "ke-hoach") + f"-{day.year}"
    instructions = list(INSTRUCTIONS)
    if any(c.get("aggregate") == "ratio" for f in forms for c in f.get("columns", [])):
        instructions.insert(2, RATE_INSTRUCTION)
    campaign: dict[str, Any] = {
        "id": ident,
        "title": facts.title or _fallback_title(plan, forms),
        "issuer": facts.issuer,
        "document_number": facts.document_number,
        "document_date": day,
        "period": period,
        "template_version": TEMPLATE_VERSION,
        "deadlines": dict(facts.deadlines),
        "return_to": facts.return_to,
        "instructions": instructions,
        "forms": _file_names(forms),
    }
    if facts.outline:
        campaign["outline"] = outline_data(facts.outline)
    if ascii_fold(facts.document_type) not in ("", "ke hoach", "huong dan"):
        found.note("", "", f"Loại văn bản: {facts.document_type}.", kind="campaign")
    return campaign


def outline_data(items: Sequence[OutlineItem]) -> list[dict[str, Any]]:
    """The plan's ĐỀ CƯƠNG as the campaign's report outline (toolkit.spec.outline): each
    heading as the plan numbers it, its points as guidance; the reporting status is stated
    under the first heading. Which figures go under which heading the clerk adds on the
    workbook's «Đề cương» sheet."""
    out: list[dict[str, Any]] = []
    for item in items:
        heading = (f"* {item.title}" if item.level == 4 else
                   f"{item.number}. {item.title}" if item.number else item.title)
        section: dict[str, Any] = {"heading": heading.strip()}
        if item.level != 1:
            section["level"] = min(max(item.level, 1), 4)
        if item.points:
            section["points"] = list(item.points)
        out.append(section)
    if out:
        out[0]["figures"] = [STATUS_REF]
    return out


def _fallback_title(plan: Plan, forms: list[dict[str, Any]]) -> str:
    """No title in the text: the file's name when it says something, else the first
    form's title (the clerk is asked either way)."""
    stem = norm(re.sub(r"[_\-.]+", " ", Path(plan.filename).stem))
    if len(words(stem)) >= 3:
        return sentence_case(stem)
    return str(forms[0]["title"]) if forms else stem


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


__all__ = ["Note", "OutlineItem", "Proposal", "Question", "propose"]
