"""Rendering the report: a ``.docx`` template with Jinja tags (docxtpl) filled with
:func:`~toolkit.report.word.context.report_context`, then the appendices added.

An office's template is its own file, edited in Word: it is rendered in Jinja's sandbox
with undefined names refused (a misspelt ``{{ tieu_de }}`` must not silently print nothing),
and a broken one is a :class:`ReportTemplateError` naming the tag and its paragraph, before
anything is written.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import jinja2
from docx import Document
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2.sandbox import SandboxedEnvironment

from toolkit.report.word.appendix import add_appendices
from toolkit.report.word.context import body_name, number_symbol, report_context
from toolkit.report.word.template import builtin_template
from toolkit.spec.models import ConsolidationResult

CAMPAIGN_TEMPLATE = "bao-cao.docx"  # an optional template beside a campaign's spec
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{\{.*|\{%.*")
_DOCXTPL_PREFIX = re.compile(r"^\{([{%])(?:p|tr|tc|r)\s")
_BLOCK_ONLY = ("unexpected end of template", "unknown tag 'endfor'", "unknown tag 'endif'",
               "unknown tag 'else'", "unknown tag 'elif'")


class ReportTemplateError(Exception):
    """The report template cannot be used (Vietnamese message naming tag and paragraph)."""


def report_name(result: ConsolidationResult) -> str:
    """``bao-cao_<campaign>_<office>.docx``."""
    return f"bao-cao_{result.campaign.id}_{result.office.code}.docx"


def campaign_template(result: ConsolidationResult) -> bytes:
    """The template beside the campaign's spec when there is one, else the built-in."""
    beside = Path(result.campaign.source).parent / CAMPAIGN_TEMPLATE
    return beside.read_bytes() if result.campaign.source and beside.is_file() else \
        builtin_template()


def _paragraph_texts(data: bytes) -> Iterator[tuple[str, str]]:
    """(where, text) of every paragraph of the template's body, headers and footers, in
    order: ``đoạn 12`` counts paragraphs as Word shows them, tables included."""
    doc = Document(io.BytesIO(data))
    parts = [("", doc.element.body)]
    for section in doc.sections:
        for hf, label in ((section.header, "đầu trang"), (section.first_page_header,
                                                          "đầu trang đầu"),
                          (section.footer, "chân trang")):
            if not hf.is_linked_to_previous:
                parts.append((label, hf._element))
    for label, element in parts:
        for n, p in enumerate(element.iter(qn("w:p")), start=1):
            text = "".join(t.text or "" for t in p.iter(qn("w:t")))
            yield (f"{label} đoạn {n}" if label else f"đoạn {n}"), text


def _tag_problem(env: jinja2.Environment, tag: str) -> str | None:
    """Why one tag alone does not parse; None when it parses, or only misses the other half
    of its block (``{% for %}`` without its ``{% endfor %}`` in the same paragraph)."""
    source = _DOCXTPL_PREFIX.sub(lambda m: "{" + m[1] + " ", tag)
    try:
        env.compile(source)
    except jinja2.TemplateSyntaxError as exc:
        message = str(exc.message or exc)
        if source.startswith("{%") and source.rstrip().endswith("%}") and any(
                b in message.lower() for b in _BLOCK_ONLY):
            return None
        return message
    return None


def _locate(data: bytes, env: jinja2.Environment, exc: Exception) -> str:
    """The Vietnamese sentence naming the broken tag and its paragraph."""
    name = None
    if isinstance(exc, jinja2.UndefinedError):
        m = re.search(r"'([^']+)' (?:is undefined|has no attribute '([^']+)')", str(exc))
        name = (m[2] or m[1]) if m else None
    for where, text in _paragraph_texts(data):
        for tag in _TAG.findall(text):
            if isinstance(exc, jinja2.UndefinedError):
                if name and re.search(rf"\b{re.escape(name)}\b", tag):
                    return (f"thẻ «{tag}» ở {where} («{_clip(text)}») dùng tên «{name}» không "
                            f"có trong dữ liệu báo cáo")
            else:
                problem = _tag_problem(env, tag)
                if problem:
                    return (f"thẻ «{_clip(tag)}» ở {where} («{_clip(text)}») viết sai: "
                            f"{_vietnamese(problem)}")
    if isinstance(exc, jinja2.TemplateSyntaxError) and "end" in str(exc.message or ""):
        # a block left open: name the last opener of the kind Jinja was waiting to close
        kind = "for" if "endfor" in str(exc.message) else "if"
        openers = [(where, m[0], text) for where, text in _paragraph_texts(data)
                   for m in re.finditer(r"\{%p?\s*" + kind + r"\b[^%]*%\}", text)]
        if openers:
            where, tag, text = openers[-1]
            return (f"khối «{tag}» ở {where} («{_clip(text)}») không được đóng lại "
                    f"(thiếu {{%p end{kind} %}})")
    return f"thẻ Jinja viết sai: {_vietnamese(str(exc))}"


