"""Load and check campaign and form specs (YAML in ``schemas/``).

The spec is the single source of truth: template layout, Excel validation, the pandera
schema, the reader and the aggregation are all derived from these objects. A broken spec is
a :class:`SpecError` naming the file and the key, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from toolkit.spec.levels import LEVELS as _LEVELS

COLUMN_TYPES = ("count", "number", "money", "percent", "text", "date", "choice")
NUMERIC_TYPES = ("count", "number", "money", "percent")
FORM_KINDS = ("single_row", "fixed_rows", "list", "targets")
INDICATOR_KINDS = ("count", "rate")
AGGREGATES = ("sum", "ratio", "concat", "none")  # what a spec may declare
COMPUTED = ("ratio", "completion")  # "completion": only a targets form's derived column
RULE_OPS = {"le": "≤", "ge": "≥", "eq": "="}
LEVELS = _LEVELS  # the hierarchy, top to bottom: one table in toolkit.spec.levels
# "_xa_" in an xlsx string is read back by LibreOffice as the escaped character U+000A: a key
# like ky_nang_xa_hoi would come back as "ky_nang\nhoi" from the _meta map.
XML_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{1,4}_")
DEFAULT_AGGREGATE = {
    "count": "sum",
    "number": "sum",
    "money": "sum",
    "percent": "none",
    "text": "concat",
    "date": "none",
    "choice": "concat",
}


@dataclass(frozen=True)
class Column:
    """One column of a form. ``ratio`` columns are computed (a formula), never typed in."""

    key: str
    header: tuple[str, ...]
    type: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    aggregate: str = "sum"
    numerator: str | None = None
    denominator: str | None = None
    width: float | None = None
    note: str = ""

    @property
    def is_input(self) -> bool:
        """True for cells a unit fills in; False for computed columns (a ratio, a targets
        form's completion)."""
        return self.aggregate not in COMPUTED

    @property
    def label(self) -> str:
        """Full header path as one readable label, e.g. ``Bí thư, Phó Bí thư › Số lượng``."""
        return " › ".join(self.header)

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class Rule:
    """Cross-column rule: ``sum(left) op right`` on the same row (e.g. breakdown ≤ Số lượng)."""

    left: tuple[str, ...]
    op: str
    right: str
    severity: str = "error"


@dataclass(frozen=True)
class RowKey:
    """A fixed row of a ``fixed_rows`` form (e.g. one year)."""

    key: str
    label: str


@dataclass(frozen=True)
class Indicator:
    """One row of a ``targets`` form: a target allocated by the superior level and the
    unit's result. A ``rate`` is reported as numerator and denominator (never as a typed
    %), and its target is a percentage (70 = 70 %)."""

    key: str
    name: str
    unit: str
    kind: str = "count"
    default_target: float | None = None

    @property
    def is_rate(self) -> bool:
        return self.kind == "rate"


@dataclass(frozen=True)
class Form:
    """One phụ lục: one sheet of the workbook."""

    id: str
    number: str
    title: str
    kind: str
    columns: tuple[Column, ...]
    row_header: str
    rows: tuple[RowKey, ...] = ()
    list_rows: int = 30
    rules: tuple[Rule, ...] = ()
    source: str = ""
    indicators: tuple[Indicator, ...] = ()

    @property
    def sheet(self) -> str:
        """Sheet name in the workbook: the form id (short, ASCII, survives every program)."""
        return self.id

    @property
    def input_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.is_input)

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    def row_keys(self) -> tuple[str, ...]:
        """Row keys as written in the ``_meta`` map: years, ``1``…``N``, or ``-``."""
        if self.kind == "fixed_rows":
            return tuple(r.key for r in self.rows)
        if self.kind == "list":
            return tuple(str(i) for i in range(1, self.list_rows + 1))
        if self.kind == "targets":
            return tuple(i.key for i in self.indicators)
        return ("-",)

    def indicator(self, key: str) -> Indicator:
        for ind in self.indicators:
            if ind.key == key:
                return ind
        raise KeyError(key)


@dataclass(frozen=True)
class Section:
    """One heading of the report outline (:mod:`toolkit.spec.outline`): ``level`` 1 (I,
    II…) to 4 (``*`` sub-headings); ``points``: the plan's guidance of what to write there;
    ``figures``: the figures stated under it; ``notes``: the units' notes gathered there."""

    heading: str
    level: int = 1
    points: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompareTarget:
    """An earlier campaign (or period) this one compares with (``compare_with`` in
    ``campaign.yaml``; :mod:`toolkit.spec.compare`). ``period`` empty: its most recent period
    before this one. ``columns``: ``("PL2.bch_so_luong", "PL2.bch_sl")`` pairs, this
    campaign's ``FORM.column`` → the earlier one's, where the keys differ (same key by
    default)."""

    campaign: str
    period: str = ""
    columns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Plausibility:
    """Thresholds of the plausibility warnings (:mod:`toolkit.history.plausibility`): a
    figure far above its peers or that jumped is a warning to check, never an error.

    ``z``: modified z-score over the units of one level (0.6745·(x − median)/MAD, on
    log(1 + x)) beyond which a figure is far from its peers, judged only when ``min_units``
    units reported the cell; ``peer_ratio``: it must also be that many times the median, so
    the natural spread between a big and a small commune is not flagged; ``ratio``: a jump
    against the unit's previous report or the previous year's row (more than ×3, under
    ÷3); ``floor``: and the difference must exceed this many (3 against 1, or a handful of
    classes one year and a dozen the next, is not a typo). Kept in ``campaign.yaml`` under
    ``plausibility``, not in ``spec_sha256``."""

    z: float = 3.5
    min_units: int = 8
    peer_ratio: float = 5.0
    ratio: float = 3.0
    floor: float = 15.0


PLAUSIBILITY_KEYS = ("z", "min_units", "peer_ratio", "ratio", "floor")


@dataclass(frozen=True)
class Campaign:
    """One reporting exercise defined by one plan."""

    id: str
    title: str
    issuer: str
    document_number: str
    document_date: dt.date
    period: str
    deadlines: dict[str, dt.date]
    forms: tuple[Form, ...]
    template_version: str
    spec_sha256: str
    source: str = ""
    return_to: str = ""
    instructions: tuple[str, ...] = field(default_factory=tuple)
    # the report's outline; not part of spec_sha256 (see toolkit.spec.outline)
    outline: tuple[Section, ...] = field(default_factory=tuple)
    # earlier campaigns/periods compared with; not part of spec_sha256 (toolkit.spec.compare)
    compare_with: tuple[CompareTarget, ...] = field(default_factory=tuple)
    # thresholds of the plausibility warnings; not part of spec_sha256 either
    plausibility: Plausibility = field(default_factory=Plausibility)

    def form(self, form_id: str) -> Form:
        for f in self.forms:
            if f.id == form_id:
                return f
        raise KeyError(form_id)

    def deadline_for(self, level: str) -> dt.date | None:
        return self.deadlines.get(level)
