"""The campaign a plan's text defines: heading block (issuer lines, «Số: …», place and date),
title, deadlines per level, where to return, and the report outline (ĐỀ CƯƠNG BÁO CÁO).

Deadlines are read the way a clerk reads them. A date counts only after a deadline word
(«trước ngày», «chậm nhất ngày», «hạn chót», «Ngày 20/02/2020: Hạn chót …»). Its level comes
from the line's own «Cấp cơ sở:» if it has one, else from the words of its sentence (not
the destination «gửi về BTV Huyện Đoàn», not a name «Nghị quyết Đại hội Đoàn cấp huyện»),
else from the section it sits in («2. Các cơ sở Đoàn»). When a level has both a date to
finish its review and a date to send its report, the sending date is the deadline: that is
the date the office's inbox waits for.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field

from toolkit.author.infer_notes import Findings
from toolkit.author.infer_text import (
    DATE,
    ascii_fold,
    norm,
    title_case_body,
    to_date,
    vn_date,
)
from toolkit.author.plan import Paragraph, Plan
from toolkit.spec.levels import LEVELS, TABLE, name_of, rank

DOC_TYPES = ("ke hoach", "huong dan", "cong van", "thong bao", "chuong trinh", "quyet dinh",
             "chi thi", "nghi quyet", "bao cao")
# the levels, lowest first (a plan lists the base units' deadline first): one table
_BOTTOM_UP = tuple(reversed(TABLE))
_LEVEL_RE = [(level.key, re.compile(level.plan_words, re.IGNORECASE)) for level in _BOTTOM_UP
             if level.plan_words]
# a level word inside a name: «Nghị quyết Đại hội Đoàn cấp huyện», «BTV Huyện Đoàn»
_NAME_BEFORE = re.compile(r"(đại hội|nghị quyết|ban chấp hành|bch|btv|ban thường vụ|thường "
                          r"trực|của|văn phòng|ban [a-zà-ỹđ]+)(\s+đoàn)?\s*$", re.IGNORECASE)
_EXPLICIT = re.compile(r"^\W*(?:\d+(?:\.\d+)*[.)]?\s*)?(?:đối với\s+)?(cấp\s+(?:"
                       + "|".join(level.name.removeprefix("cấp ") for level in _BOTTOM_UP)
                       + r"|xã[^:]*)(?:\s*\(?và tương đương\)?)?)\s*:", re.IGNORECASE)
_CUE = (r"(?:trước|chậm nhất|muộn nhất|hạn chót|hạn cuối|không quá|không muộn hơn)"
        r"(?:\s+(?:là|vào))?(?:\s+\d{1,2}\s*(?:g|h|giờ)\s*\d{0,2}(?:\s*phút)?)?\s*,?\s*"
        r"(?:ngày\s*)?")
_CUED = re.compile(_CUE + f"(?P<date>{DATE})", re.IGNORECASE)
_LEADING = re.compile(r"^\W*(?:từ\s+ngày\s+\d{1,2}(?:/\d{1,2})?\s*(?:-|–|đến)\s*)?(?:ngày|hạn)?"
                      f"\\s*(?P<date>{DATE})\\s*:(?P<rest>.*)$", re.IGNORECASE)
_SENDING = re.compile(r"\b(gửi|gởi|nộp|chuyển về|báo cáo (?:kết quả )?về)\b", re.IGNORECASE)
_DEST = re.compile(r"\bvề\s+((?:Văn phòng|Ban|BTV|BCH|Thường trực|Trung ương|Huyện|Tỉnh|"
                   r"Thành|Quận|Thị|Đoàn|Hội|Bộ phận|Phòng|VP)[^,;.()]*?)\s*(?=trước|chậm nhất|"
                   r"muộn nhất|hạn|qua|theo|trong|bằng|để|,|;|\.|\(|$)")
_SEPARATOR = re.compile(r"^[-–—_*=~.·\s]{3,}$")
_BODY_START = re.compile(r"^(thực hiện|căn cứ|để|nhằm|ban thường vụ|btv|trên cơ sở|theo)\b",
                         re.IGNORECASE)
# «Số: 161-KH/ĐTN», «Số: 40 - KH/ĐTN», «Số:81-KH/ĐTN», «Số: 125  -KH/TĐTN-BTCKT» (the number
# may share its line with the place and date)
_NUMBER = re.compile(r"\bSố\s*[:.]?\s*(\d+[a-z]?\s*[-–/]\s*[A-ZĐ]+(?:\s*[/\-–]\s*[A-ZĐ0-9]+)*)")
_PLACE_DATE = re.compile(r"([^,]*?)\s*,\s*ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})")
_SECTION = re.compile(r"^\s*(?:[IVX]+[./]|\d+(?:\.\d+)*[./)]?|[a-zđ]\))\s+\S")
_BULLET = re.compile(r"^\s*[-+•·*]")
_OUTLINE_ROMAN = re.compile(r"^\s*([IVX]+)\s*[./]\s*(.+)$")
_OUTLINE_SUB = re.compile(r"^\s*(\d+\.\d+(?:\.\d+)*)\.?\s+(.+)$")
_OUTLINE_NUM = re.compile(r"^\s*(\d+)\s*[./)]\s+(.+)$")
_OUTLINE_STAR = re.compile(r"^\s*\*\s*\.?\s*(.+)$")
_APPENDIX = re.compile(r"^\s*(phụ\s*lục|biểu|mẫu\s*số|đơn\s*vị\s*[.…:_])", re.IGNORECASE)
_PERIOD = re.compile(r"(?:giai đoạn|nhiệm kỳ|từ năm)\s+(\d{4})\s*[-–]\s*(\d{4})", re.IGNORECASE)
_CITED = re.compile(r"số\s+([\w\-/]+)\s*,?\s*ngày\s*(?P<date>" + DATE + ")", re.IGNORECASE)
_MOTTO = ("doan tncs ho chi minh", "cong hoa xa hoi", "doc lap", "dang cong san")


@dataclass(frozen=True)
class OutlineItem:
    """One heading of the report outline (ĐỀ CƯƠNG BÁO CÁO): ``I`` / ``2`` / ``2.1`` at
    levels 1 / 2 / 3 («*» sub-headings at 4), with the bullet points under it."""

    number: str
    title: str
    level: int
    points: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deadline:
    """A dated obligation found in the text."""

    level: str | None
    date: dt.date
    sending: bool  # a date to send (gửi, nộp) rather than to finish the review
    text: str
    destination: str = ""


@dataclass
class CampaignFacts:
    issuer_lines: list[str] = field(default_factory=list)
    issuer: str = ""
    document_type: str = ""
    document_number: str = ""
    place: str = ""
    document_date: dt.date | None = None
    title: str = ""
    deadlines: dict[str, dt.date] = field(default_factory=dict)
    found_deadlines: list[Deadline] = field(default_factory=list)
    return_to: str = ""
    outline: list[OutlineItem] = field(default_factory=list)
    period: str = ""


def _texts(plan: Plan) -> list[Paragraph]:
    return [p for p in plan.paragraphs if p.text]


def read_heading(paragraphs: list[Paragraph], facts: CampaignFacts) -> int:
    """Fill the heading facts; return the index of the first paragraph after the title."""
    kind_at = next((i for i, p in enumerate(paragraphs[:40])
                    if ascii_fold(p.text) in DOC_TYPES), None)
    if kind_at is not None:
        heading = paragraphs[:kind_at]
    else:  # no «KẾ HOẠCH» line: the heading ends where the captions or the body begin
        end = next((i for i, p in enumerate(paragraphs[:12]) if _APPENDIX.match(p.text)
                    or _BODY_START.match(p.text) or len(p.text) > 250), min(12, len(paragraphs)))
        heading = paragraphs[:end]
    for p in heading:
        text = p.text.strip()
        if "…" in text or "...." in text:
            continue  # a line to fill in («ĐƠN VỊ…………»), not the issuer
        number = _NUMBER.search(text)
        if number and not facts.document_number:
            facts.document_number = re.sub(r"\s*([-–/])\s*", r"\1", norm(number.group(1)))
        place = _PLACE_DATE.search(text)
        if place and facts.document_date is None:
            facts.place = _place(place.group(1))
            with contextlib.suppress(ValueError):
                facts.document_date = dt.date(int(place.group(4)), int(place.group(3)),
                                              int(place.group(2)))
        if number or place:
            continue
        letters = [ch for ch in text if ch.isalpha()]
        if (letters and not any(ch.islower() for ch in letters)
                and not any(ascii_fold(text).startswith(m) for m in _MOTTO)):
            facts.issuer_lines.append(norm(text))
    if facts.issuer_lines:
        facts.issuer = title_case_body(facts.issuer_lines[-1])
    if kind_at is None:
        return 0
    facts.document_type = norm(paragraphs[kind_at].text)
    title: list[str] = []
    end = kind_at + 1
    for p in paragraphs[kind_at + 1:kind_at + 8]:
        end += 1
        if _SEPARATOR.match(p.text):
            break
        if _BODY_START.match(p.text) or len(p.text) > 250 or _SECTION.match(p.text):
            end -= 1
            break
        title.append(p.text)
    facts.title = norm(" ".join(title))
    return end


def _place(before: str) -> str:
    """The place name just before «, ngày …»: the capitalised words at the end («Thọ
    Xuân», «TP. Hồ Chí Minh»), not a document number sharing the line."""
    picked: list[str] = []
    for token in reversed(before.split()):
        if len(picked) == 4 or not token[:1].isupper() or not (
                any(ch.islower() for ch in token) or token in ("TP.", "TX.")):
            break
        picked.append(token)
    return " ".join(reversed(picked))


def _level_in(text: str) -> str | None:
    """The first level named in ``text``, ignoring names (Đại hội Đoàn cấp huyện, BTV
    Huyện Đoàn) and the destination after «về»."""
    best: tuple[int, str] | None = None
    for level, pattern in _LEVEL_RE:
        for m in pattern.finditer(text):
            if _NAME_BEFORE.search(text[max(0, m.start() - 40):m.start()]):
                continue
            if best is None or m.start() < best[0]:
                best = (m.start(), level)
            break
    return best[1] if best else None


def _explicit_level(text: str) -> str | None:
    m = _EXPLICIT.match(text)
    if m is None:
        return None
    return _level_in(m.group(1)) or ("co_so" if "xã" in m.group(1).lower() else None)


def _without_destination(text: str) -> str:
    return _DEST.sub(" ", text)


def _clause(text: str, at: int) -> str:
    start = max(text.rfind(";", 0, at), text.rfind(". ", 0, at))
    end_candidates = [i for i in (text.find(";", at), text.find(". ", at)) if i != -1]
    end = min(end_candidates) if end_candidates else len(text)
    return text[start + 1:end].strip()


def find_deadlines(paragraphs: list[Paragraph], year: int | None) -> list[Deadline]:
    """Every deadline in the body, with its level (None when the text does not say)."""
    out: list[Deadline] = []
    section: str | None = None
    for p in paragraphs:
        text = p.text
        explicit = _explicit_level(text)
        is_heading = bool(_SECTION.match(text)) and len(text) < 120 and not _CUED.search(text)
        if is_heading or (explicit and len(text) < 60):
            section = explicit or _level_in(text)
            if is_heading and not explicit and re.match(r"^\s*[IVX]+[./]", text):
                section = _level_in(text)
        hits: list[tuple[int, re.Match[str], str]] = []
        for m in _CUED.finditer(text):
            hits.append((m.start("date"), m, _clause(text, m.start())))
        leading = _LEADING.match(text)
        if leading and re.search(r"hạn chót|hạn cuối|gửi|gởi|nộp", leading.group("rest"),
                                 re.IGNORECASE):
            hits.append((leading.start("date"), leading, leading.group("rest")))
        for _, m, clause in hits:
            date = _parse(m.group("date"), year)
            if date is None:
                continue
            sending = bool(_SENDING.search(clause)) or bool(_DEST.search(clause))
            level = explicit or _level_in(_without_destination(clause))
            if level is None:
                level = section if (_BULLET.match(text) or _SECTION.match(text)) else (
                    _level_in(_without_destination(text)) or section)
            dest = _DEST.search(clause)
            out.append(Deadline(level, date, sending, norm(clause),
                                norm(dest.group(1)) if dest else ""))
    return out


def _parse(text: str, year: int | None) -> dt.date | None:
    m = re.match(DATE, text)
    return to_date(m, default_year=year) if m else None


def choose_deadlines(found: list[Deadline]) -> dict[str, dt.date]:
    """Per level: the earliest sending date, else the earliest date to finish."""
    out: dict[str, dt.date] = {}
    for level in LEVELS:
        mine = [d for d in found if d.level == level]
        sending = [d.date for d in mine if d.sending]
        pick = min(sending) if sending else min((d.date for d in mine), default=None)
        if pick is not None:
            out[level] = pick
    return {k.key: out[k.key] for k in _BOTTOM_UP if k.key in out}


def read_outline(paragraphs: list[Paragraph]) -> list[OutlineItem]:
    """The headings of the ĐỀ CƯƠNG BÁO CÁO section, kept for the Word report."""
    start = next((i for i, p in enumerate(paragraphs)
                  if ascii_fold(p.text).startswith("de cuong bao cao")), None)
    if start is None:
        return []
    items: list[OutlineItem] = []
    points: list[str] = []
    begun = False
    for p in paragraphs[start + 1:]:
        text = p.text.strip()
        if p.table or _APPENDIX.match(text):
            break
        m = _OUTLINE_ROMAN.match(text)
        level, number, title = (1, m.group(1), m.group(2)) if m else (0, "", "")
        if not m and (m := _OUTLINE_SUB.match(text)):
            level, number, title = m.group(1).count(".") + 2, m.group(1), m.group(2)
        elif not level and (m := _OUTLINE_NUM.match(text)):
            level, number, title = 2, m.group(1), m.group(2)
        elif not level and begun and (m := _OUTLINE_STAR.match(text)):
            level, number, title = 4, "", m.group(1)
        if level == 1:
            begun = True
        if not begun:
            continue  # the outline's own title lines
        if level:
            if items:
                items[-1] = OutlineItem(items[-1].number, items[-1].title, items[-1].level,
                                        tuple(points))
            items.append(OutlineItem(number, norm(title), level))
            points = []
        else:
            points.append(norm(re.sub(r"^\s*[-+•·]\s*", "", text)))
    if items:
        items[-1] = OutlineItem(items[-1].number, items[-1].title, items[-1].level,
                                tuple(points))
    return items


def _body_end(plan: Plan, paragraphs: list[Paragraph]) -> int:
    """Deadlines are looked for before the outline and the appendices."""
    for i, p in enumerate(paragraphs):
        if ascii_fold(p.text).startswith("de cuong bao cao") or (
                _APPENDIX.match(p.text) and i > 0 and p.text.lower().startswith("phụ lục")):
            return i
    return len(paragraphs)


def infer_campaign(plan: Plan, found: Findings) -> CampaignFacts:
    """What the plan's text says about the campaign; doubts become questions."""
    facts = CampaignFacts()
    paragraphs = _texts(plan)
    body_at = read_heading(paragraphs, facts)
    year = facts.document_date.year if facts.document_date else None
    body = paragraphs[body_at:_body_end(plan, paragraphs)]
    facts.found_deadlines = find_deadlines(body, year)
    facts.deadlines = choose_deadlines(facts.found_deadlines)
    facts.outline = read_outline(paragraphs)
    _report_heading(facts, found)
    _report_deadlines(facts, found)
    _return_to(facts, paragraphs, found)
    _check_date(facts, paragraphs, found)
    m = _PERIOD.search(facts.title)
    if m:
        facts.period = f"{m.group(1)} - {m.group(2)}"
    return facts


