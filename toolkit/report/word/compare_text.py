"""The comparison with the earlier period in the report draft's words: under each heading,
one sentence for the figures it states («So với kỳ trước (2011 - 2015): ban chấp hành › số
lượng 438, tăng 140,7% (kỳ trước 182); …»), from the same
:class:`~toolkit.spec.compare.Comparison` the summary's «So sánh» sheet shows.

Pure: result objects in, Vietnamese sentences out; nothing when the run had no earlier period.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolkit.spec.compare import Change, IndicatorChange
from toolkit.spec.models import ConsolidationResult
from toolkit.spec.outline import STATUS_REF, split_ref
from toolkit.spec.text import format_figure, format_percent


def change_text(change: Change) -> str:
    """``438, tăng 140,7% (kỳ trước 182)``; ``40, không đổi``; ``12 (kỳ trước chưa có số
    liệu)``."""
    if change.current is None:
        return ""
    now = format_figure(change.current)
    if change.previous is None:
        return f"{now} (kỳ trước chưa có số liệu)"
    delta = change.delta or 0.0
    before = format_figure(change.previous)
    if delta == 0:
        return f"{now}, không đổi so với kỳ trước"
    word = "tăng" if delta > 0 else "giảm"
    ratio = change.ratio
    amount = format_percent(abs(ratio)) if ratio is not None else format_figure(abs(delta))
    return f"{now}, {word} {amount} (kỳ trước {before})"


def _of(result: ConsolidationResult, form_id: str, keys: Sequence[str]
        ) -> list[IndicatorChange]:
    cmp = result.comparison
    if cmp is None or not cmp.has_previous:
        return []
    return [i for i in cmp.indicators if i.form == form_id and (
        not keys or i.column in keys or i.row in keys)]


def comparison_sentences(result: ConsolidationResult, ref: str) -> list[str]:
    """The sentence comparing the figures of one outline reference with the earlier period
    (empty without one)."""
    form_id, keys = split_ref(ref)
    if form_id == STATUS_REF:
        return []
    parts = [f"{i.label} {text}" for i in _of(result, form_id, keys)
             if (text := change_text(i.total))]
    if not parts:
        return []
    cmp = result.comparison
    assert cmp is not None
    return [f"So với kỳ trước ({cmp.previous_period}): {'; '.join(parts)}."]
