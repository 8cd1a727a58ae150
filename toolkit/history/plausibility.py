"""Plausibility warnings: figures that pass every rule but deserve a second look.

A typo that passes validation (3,100 trainees in a commune where the others report 30–60; a
Ban Chấp hành that went from 15 to 150 since the last report) would be summed into the
office's figures without a word. Statistical offices catch these with outlier checks (DHIS2's
modified z-score, WHO's consistency over time); three are made here, each a *warning* on the
unit's own cell (never an error: the file stays accepted and its figures are summed):

- ``plausibility_peer``: far from the units of the same level in this run — modified z-score
  ``0.6745·(x − median)/MAD`` beyond ``z``, taken on ``log(1 + x)`` (figures scale with a
  unit's size: their spread is multiplicative, and a column whose figures naturally spread
  ×10 must not flag its big units), judged only when ``min_units`` units reported the cell,
  *and* at least ``peer_ratio`` times the median, *and* more than ``floor`` above it.
  Only figures far *above* their peers: the typos that matter (an extra zero, a figure
  typed in the wrong unit) make figures bigger, while a small commune, a year without
  classes or a column of rare events makes figures far below the median without any mistake
  (a figure that dropped is caught against the unit's own history instead). When more than
  half the units report the same figure (MAD = 0) the scale is the mean absolute deviation
  ×1.253314; a column whose median is 0 (houses built, companies founded) is not judged
  against its peers.
- ``plausibility_jump``: against the unit's own previous report (``previous``, from the
  history store): more than ×``ratio`` or under ÷``ratio``, and more than ``floor`` apart.
- ``plausibility_trend``: inside a fixed-row form whose rows are consecutive years (PL4, PL6
  of nq02-2020), the same rule between a year and the year before; a single year that
  jumps up and comes back is flagged once, on that year.

Only typed figures are judged: count, number and money input columns (never a typed or
computed percent, never a target the superior allocated), never the rows of a list form
(they are records, not the same figure from every unit). One warning per cell (the unit's
own previous report first, then the peers, then the trend). Thresholds:
:class:`toolkit.spec.campaign.Plausibility` (``plausibility:`` in ``campaign.yaml``).

A unit confirms a figure it knows is right (``confirmed``: ``(unit, form)`` for a whole form,
``(unit, form, row)`` for a whole row or ``(unit, form, row, column)`` for one cell; from
the template's «Xác nhận số liệu đúng» cells through
:func:`toolkit.history.confirm.confirmed_cells`); a confirmed figure is not flagged again.
A warning on a template that has such a cell says how to confirm it there.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from toolkit.spec.campaign import Campaign, Form, Plausibility
from toolkit.spec.confirm import checked_columns
from toolkit.spec.findings import CONFIRM_HINT, make_finding
from toolkit.spec.models import Finding, FormFrames, PackedCells, Submission
from toolkit.spec.text import format_figure
from toolkit.spec.units import UnitRegistry
from toolkit.spec.units_file import LEVEL_LABELS

CODES = ("plausibility_peer", "plausibility_jump", "plausibility_trend")
MAD_FACTOR = 0.6745  # Iglewicz & Hoaglin: MAD of a normal sample is 0.6745 σ
MEANAD_FACTOR = 1.253314  # mean absolute deviation of a normal sample is σ / 1.253314
# (unit_code, form, row, column) → the unit's figure in its previous report
PreviousValues = Mapping[tuple[str, str, str, str], float]
_PRIORITY = {"plausibility_jump": 0, "plausibility_peer": 1, "plausibility_trend": 2}


def year_rows(form: Form) -> list[str]:
    """The row keys of a fixed-row form when they are consecutive years (2016…2020), in
    order; empty otherwise (rows of another kind have no "year before")."""
    if form.kind != "fixed_rows" or len(form.rows) < 2:
        return []
    keys = [r.key.strip() for r in form.rows]
    if not all(k.isdigit() and len(k) == 4 for k in keys):
        return []
    years = [int(k) for k in keys]
    if any(b - a != 1 for a, b in itertools.pairwise(years)):
        return []
    return [r.key for r in form.rows]


@dataclass(frozen=True)
class _Hit:
    """One figure to warn about, before it has a cell and a message."""

    code: str
    file: str
    unit_code: str
    form: str
    row: str
    column: str
    value: float
    reference: float
    what: str  # the reference in words: "trung vị của 27 cơ sở", "năm 2017"…


def plausibility_findings(
    campaign: Campaign,
    frames: FormFrames,
    submissions: Sequence[Submission],
    units: UnitRegistry,
    *,
    previous: PreviousValues | PreviousIndex | None = None,
    confirmed: Collection[tuple[str, ...]] = (),
    thresholds: Plausibility | None = None,
) -> list[Finding]:
    """The plausibility warnings of one run (module text): ``frames`` are the typed values of
    the accepted ``submissions`` (:func:`toolkit.check.validate.validate`); each warning is on
    the submission's own cell. Pure: nothing is added to the submissions."""
    limits = thresholds or campaign.plausibility
    levels = {code: unit.level for code, unit in units.units.items()}
    tables: dict[str, _Table] = {}
    for form in campaign.forms:
        frame = frames.get(form.id)
        keys = [c.key for c in checked_columns(form)
                if frame is not None and c.key in frame.columns]
        if frame is not None and not frame.empty and keys:
            tables[form.id] = _Table(frame, keys)
    if previous is not None and not isinstance(previous, PreviousIndex):
        previous = PreviousIndex(previous)
    earlier = _previous_grids(tables, previous) if previous is not None else {}
    hits: list[_Hit] = []
    for form in campaign.forms:
        table = tables.get(form.id)
        if table is None:
            continue
        hits += _peers(form, table, levels, limits)
        if form.id in earlier:
            hits += _jumps(form, table, earlier[form.id], limits)
        if year_rows(form):
            hits += _trend(form, table, limits)
    return _to_findings(campaign, hits, submissions, confirmed)


