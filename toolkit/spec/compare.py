"""Comparison with earlier periods: what a campaign compares with (``compare_with`` in
``campaign.yaml``) and the result objects of a comparison, which the history stage computes
(:mod:`toolkit.history.compare`) and the summary's «So sánh» sheet and the report draft show.

``compare_with`` is *not* part of ``spec_sha256`` (like the outline): it says nothing about
the forms units fill, and naming a new earlier period must not invalidate templates already
sent out. Its shapes::

    compare_with: nq02-2015                  # a campaign id in the history
    compare_with:                            # or a list, the preferred first
      - campaign: nq02-2015
        period: 2011 - 2015                  # optional: its most recent period otherwise
        columns:                             # optional: where the keys differ
          PL2.bch_so_luong: PL2.bch_sl       # this campaign's FORM.column: the earlier one's

Without ``compare_with`` a campaign compares with its own most recent earlier period.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from toolkit.spec.campaign import Campaign, CompareTarget, Form
from toolkit.spec.text import nfc

TARGET_KEYS = ("campaign", "period", "columns")
ALL_ROWS = "*"  # the row key of a fixed-row form's figure over all its rows (the whole period)
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")


class CompareError(ValueError):
    """A mistake in ``compare_with``: ``key`` says where, ``problem`` what (Vietnamese)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


def _ref(text: str, key: str) -> tuple[str, str]:
    form, dot, column = text.partition(".")
    if not dot or not form.strip() or not column.strip():
        raise CompareError(key, f"«{text}» phải có dạng BIỂU.cột, ví dụ PL2.bch_so_luong")
    return form.strip(), column.strip()


def parse_compare(data: Any, forms: Sequence[Form]) -> tuple[CompareTarget, ...]:
    """Check and build ``compare_with`` from its YAML data; this campaign's side of every
    column pair must name a numeric column of ``forms`` (the earlier side is free: that
    campaign may no longer be loadable)."""
    if data is None:
        return ()
    items = [data] if isinstance(data, (str, dict)) else data
    if not isinstance(items, list):
        raise CompareError("compare_with", "phải là mã chiến dịch hoặc danh sách "
                                           "(campaign, period, columns)")
    by_id = {f.id: f for f in forms}
    out: list[CompareTarget] = []
    for i, raw in enumerate(items):
        where = f"compare_with[{i}]"
        if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
            raw = {"campaign": str(raw)}
        if not isinstance(raw, dict):
            raise CompareError(where, "phải là mã chiến dịch hoặc bảng khóa (campaign, period, "
                                      "columns)")
        for k in raw:
            if k not in TARGET_KEYS:
                raise CompareError(f"{where}.{k}", f"khóa không được hỗ trợ (dùng: "
                                                   f"{', '.join(TARGET_KEYS)})")
        campaign = nfc(str(raw.get("campaign") or "")).strip()
        if not campaign:
            raise CompareError(f"{where}.campaign", "thiếu mã chiến dịch so sánh")
        period = nfc(str(raw.get("period") or "")).strip()
        columns = raw.get("columns") or {}
        if not isinstance(columns, dict):
            raise CompareError(f"{where}.columns", "phải là bảng «BIỂU.cột kỳ này: BIỂU.cột kỳ "
                                                   "trước»")
        pairs: list[tuple[str, str]] = []
        for this, that in columns.items():
            key = f"{where}.columns.{this}"
            form_id, col = _ref(nfc(str(this)), key)
            _ref(nfc(str(that)), key)
            form = by_id.get(form_id)
            if form is None:
                raise CompareError(key, f"không có biểu {form_id!r} (dùng: {', '.join(by_id)})")
            if col not in {c.key for c in form.columns if c.is_numeric}:
                raise CompareError(key, f"biểu {form_id} không có cột số {col!r}")
            pairs.append((f"{form_id}.{col}", nfc(str(that)).strip()))
        out.append(CompareTarget(campaign=campaign, period=period, columns=tuple(pairs)))
    return tuple(out)