def _report_heading(facts: CampaignFacts, found: Findings) -> None:
    if facts.issuer_lines:
        found.note("", "", f"Cơ quan ban hành (phần đầu): {' / '.join(facts.issuer_lines)}; "
                   f"đề xuất «{facts.issuer}».", kind="campaign")
    else:
        found.ask("", "", "Không thấy tên cơ quan ban hành ở phần đầu kế hoạch (ví dụ «BCH "
                  "ĐOÀN HUYỆN …»): cơ quan nào ban hành?")
    if facts.document_number:
        found.note("", "", f"Số văn bản: {facts.document_number}.", kind="campaign")
    else:
        found.ask("", "", "Không thấy số văn bản («Số: …-KH/…»): số kế hoạch là gì?")
    if facts.document_date is not None:
        found.note("", "", f"Ngày ban hành: {vn_date(facts.document_date)} (dòng «{facts.place},"
                   f" ngày … tháng … năm …»).", kind="campaign")
    if not facts.title:
        found.ask("", "", "Không thấy tên kế hoạch (các dòng dưới «KẾ HOẠCH»/«HƯỚNG DẪN»): tên "
                  "đợt báo cáo là gì?")
    if facts.outline:
        found.note("", "", f"Đề cương báo cáo: {len(facts.outline)} mục (giữ lại để soạn báo "
                   "cáo Word).", kind="outline")