# =========================================================================== the checks


class _Table:
    """One form's frame as plain arrays: files, units, row keys, and the judged figures
    (one column per key)."""

    def __init__(self, frame: pd.DataFrame, keys: list[str]) -> None:
        self.keys = keys
        self.files = [str(f) for f in frame["file"].tolist()]
        self.units = [str(u) for u in frame["unit_code"].tolist()]
        self.rows = [str(r) for r in frame["row"].tolist()]
        self.x = frame[keys].to_numpy(dtype="float64")


class PreviousIndex:
    """Previous figures as one grid per form, a line per (unit, row) and a column per
    column key: laid over a run's tables by picking lines, instead of going through every
    previous figure (half a million at 2,000 units). Made once per earlier period; the
    office's page keeps it between runs."""

    def __init__(self, previous: PreviousValues) -> None:
        places: dict[str, dict[tuple[str, str], int]] = {}
        columns: dict[str, dict[str, int]] = {}
        cells: dict[str, tuple[list[int], list[int], list[float]]] = {}
        for (unit, form, row, column), value in previous.items():
            lines, cols = places.setdefault(form, {}), columns.setdefault(form, {})
            found = cells.setdefault(form, ([], [], []))
            found[0].append(lines.setdefault((unit, row), len(lines)))
            found[1].append(cols.setdefault(column, len(cols)))
            found[2].append(value)
        self.forms: dict[str, tuple[dict[tuple[str, str], int], dict[str, int], np.ndarray]] = {}
        for form, (line_ids, col_ids, values) in cells.items():
            grid = np.full((len(places[form]), len(columns[form])), np.nan)
            grid[line_ids, col_ids] = values
            self.forms[form] = (places[form], columns[form], grid)


INDEX_MEMO = "plausibility.index"  # the memo's entry (:func:`kept_index`)


