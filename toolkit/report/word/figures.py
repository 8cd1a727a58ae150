"""The sentences a report states under a heading, from a consolidation's result objects.

Pure: a :class:`~toolkit.spec.models.ConsolidationResult` and a figure reference of the
outline (``status``, ``PL2``, ``PL5.a+b``, see :mod:`toolkit.spec.outline`) in, Vietnamese
sentences out. The wording is generic: it comes from the forms' own header paths, row
labels, indicator names and units, so a new campaign needs no code. Numbers are written as
an office writes them (``18.650``, ``4,7%``), blank figures are left out rather than written
as 0, and a rate is always the one the aggregation recomputed from its numerator and
denominator, never an average.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from toolkit.spec.campaign import Column, Form
from toolkit.spec.levels import noun_for
from toolkit.spec.models import ConsolidationResult, FormSummary, SummaryRow
from toolkit.spec.outline import STATUS_REF, split_ref
from toolkit.spec.targets import (
    COMPLETION,
    EXPECTED,
    NOTE,
    RESULT,
    RESULT_BASE,
    RESULT_RATE,
    STATUS_BEHIND,
    STATUS_MET,
    STATUS_OVER,
    TARGET,
)
from toolkit.spec.text import format_figure, format_percent, is_blank

STATUS_PHRASES = {STATUS_OVER: "vượt chỉ tiêu", STATUS_MET: "đạt chỉ tiêu",
                  STATUS_BEHIND: "chưa đạt chỉ tiêu"}
SHARE_BASE = "số lượng"  # the leaf of the column a breakdown is a share of


def lower_first(text: str) -> str:
    """``Số lượng`` → ``số lượng`` inside a sentence; ``ĐV, TN`` and ``HĐND`` stay."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def in_sentence(label: str) -> str:
    """A header inside a sentence: ``Cao đẳng, Trung cấp`` → ``cao đẳng, trung cấp``; a
    rate's ``Tỷ lệ (%)`` → ``tỷ lệ`` (the figure carries its %)."""
    label = label.replace(" (%)", "")
    return ", ".join(lower_first(part) for part in label.split(", "))


def value_text(col: Column, value: Any) -> str:
    """One figure as a sentence or a table writes it; empty when blank."""
    if is_blank(value):
        return ""
    if col.aggregate in ("ratio", "completion"):
        return format_percent(float(value))
    if col.is_numeric:
        return format_figure(float(value))
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _parts(columns: Sequence[Column], values: dict[str, Any], skip: int = 0) -> list[str]:
    """``leaf value`` for each column with a value, grouped by the header levels between
    ``skip`` and the leaf: ``trình độ chuyên môn: thạc sỹ 3 (4,7%), đại học 40 (62,5%)``.
    A count beside a ``Số lượng`` column of the same group gets its share of it."""
    base = next((c for c in columns if c.type == "count" and len(c.header) > skip
                 and c.header[-1].casefold() == SHARE_BASE), None)
    base_value: Any = values.get(base.key) if base is not None else None
    out: list[str] = []
    for middle, group in groupby(columns, key=lambda c: c.header[skip:-1]):
        items: list[str] = []
        for col in group:
            text = value_text(col, values.get(col.key))
            if not text:
                continue
            leaf = in_sentence(col.header[-1]) if len(col.header) > skip else ""
            share = ""
            if (base is not None and col is not base and col.type == "count"
                    and not is_blank(base_value) and float(base_value) > 0):
                share = f" ({format_percent(float(values[col.key]) / float(base_value))})"
            items.append(f"{leaf} {text}{share}".strip())
        if not items:
            continue
        lead = " ".join(in_sentence(m) for m in middle)
        out.append(f"{lead}: {', '.join(items)}" if lead else ", ".join(items))
    return out


def _columns(form: Form, keys: Sequence[str]) -> list[Column]:
    """The numeric columns a reference names (all of them when it names none)."""
    cols = [form.column(k) for k in keys] if keys else list(form.columns)
    return [c for c in cols if c.is_numeric and c.aggregate != "none"]