def _report_deadlines(facts: CampaignFacts, found: Findings) -> None:
    for d in facts.found_deadlines:
        what = "gửi báo cáo" if d.sending else "hoàn thành"
        if d.level is None:
            if d.sending:
                found.ask("", "", f"Hạn {vn_date(d.date)} («{d.text[:120]}») là hạn gửi của "
                          "cấp nào (cơ sở, huyện, tỉnh)?")
            else:
                found.note("", "", f"Ngày {vn_date(d.date)} («{d.text[:80]}») không rõ của "
                           "cấp nào: không dùng làm hạn nộp.", kind="deadline")
            continue
        level_sends = any(x.sending for x in facts.found_deadlines if x.level == d.level)
        chosen = facts.deadlines.get(d.level) == d.date and (d.sending or not level_sends)
        quoted = d.text if len(d.text) <= 120 else "…" + d.text[-110:]
        found.note("", d.level, f"{name_of(d.level).capitalize()}: hạn {what} "
                   f"{vn_date(d.date)} («{quoted}»)"
                   + (" — dùng làm hạn nộp." if chosen else "."), kind="deadline")
    if not facts.deadlines:
        found.ask("", "", "Không thấy hạn nộp trong kế hoạch («trước ngày …», «chậm nhất ngày "
                  "…»): hạn nộp của từng cấp là ngày nào?")
    elif "co_so" not in facts.deadlines:
        found.ask("", "co_so", "Kế hoạch không ghi hạn nộp của cấp cơ sở: hạn là ngày nào?")