def kept_index(previous: PreviousValues | None, memo: dict[str, Any] | None
               ) -> PreviousValues | PreviousIndex | None:
    """``previous`` as the checks look it up: a long-running process (the office's page)
    keeps its :class:`PreviousIndex` in ``memo`` while the previous figures are the same
    object (:func:`toolkit.history.compare.compare_run` keeps them so)."""
    if previous is None or memo is None:
        return previous
    kept = memo.get(INDEX_MEMO)
    if kept is None or kept[0] is not previous:
        kept = memo[INDEX_MEMO] = (previous, PreviousIndex(previous))
    return cast(PreviousIndex, kept[1])


def _previous_grids(tables: Mapping[str, _Table], previous: PreviousIndex
                    ) -> dict[str, np.ndarray]:
    """Each form's previous figures laid over its table (NaN where the unit had none)."""
    grids: dict[str, np.ndarray] = {}
    for fid, t in tables.items():
        known = previous.forms.get(fid)
        if known is None:
            continue
        lines, columns, before = known
        where = {key: i for i, key in enumerate(zip(t.units, t.rows, strict=True))}
        pairs = [(i, line) for key, i in where.items() if (line := lines.get(key)) is not None]
        cols = [(j, c) for j, key in enumerate(t.keys) if (c := columns.get(key)) is not None]
        if not pairs or not cols:
            continue
        grid = np.full(t.x.shape, np.nan)
        mine, theirs = zip(*pairs, strict=True)
        mine_c, theirs_c = zip(*cols, strict=True)
        grid[np.ix_(mine, mine_c)] = before[np.ix_(theirs, theirs_c)]
        grids[fid] = grid
    return grids


def jumped(value: np.ndarray, reference: np.ndarray, limits: Plausibility) -> np.ndarray:
    """Element-wise: ``value`` is more than ×ratio or under ÷ratio of ``reference`` and more
    than ``floor`` away from it (NaN on either side: no)."""
    with np.errstate(invalid="ignore"):
        far = np.abs(value - reference) > limits.floor
        up = value > limits.ratio * reference
        down = value * limits.ratio < reference
    return np.asarray(far & (up | down) & ~np.isnan(value) & ~np.isnan(reference))


def _peers(form: Form, t: _Table, levels: Mapping[str, str], limits: Plausibility
           ) -> list[_Hit]:
    """Far from the units of the same level that reported the same row and column."""
    level = [levels.get(u, "") for u in t.units]
    # one group per (level, row); not joined by NUL: pandas 2.2.0 (our lowest) hashes them as
    # C strings, so "co_so\x002016" and "co_so\x002017" fell into one group
    group = pd.factorize(pd.Series([f"{lv}\x1f{r}" for lv, r in zip(level, t.rows,
                                                                     strict=True)]))[0]
    lines = [np.flatnonzero(group == g) for g in range(int(group.max(initial=-1)) + 1)]
    x = t.x
    count = _per_group(~np.isnan(x), lines, np.sum)
    med = _per_group(x, lines, np.nanmedian)
    # the score is taken on log(1 + x): a unit's figures scale with its size, so the spread
    # of a column is multiplicative (a commune twice as big reports about twice as much)
    logs = np.log1p(np.maximum(x, 0.0))
    log_med = _per_group(logs, lines, np.nanmedian)
    dev = np.abs(logs - log_med)
    mad = _per_group(dev, lines, np.nanmedian)
    mean_ad = _per_group(dev, lines, np.nanmean)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(mad > 0, mad / MAD_FACTOR, mean_ad * MEANAD_FACTOR)
        score = (logs - log_med) / scale
        flagged = ((count >= limits.min_units) & (med > 0) & (scale > 0)
                   & (score > limits.z) & (x >= limits.peer_ratio * med)
                   & (x - med > limits.floor) & ~np.isnan(x))
    hits: list[_Hit] = []
    for i, j in zip(*np.nonzero(flagged), strict=True):
        hits.append(_Hit("plausibility_peer", t.files[i], t.units[i], form.id, t.rows[i],
                         t.keys[j], float(x[i, j]), float(med[i, j]),
                         f"trung vị của {int(count[i, j])} {_peers_word(level[i])}"))
    return hits