_PROBLEMS = (
    (re.compile(r"unexpected end of template.*|unexpected '}'.*|expected token 'end of "
                r"print statement'.*", re.I), "thẻ chưa được đóng đúng ({{ … }} hoặc {% … %})"),
    (re.compile(r"no filter named '([^']+)'.*", re.I), "không có bộ lọc «{0}»"),
    (re.compile(r"no test named '([^']+)'.*", re.I), "không có phép thử «{0}»"),
    (re.compile(r"encountered unknown tag '([^']+)'.*", re.I), "không có thẻ «{0}»"),
    (re.compile(r"expected token '([^']+)', got '([^']+)'.*", re.I),
     "cần «{0}» nhưng gặp «{1}»"),
)


def _vietnamese(problem: str) -> str:
    """Jinja's reason in the clerk's words (its own text kept for anything else)."""
    for pattern, words in _PROBLEMS:
        m = pattern.fullmatch(problem.strip())
        if m:
            for i, group in enumerate(m.groups()):
                words = words.replace(f"{{{i}}}", group)
            return words
    return f"cú pháp không đúng ({problem})"


def _clip(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_template(data: bytes) -> None:
    """Refuse a broken template before any work is done: every tag must parse and every
    name it reads must be one of :data:`~toolkit.report.word.context.TEMPLATE_NAMES`."""
    from toolkit.report.word.context import TEMPLATE_NAMES

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    try:
        names = DocxTemplate(io.BytesIO(data)).get_undeclared_template_variables(env)
    except jinja2.TemplateError as exc:
        raise ReportTemplateError(f"Mẫu báo cáo không dùng được: "
                                  f"{_locate(data, env, exc)}") from None
    except (zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise ReportTemplateError(f"Mẫu báo cáo không dùng được: tệp không phải .docx "
                                  f"hợp lệ ({type(exc).__name__})") from None
    unknown = sorted(set(names) - set(TEMPLATE_NAMES))
    if unknown:
        undefined = jinja2.UndefinedError(f"'{unknown[0]}' is undefined")
        raise ReportTemplateError(f"Mẫu báo cáo không dùng được: "
                                  f"{_locate(data, env, undefined)}")


def render(result: ConsolidationResult, template: bytes | None = None, *,
           place: str = "") -> bytes:
    """The report of ``result`` as ``.docx`` bytes: ``template`` (an office's own), else the
    campaign's, else the built-in; a broken template raises :class:`ReportTemplateError`."""
    data = template if template is not None else campaign_template(result)
    check_template(data)
    context = report_context(result, place=place)
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    try:
        tpl = DocxTemplate(io.BytesIO(data))
        tpl.render(context, env, autoescape=True)
    except (jinja2.TemplateError, ValueError, KeyError) as exc:
        if isinstance(exc, jinja2.TemplateError):
            raise ReportTemplateError(f"Mẫu báo cáo không dùng được: "
                                      f"{_locate(data, env, exc)}") from None
        raise ReportTemplateError(f"Mẫu báo cáo không dùng được: tệp không phải .docx "
                                  f"hợp lệ ({exc})") from None
    except zipfile.BadZipFile:
        raise ReportTemplateError("Mẫu báo cáo không dùng được: tệp không phải .docx") from None
    buffer = io.BytesIO()
    tpl.save(buffer)
    doc = Document(io.BytesIO(buffer.getvalue()))
    office = result.office
    attached = (f"(Kèm theo Báo cáo số       -{number_symbol(office)} của Ban Thường vụ "
                f"{body_name(office).removeprefix('BCH ')})")
    add_appendices(doc, result, attached)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()