def _row_sentences(form: Form, columns: Sequence[Column], values: dict[str, Any]) -> list[str]:
    """Sentences of one row of figures, one per top-level header group."""
    out: list[str] = []
    for root, group in groupby(columns, key=lambda c: c.header[0]):
        cols = list(group)
        if len(cols) == 1 and len(cols[0].header) == 1:
            text = value_text(cols[0], values.get(cols[0].key))
            if text:
                out.append(f"{root}: {text}.")
            continue
        parts = _parts(cols, values, skip=1)
        if parts:
            out.append(f"{root}: {'; '.join(parts)}.")
    return out


def _office_row(fs: FormSummary) -> SummaryRow | None:
    return next((r for r in fs.rows if r.kind in ("office", "total") and r.key in ("-", "total")),
                None)


def single_row_sentences(fs: FormSummary, keys: Sequence[str]) -> list[str]:
    row = _office_row(fs)
    return [] if row is None else _row_sentences(fs.form, _columns(fs.form, keys), row.values)


def fixed_rows_sentences(fs: FormSummary, keys: Sequence[str]) -> list[str]:
    """The total first, then each fixed row (``Năm 2016: …``, ``Cấp huyện: …``)."""
    form, cols = fs.form, _columns(fs.form, keys)
    out: list[str] = []
    for row in fs.rows:
        parts = _parts(cols, row.values)
        if not parts:
            continue
        if row.kind == "total":
            first, last = form.rows[0].label, form.rows[-1].label
            span = (f" ({lower_first(form.row_header)} {first} - {last})"
                    if first.isdigit() and last.isdigit() else "")
            out.insert(0, f"Tổng cộng{span}: {'; '.join(parts)}.")
        else:
            label = f"{form.row_header} {row.label}" if row.label.isdigit() else row.label
            out.append(f"{label}: {'; '.join(parts)}.")
    return out


def list_sentences(fs: FormSummary, keys: Sequence[str]) -> list[str]:
    """How many rows, from how many units; counts per choice; sums of the numbers."""
    form = fs.form
    rows = [r for r in fs.rows if r.unit_code]
    if not rows:
        return [f"{form.title}: chưa có đơn vị nào báo cáo."]
    units = len({r.unit_code for r in rows})
    out = [f"{form.title}: {format_figure(len(rows))} mục, do {format_figure(units)} đơn vị "
           "báo cáo."]
    for col in form.columns:
        if col.type != "choice" or (keys and col.key not in keys):
            continue
        counts = [f"{name} {format_figure(n)}" for name, n in fs.choice_counts.get(col.key,
                                                                                  {}).items() if n]
        if counts:
            out.append(f"Theo {lower_first(col.header[-1])}: {', '.join(counts)}.")
    sums: dict[str, Any] = {}
    cols = [c for c in _columns(form, keys) if c.aggregate == "sum"]
    for col in cols:
        nums = [float(r.values[col.key]) for r in rows if not is_blank(r.values.get(col.key))]
        sums[col.key] = sum(nums) if nums else None
    parts = _parts(cols, sums)
    if parts:
        out.append(f"Tổng cộng: {'; '.join(parts)}.")
    return out