def compare_to_data(targets: Sequence[CompareTarget]) -> list[dict[str, Any]]:
    """The canonical data of ``compare_with`` (the inverse of :func:`parse_compare`)."""
    out: list[dict[str, Any]] = []
    for t in targets:
        item: dict[str, Any] = {"campaign": t.campaign}
        if t.period:
            item["period"] = t.period
        if t.columns:
            item["columns"] = dict(t.columns)
        out.append(item)
    return out


def period_of(campaign: Campaign) -> str:
    """The period a campaign's figures belong to: its ``period`` (``2016 - 2020``), else the
    year of its document."""
    return campaign.period.strip() or str(campaign.document_date.year)


def period_key(period: str) -> int | None:
    """The last year a period names (``2016 - 2020`` → 2020), to order periods; None when
    it names none."""
    years = _YEAR.findall(period)
    return int(years[-1]) if years else None


def comparable(form: Form) -> list[tuple[str, str]]:
    """The (row, column) figures of ``form`` a comparison takes: every summed numeric input
    column; a fixed-row form over all its rows (:data:`ALL_ROWS`), a targets form per
    indicator; list forms have none (their rows are records, not figures)."""
    cols = [c.key for c in form.columns if c.aggregate == "sum" and c.is_numeric and c.is_input]
    if form.kind == "single_row":
        return [("-", c) for c in cols]
    if form.kind == "fixed_rows":
        return [(ALL_ROWS, c) for c in cols]
    if form.kind == "targets":
        return [(i.key, c) for i in form.indicators for c in cols]
    return []


# --------------------------------------------------------------------------- results


class Change(NamedTuple):
    """One figure in this period and the previous one (None: not reported). A named tuple:
    a province's comparison makes a hundred thousand of them."""

    current: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def ratio(self) -> float | None:
        """The change as a fraction of the previous figure (0.25 for +25 %); None when there
        is no previous figure or it is 0."""
        delta = self.delta
        if delta is None or not self.previous:
            return None
        return delta / self.previous


@dataclass(frozen=True)
class IndicatorChange:
    """One figure of one form compared: the office's total and each unit's (``current`` and
    ``previous`` by unit code; :attr:`units` pairs them in the office's order of ``codes``)."""

    form: str
    row: str  # "-", an indicator key, or ALL_ROWS
    column: str
    label: str  # as a clerk reads it: "Ban Chấp hành › Số lượng"
    total: Change
    current: Mapping[str, float] = field(default_factory=dict)
    previous: Mapping[str, float] = field(default_factory=dict)
    codes: tuple[str, ...] = ()

    @property
    def units(self) -> tuple[tuple[str, Change], ...]:
        """(unit code, change) of every unit with a figure in either period, in order."""
        cur, old = self.current, self.previous
        return tuple((c, Change(cur.get(c), old.get(c))) for c in self.codes
                     if c in cur or c in old)


@dataclass(frozen=True)
class Trend:
    """A fixed-row form's column across its own rows (2016 → 2020), the office's totals."""

    form: str
    column: str
    label: str
    points: tuple[tuple[str, float | None], ...]  # (row label, value)

    @property
    def change(self) -> Change:
        """First reported row against last reported row."""
        values = [v for _label, v in self.points if v is not None]
        if not values:
            return Change(None, None)
        return Change(values[-1], values[0])


@dataclass(frozen=True)
class Comparison:
    """A run's figures against an earlier period (``previous_campaign`` empty: none found
    in the history) and the trends inside its fixed-row forms."""

    period: str
    previous_campaign: str = ""
    previous_period: str = ""
    indicators: tuple[IndicatorChange, ...] = ()
    trends: tuple[Trend, ...] = ()

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_campaign)


def percent_text(ratio: float) -> str:
    """``+12,5%`` / ``-3%``: a change as a clerk writes it (comma decimal)."""
    value = round(100 * ratio, 1)
    if math.isclose(value, round(value)):
        text = str(round(value))
    else:
        text = f"{value:.1f}".replace(".", ",")
    return f"+{text}%" if value > 0 else f"{text}%"