def _per_group(x: np.ndarray, lines: list[np.ndarray], stat: Any) -> np.ndarray:
    """``stat`` of each column over each group's lines, given back on every line of the
    group (as pandas' groupby-transform, without its cost per call: a page run makes
    thirty of them). NaN is skipped; a column all NaN in a group gives NaN."""
    out = np.full(x.shape, np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: NaN, as wanted
        for rows in lines:
            out[rows] = stat(x[rows], axis=0)
    return out


def _peers_word(level: str) -> str:
    """``co_so`` → ``cơ sở``: the units compared, as the message names them."""
    label = LEVEL_LABELS.get(level)
    return label.lower() if label else "đơn vị cùng cấp"


def _jumps(form: Form, t: _Table, before: np.ndarray, limits: Plausibility) -> list[_Hit]:
    """Jumped against the unit's own previous report."""
    hits: list[_Hit] = []
    for i, j in zip(*np.nonzero(jumped(t.x, before, limits)), strict=True):
        hits.append(_Hit("plausibility_jump", t.files[i], t.units[i], form.id, t.rows[i],
                         t.keys[j], float(t.x[i, j]), float(before[i, j]),
                         "kỳ báo cáo trước"))
    return hits


def _trend(form: Form, t: _Table, limits: Plausibility) -> list[_Hit]:
    """A year that jumped against the year before, inside one unit's rows."""
    years = year_rows(form)
    position = {y: k for k, y in enumerate(years)}
    labels = {r.key: r.label for r in form.rows}
    file_ids, files = pd.factorize(pd.Series(t.files))
    grid = np.full((len(files), len(years), len(t.keys)), np.nan)
    unit_of: dict[int, str] = {}
    for i, (fid, row) in enumerate(zip(file_ids, t.rows, strict=True)):
        k = position.get(row)
        if k is not None:
            grid[fid, k] = t.x[i]
            unit_of[int(fid)] = t.units[i]
    hits: list[_Hit] = []
    flagged_before = np.zeros((len(files), len(t.keys)), dtype=bool)
    up_before = np.zeros_like(flagged_before)
    for y in range(1, len(years)):
        now, before = grid[:, y], grid[:, y - 1]
        hit = jumped(now, before, limits)
        up = now > before
        hit &= ~(flagged_before & (up != up_before))  # the year after a spike: not again
        for f, j in zip(*np.nonzero(hit), strict=True):
            hits.append(_Hit("plausibility_trend", str(files[f]), unit_of[int(f)], form.id,
                             years[y], t.keys[j], float(now[f, j]), float(before[f, j]),
                             f"năm {labels.get(years[y - 1], years[y - 1])}"))
        flagged_before, up_before = hit, up
    return hits


# =========================================================================== findings


def _times(big: float, small: float) -> str:
    """How many times: ``52``, ``3,4``."""
    k = big / small
    return _figure(k, 0 if k >= 10 else 1)


def _figure(x: float, decimals: int = 2) -> str:
    """:func:`format_figure`, and a figure too big for it (a unit may type 1e20 in a count
    cell; babel's decimal rounding gives up there) in scientific notation."""
    try:
        return format_figure(x, decimals)
    except (ArithmeticError, ValueError):
        return f"{x:.3e}".replace(".", ",")


def _comparison(hit: _Hit) -> str:
    x, ref = hit.value, hit.reference
    if x > ref:
        return (f"gấp {_times(x, ref)} lần {hit.what}" if ref > 0
                else f"tăng mạnh so với {hit.what}")
    return f"chỉ bằng 1/{_times(ref, x)} {hit.what}" if x > 0 else f"giảm về 0 so với {hit.what}"


def _row_label(form: Form, row: str) -> str:
    if form.kind == "fixed_rows":
        label = next((r.label for r in form.rows if r.key == row), row)
        return f"{form.row_header.lower()} {label}" if label.isdigit() else label
    if form.kind == "targets":
        try:
            return form.indicator(row).name
        except KeyError:
            return row
    return ""


class _Cells:
    """Where each (form, row, column) of a file sits, worked out only for the files that
    get a warning (files of one template share their places: indexed once)."""

    def __init__(self, submissions: Iterable[Submission]) -> None:
        self.subs = {s.file: s for s in submissions}
        self.by_places: dict[int, tuple[object, dict[tuple[str, str, str], str]]] = {}
        self.by_file: dict[str, dict[tuple[str, str, str], str]] = {}

    def of(self, file: str) -> dict[tuple[str, str, str], str]:
        if file in self.by_file:
            return self.by_file[file]
        sub = self.subs.get(file)
        index: dict[tuple[str, str, str], str] = {}
        if sub is not None and isinstance(sub.cells, PackedCells):
            places = sub.cells.places
            known = self.by_places.get(id(places))
            if known is None or known[0] is not places:
                known = (places, {(f, r, c): a1 for f, r, c, a1 in places})
                self.by_places[id(places)] = known
            index = known[1]
        elif sub is not None:
            index = {(cv.form, cv.row, cv.column): cv.cell for cv in sub.cells}
        self.by_file[file] = index
        return index

    def note(self, file: str, form: str) -> str:
        """The A1 of the file's confirmation cell of ``form`` (empty: it has none)."""
        sub = self.subs.get(file)
        return next((c.cell for c in sub.confirmations if c.form == form), "") if sub else ""


def _to_findings(campaign: Campaign, hits: list[_Hit], submissions: Sequence[Submission],
                 confirmed: Collection[tuple[str, ...]]) -> list[Finding]:
    confirmed = set(confirmed)
    best: dict[tuple[str, str, str, str], _Hit] = {}
    for hit in hits:
        if ((hit.unit_code, hit.form) in confirmed
                or (hit.unit_code, hit.form, hit.row) in confirmed
                or (hit.unit_code, hit.form, hit.row, hit.column) in confirmed):
            continue
        key = (hit.file, hit.form, hit.row, hit.column)
        if key not in best or _PRIORITY[hit.code] < _PRIORITY[best[key].code]:
            best[key] = hit
    cells = _Cells(submissions)
    order = {f.id: i for i, f in enumerate(campaign.forms)}
    out: list[Finding] = []
    for hit in sorted(best.values(), key=lambda h: (h.file, order.get(h.form, 0), h.row,
                                                    h.column)):
        form = campaign.form(hit.form)
        column = form.column(hit.column)
        row_label = _row_label(form, hit.row)
        label = f"{column.label} ({row_label})" if row_label else column.label
        cell = cells.of(hit.file).get((hit.form, hit.row, hit.column), "")
        note = cells.note(hit.file, hit.form)
        out.append(make_finding(
            hit.code, file=hit.file, unit_code=hit.unit_code, form=hit.form, cell=cell,
            column=hit.column, row=hit.row, value=_figure(hit.value), label=label,
            comparison=_comparison(hit), reference=_figure(hit.reference),
            confirm=CONFIRM_HINT.format(cell=cell, where=f"{hit.form}!{note}")
            if note and cell else ""))
    return out


def to_check(findings: Iterable[Finding]) -> list[str]:
    """The cells a unit's plausibility warnings point at (``PL4!D14``), in their order:
    what the summary's «Cần kiểm tra» column and the terminal list."""
    return [f.where for f in findings if f.code in CODES]


def to_check_text(findings: Iterable[Finding], limit: int = 6) -> str:
    """``PL2!N14, PL4!D14`` — at most ``limit`` cells, then ``… (+3)``."""
    cells = to_check(findings)
    shown = ", ".join(cells[:limit])
    return f"{shown}, … (+{len(cells) - limit})" if len(cells) > limit else shown