def _return_to(facts: CampaignFacts, paragraphs: list[Paragraph], found: Findings) -> None:
    sends = [d for d in facts.found_deadlines if d.sending and d.destination]
    sends.sort(key=lambda d: (len(LEVELS) - rank(d.level) if d.level else 9, d.date))
    dest = sends[0].destination if sends else ""
    if not dest:
        for p in paragraphs:
            if _SENDING.search(p.text) and (m := _DEST.search(p.text)):
                dest = norm(m.group(1))
                break
    if not dest:
        found.ask("", "", "Không thấy nơi nhận báo cáo («gửi về …»): báo cáo gửi về đâu?")
        return
    level = re.search(r"(huyện|tỉnh|thành|quận|thị) đoàn$", dest, re.IGNORECASE)
    issuer = ascii_fold(facts.issuer_lines[-1]) if facts.issuer_lines else ""
    if (level and facts.place and ascii_fold(facts.place) in issuer
            and f"doan {ascii_fold(level.group(1))}" in issuer):
        dest = f"{dest} {facts.place}"  # «Văn phòng Huyện đoàn» of the issuing district
    facts.return_to = dest
    found.note("", "", f"Nơi nhận báo cáo: {dest}.", kind="campaign")


def _check_date(facts: CampaignFacts, paragraphs: list[Paragraph], found: Findings) -> None:
    """A heading date that the plan itself contradicts becomes a question (seed 002 is
    dated 06/01/2020 in its heading and 06/01/2021 in its attachment)."""
    day = facts.document_date
    if day is None:
        found.ask("", "", "Không thấy ngày ban hành («…, ngày … tháng … năm …»): kế hoạch ban "
                  "hành ngày nào?")
        return
    evidence: list[str] = []
    own = re.sub(r"\W", "", ascii_fold(facts.document_number))
    for p in paragraphs:
        for m in _CITED.finditer(p.text):
            cited = _parse(m.group("date"), None)
            if cited is None or cited == day:
                continue
            if own and re.sub(r"\W", "", ascii_fold(m.group(1))) == own:
                evidence.append(f"chính kế hoạch được ghi «số {m.group(1)}, ngày "
                                f"{vn_date(cited)}»")
            elif cited > day and _BODY_START.match(p.text):
                evidence.append(f"kế hoạch thực hiện văn bản số {m.group(1)} ngày "
                                f"{vn_date(cited)}, sau ngày ban hành")
    late = [d for d in facts.deadlines.values() if (d - day).days > 300]
    if late:
        evidence.append("hạn nộp " + ", ".join(vn_date(d) for d in late)
                        + " cách ngày ban hành gần một năm trở lên")
    early = [d for d in facts.deadlines.values() if d < day]
    if early:
        evidence.append("hạn nộp " + ", ".join(vn_date(d) for d in early)
                        + " trước ngày ban hành")
    if evidence:
        found.ask("", "", f"Ngày ban hành ở phần đầu kế hoạch là {vn_date(day)}, nhưng "
                  + "; ".join(dict.fromkeys(evidence))
                  + ". Ngày ban hành đúng là ngày nào? (đề xuất đang giữ ngày ở phần đầu)")