def indicator_sentence(form: Form, row: SummaryRow) -> str:
    """``<chỉ tiêu>: chỉ tiêu 120 người, kết quả 125 người, đạt 104,2%, vượt chỉ tiêu.``"""
    ind, v = form.indicator(row.key), row.values
    unit = f" {ind.unit}" if ind.unit and not ind.is_rate else ""
    parts: list[str] = []
    if ind.is_rate:
        if not is_blank(v.get(TARGET)):
            parts.append(f"chỉ tiêu {format_figure(float(v[TARGET]), 1)}%")
        if not is_blank(v.get(RESULT_RATE)):
            parts.append(f"kết quả {format_percent(float(v[RESULT_RATE]))} "
                         f"({format_figure(float(v[RESULT]))}/"
                         f"{format_figure(float(v[RESULT_BASE]))})")
    else:
        if not is_blank(v.get(TARGET)):
            parts.append(f"chỉ tiêu {format_figure(float(v[TARGET]))}{unit}")
        if not is_blank(v.get(RESULT)):
            parts.append(f"kết quả {format_figure(float(v[RESULT]))}{unit}")
    if not parts:
        return f"{ind.name}: chưa có số liệu."
    if not is_blank(v.get(COMPLETION)):
        parts.append(f"đạt {format_percent(float(v[COMPLETION]))}")
        parts.append(STATUS_PHRASES.get(str(v.get("status")), ""))
    elif is_blank(v.get(TARGET)):
        parts.append("chưa giao chỉ tiêu")
    if not ind.is_rate and not is_blank(v.get(EXPECTED)):
        parts.append(f"dự kiến đến cuối nhiệm kỳ {format_figure(float(v[EXPECTED]))}{unit}")
    text = f"{ind.name}: {', '.join(p for p in parts if p)}"
    behind = v.get("behind") or []
    if behind:
        text += f"; đơn vị chưa đạt: {', '.join(behind)}"
    return text + "."


def targets_sentences(fs: FormSummary, keys: Sequence[str]) -> list[str]:
    rows = [r for r in fs.rows if r.kind == "office" and (not keys or r.key in keys)]
    order = {k: i for i, k in enumerate(keys)}
    rows.sort(key=lambda r: order.get(r.key, 0))
    return [indicator_sentence(fs.form, r) for r in rows]


_BY_KIND = {"single_row": single_row_sentences, "fixed_rows": fixed_rows_sentences,
            "list": list_sentences, "targets": targets_sentences}


def unit_word(result: ConsolidationResult) -> str:
    """What the office calls its units: ``cơ sở`` when they are all base units (a district's,
    or a province's without districts), else the noun of their one level, else ``đơn vị``."""
    return noun_for({u.level for u in result.expected})


def status_sentences(result: ConsolidationResult) -> list[str]:
    """``27/32 cơ sở đã báo cáo; chưa báo cáo: …``, then the files sent back and the late."""
    word = unit_word(result)
    by_status: dict[str, list[str]] = {"accepted": [], "rejected": [], "missing": []}
    for unit in result.expected:
        by_status.setdefault(result.status_of(unit.code), []).append(unit.name)
    total, done = len(result.expected), len(by_status["accepted"])
    text = f"{done}/{total} {word} đã báo cáo"
    if by_status["missing"]:
        text += f"; chưa báo cáo: {', '.join(by_status['missing'])}"
    out = [text + "."]
    if by_status["rejected"]:
        out.append(f"Báo cáo bị trả lại để sửa lỗi, chưa được tổng hợp: "
                   f"{', '.join(by_status['rejected'])}.")
    return out


def sentences(result: ConsolidationResult, ref: str) -> list[str]:
    """The sentences of one figure reference of the outline."""
    form_id, keys = split_ref(ref)
    if form_id == STATUS_REF and not keys:
        return status_sentences(result)
    fs = next(f for f in result.forms if f.form.id == form_id)
    return _BY_KIND[fs.form.kind](fs, keys)


def notes(result: ConsolidationResult, ref: str) -> list[str]:
    """The units' own words in a text column (``Ghi chú``, ``Kết quả nổi bật``), one line per
    note, each with the unit it came from (and the row it was written on)."""
    form_id, keys = split_ref(ref)
    fs = next(f for f in result.forms if f.form.id == form_id)
    key = keys[0] if keys else NOTE
    out: list[str] = []
    frame = result.frames.get(form_id)
    if frame is None or key not in frame.columns:
        return out
    names = {u.code: u.name for u in result.expected}
    labels = ({i.key: i.name for i in fs.form.indicators} if fs.form.kind == "targets"
              else {r.key: r.label for r in fs.form.rows})
    for record in frame.to_dict("records"):
        text = record.get(key)
        if is_blank(text) or str(record.get("unit_code")) not in names:
            continue
        where = labels.get(str(record.get("row")), "")
        who = names[str(record.get("unit_code"))] + (f" ({where})" if where else "")
        out.append(f"{who}: {' '.join(str(text).split())}")
    return out
