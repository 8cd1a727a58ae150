"""Result objects passed between stages: ingest → validate → aggregate → write.

Findings are data, failures are exceptions: a bad value in a submission is a
:class:`Finding`, never an exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from toolkit.spec.campaign import Campaign, Form
from toolkit.spec.compare import Comparison
from toolkit.spec.meta import Identified
from toolkit.spec.units import Unit

if TYPE_CHECKING:
    import pandas as pd

# Typed values of the ACCEPTED submissions, one wide DataFrame per form id: columns ``file``,
# ``unit_code``, ``row`` (row key as in the ``_meta`` map: year, ``1``…``N`` or ``-``), then
# one column per *input* column key of the form. Numbers are floats (NaN = blank), text is
# NFC str or None, dates are ``datetime.date`` or None. A list form keeps only its non-empty
# rows. Produced by :func:`toolkit.check.validate.validate`, consumed by aggregation and writers.
FormFrames = dict[str, "pd.DataFrame"]

SEVERITIES = ("error", "warning")
SEVERITY_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}
# Where a file's received time comes from: the mail's Date (manifest of ``mail fetch``), the
# unit's own save time in the workbook (docProps/core.xml), or nowhere. The time a clerk saved
# an attachment into the inbox is never used: it would make every hand-saved unit late.
RECEIVED_SOURCES = {
    "mail": "theo thư điện tử",
    "saved": "theo thời gian đơn vị lưu tệp",
    "unknown": "không rõ",
}
VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7))  # deadlines are Vietnam calendar days


def local_time(when: dt.datetime | None) -> dt.datetime | None:
    """Vietnam wall-clock time without zone: what a clerk reads, what spreadsheets store."""
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(VIETNAM_TIME).replace(tzinfo=None)
    return when


def is_late(received_at: dt.datetime | None, deadline: dt.date | None) -> bool | None:
    """Arrived after the deadline day (Vietnam calendar)? None when either is unknown. The
    one rule for lateness, used by the CSVs, the summary and the reminders."""
    when = local_time(received_at)
    if when is None or deadline is None:
        return None
    return when.date() > deadline
STATUSES = ("accepted", "rejected", "missing", "superseded", "unidentified")
STATUS_LABELS = {
    "accepted": "Hợp lệ",
    "rejected": "Bị trả lại (có lỗi)",
    "missing": "Chưa nộp",
    "superseded": "Đã có bản mới hơn",
    "unidentified": "Không nhận diện được",
}


@dataclass(frozen=True)
class Finding:
    """One validation result, positioned as the user sees it (``cell`` is A1 on ``form``'s
    sheet; empty for a problem of the whole file)."""

    file: str
    unit_code: str
    form: str
    cell: str
    column: str
    severity: str
    code: str
    message: str
    value: str = ""
    row: str = ""

    @property
    def where(self) -> str:
        """``PL2!E9``, or the form, or empty."""
        if self.form and self.cell:
            return f"{self.form}!{self.cell}"
        return self.form


class CellValue(NamedTuple):
    """One value read from a submission, with the cell it came from. (A named tuple: a
    province run makes half a million of these; one is built in a tenth of the time a
    frozen dataclass takes, and holds 80 bytes instead of 190.)"""

    form: str
    row: str
    column: str
    cell: str
    raw: Any


class PackedCells(Sequence[CellValue]):
    """A submission's cells, stored as the template's cell places (one tuple shared by every
    file of that template) and a list of raw values; each :class:`CellValue` is made when
    asked for. A province keeps half a million cells between reading and writing: packed,
    they cost the raw values only (~45 MB less than as CellValues)."""

    __slots__ = ("_longest", "places", "raws")

    def __init__(self, places: Sequence[tuple[str, str, str, str]], raws: list[Any]) -> None:
        if len(places) != len(raws):
            raise ValueError("PackedCells: places and raws differ in length")
        self.places, self.raws = places, raws

    def __len__(self) -> int:
        return len(self.raws)

    def longest_text(self) -> int:
        """The length of its longest text (0: none), worked out once: every run checks it
        for every file, and the office's page hands the same cells to each run."""
        try:
            return self._longest
        except AttributeError:
            pass
        self._longest: int = max(map(len, [r for r in self.raws if isinstance(r, str)]),
                                 default=0)
        return self._longest

    @overload
    def __getitem__(self, index: int) -> CellValue: ...
    @overload
    def __getitem__(self, index: slice) -> list[CellValue]: ...
    def __getitem__(self, index: int | slice) -> CellValue | list[CellValue]:
        if isinstance(index, slice):
            return [CellValue(*p, r) for p, r in zip(self.places[index], self.raws[index],
                                                     strict=True)]
        return CellValue(*self.places[index], self.raws[index])

    def __iter__(self) -> Iterator[CellValue]:
        for place, raw in zip(self.places, self.raws, strict=True):
            yield CellValue(*place, raw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PackedCells({list(self)!r})"


@dataclass
class Submission(Identified):
    """One workbook file from one unit for one campaign: values plus provenance."""

    file: str  # path relative to the inbox, POSIX separators, NFC
    path: Path
    sha256: str
    size: int
    received_at: dt.datetime | None = None  # when it arrived: see received_source
    received_source: str = "unknown"  # a RECEIVED_SOURCES key: where received_at came from
    modified_at: dt.datetime | None = None  # the workbook's own "modified" property
    identity: dict[str, str] = field(default_factory=dict)
    cells: Sequence[CellValue] = field(default_factory=list)  # list, or PackedCells
    findings: list[Finding] = field(default_factory=list)
    status: str = ""
    reason: str = ""
    sheet_names: tuple[str, ...] = ()
    origins: dict[tuple[str, str], str] = field(default_factory=dict)  # (form, row) → unit
    # the confirmation cells (:mod:`toolkit.spec.confirm`) of a template that has them, one
    # per form, blank or not: notes, not figures, so never among ``cells``
    confirmations: list[CellValue] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")


@dataclass(frozen=True)
class SummaryRow:
    """One row of a summary sheet.

    ``kind``: ``office`` rows are the office's own figures (mapped in ``_meta`` so the level
    above reads them); ``unit`` rows show one unit; ``total`` rows are extra totals.
    ``values`` maps column keys to numbers, text or None; ratio columns hold a fraction
    (0.42 for 42 %) recomputed from summed numerators and denominators.
    """

    key: str
    label: str
    values: dict[str, Any]
    kind: str = "office"
    unit_code: str = ""
    unit_name: str = ""  # a list row: its origin, "Huyện đoàn Thọ Xuân › Đoàn xã Xuân Hồng"
    coverage: tuple[int, int] | None = None  # a rolled-up unit's row: (27, 32) units


@dataclass(frozen=True)
class FormSummary:
    """Aggregated figures of one form for the office."""

    form: Form
    rows: tuple[SummaryRow, ...]
    choice_counts: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class CacheStats:
    """How a run used the read cache (:mod:`toolkit.read.cache`): files found in it, files
    read, entries stored, why it was not used or was rebuilt (empty when all went well),
    and files not validated again."""

    hits: int = 0
    misses: int = 0
    stored: int = 0
    problems: list[str] = field(default_factory=list)
    checked: int = 0  # files whose validation outcome came from the cache


@dataclass
class ConsolidationResult:
    """Everything one ``consolidate`` run found and computed; writers only render it."""

    campaign: Campaign
    office: Unit
    submissions: list[Submission]  # every file seen, with its status
    expected: list[Unit]  # the office's direct children
    forms: list[FormSummary]
    generated_at: dt.datetime
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why): other campaign…
    frames: FormFrames = field(default_factory=dict)  # typed values of accepted submissions
    # the office's own superior (shown above the office's name in the summary heading)
    office_parent: Unit | None = None
    cache: CacheStats | None = None  # None: run without the read cache
    # with a history (consolidate(history=…)): the comparison with the earlier period, and
    # each unit's previous figures keyed (unit code, form, row, column) for plausibility
    comparison: Comparison | None = None
    previous: dict[tuple[str, str, str, str], float] | None = None

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.submissions for f in s.findings]

    def status_of(self, unit_code: str) -> str:
        """accepted / rejected / missing for a child unit (superseded files do not count)."""
        chosen = self.chosen(unit_code)
        return chosen.status if chosen is not None else "missing"

    def chosen(self, unit_code: str) -> Submission | None:
        """The submission used for ``unit_code`` (accepted or rejected), if any."""
        for s in self._of_unit(unit_code):
            if s.status in ("accepted", "rejected"):
                return s
        return None

    def _of_unit(self, unit_code: str) -> list[Submission]:
        """The submissions of ``unit_code`` in order. Writers ask this for every unit, so
        the grouping is kept (per list and length of ``submissions``) rather than the whole
        list scanned per unit, which made a 2,000-unit summary quadratic; statuses are
        read live."""
        key = (id(self.submissions), len(self.submissions))
        cached = self.__dict__.get("_by_unit")
        if cached is None or cached[0] != key:
            groups: dict[str, list[Submission]] = {}
            for s in self.submissions:
                groups.setdefault(s.unit_code, []).append(s)
            cached = self.__dict__["_by_unit"] = (key, groups)
        return cached[1].get(unit_code, [])

