"""A campaign of the workspace consolidated, and what the office's board shows of it.

The run is :func:`toolkit.pipeline.consolidate` plus
:func:`toolkit.report.outputs.write_outputs` into the campaign's results folder, exactly what
``toolkit consolidate`` does, with the read and validation cache beside the results folder
and, in the running page, the campaign's files kept in memory between runs.
The counts follow the library's own rules: a unit's status is
:meth:`ConsolidationResult.status_of`, lateness is :func:`toolkit.spec.models.is_late`
against the campaign's deadline for the unit's level.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.history.record import record_result
from toolkit.history.store import HISTORY_NAME, HistoryError
from toolkit.pipeline import cache_beside, consolidate, history_beside
from toolkit.read.cache import CacheMemory
from toolkit.report.outputs import OutputPaths, feedback_plan, write_outputs
from toolkit.spec.campaign import Campaign
from toolkit.spec.compare import percent_text
from toolkit.spec.models import STATUS_LABELS, ConsolidationResult, Submission, is_late
from toolkit.spec.text import format_number
from toolkit.spec.units import Unit
from toolkit.workspace.settings import Workspace, WorkspaceError, find_workspace


@dataclass(frozen=True)
class UnitLine:
    """One subordinate unit on the board."""

    unit: Unit
    status: str  # accepted / rejected / missing
    late: bool | None
    chosen: Submission | None
    files: tuple[Submission, ...]  # every file of the unit, newest choice first

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    def versions(self, campaign: Campaign) -> list[tuple[Submission, Submission, list[Change]]]:
        """Each file of the unit against the one it replaced (oldest first)."""
        files = sorted((s for s in self.files if s.cells),
                       key=lambda s: (s.received_at is None, s.received_at, s.file))
        return [(a, b, changes(campaign, a, b)) for a, b in itertools.pairwise(files)]


@dataclass(frozen=True)
class Change:
    """One value that differs between two files of a unit (as typed, before checking)."""

    where: str  # ``PL2!E9``
    column: str  # the column's label
    before: str
    after: str


def changes(campaign: Campaign, older: Submission, newer: Submission) -> list[Change]:
    """What the unit changed from ``older`` to ``newer``, cell by cell, in form order."""
    def values(sub: Submission) -> dict[tuple[str, str, str], tuple[str, Any]]:
        return {(c.form, c.row, c.column): (c.cell, c.raw) for c in sub.cells}

    old, new = values(older), values(newer)
    order = {f.id: i for i, f in enumerate(campaign.forms)}
    out = []
    for key in sorted(old.keys() | new.keys(), key=lambda k: (order.get(k[0], 99), k)):
        before, after = old.get(key, ("", None)), new.get(key, ("", None))
        if _text(before[1]) == _text(after[1]):
            continue
        try:
            label = campaign.form(key[0]).column(key[2]).label
        except (KeyError, ValueError):
            label = key[2]
        out.append(Change(f"{key[0]}!{after[0] or before[0]}", label, _text(before[1]),
                          _text(after[1])))
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


@dataclass(frozen=True)
class Figures:
    """One form's office figures as the summary workbook holds them, ready to show."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (row label, formatted values)


@dataclass
class Board:
    """What one consolidation of a campaign gives the page."""

    campaign: Campaign
    office: Unit
    result: ConsolidationResult
    paths: OutputPaths
    lines: list[UnitLine] = field(default_factory=list)
    feedback: dict[str, str] = field(default_factory=dict)  # submitted file → feedback file

    @property
    def deadline(self) -> dt.date | None:
        levels = {line.unit.level for line in self.lines}
        days = [d for d in (self.campaign.deadline_for(level) for level in levels) if d]
        return min(days) if days else None

    def count(self, what: str) -> int:
        """``received`` / ``on_time`` / ``late`` / ``accepted`` / ``rejected`` / ``missing``."""
        tests = {
            "received": lambda ln: ln.status != "missing",
            "on_time": lambda ln: ln.status != "missing" and ln.late is False,
            "late": lambda ln: ln.status != "missing" and ln.late is True,
        }
        test = tests.get(what, lambda ln: ln.status == what)
        return sum(1 for line in self.lines if test(line))

    @property
    def others(self) -> list[Submission]:
        """Files that belong to no expected unit's choice: unidentified or another office's."""
        expected = {u.code for u in self.result.expected}
        return [s for s in self.result.submissions
                if s.status == "unidentified" or s.unit_code not in expected]

    def line(self, code: str) -> UnitLine | None:
        return next((ln for ln in self.lines if ln.unit.code == code), None)

    @property
    def next_step(self) -> str:
        """What the office should do now, in one Vietnamese sentence."""
        if not self.result.submissions and not self.result.skipped:
            return "Tải biểu mẫu về, gửi cho các đơn vị, rồi đưa các tệp nhận lại vào hộp thư."
        rejected, missing = self.count("rejected"), self.count("missing")
        if rejected:
            return (f"Gửi phản hồi cho {rejected} đơn vị có lỗi để sửa và nộp lại"
                    + (f"; nhắc {missing} đơn vị chưa nộp." if missing else "."))
        if missing:
            return f"Nhắc {missing} đơn vị chưa nộp."
        return "Đủ báo cáo hợp lệ: tải bảng tổng hợp."

    def figures(self, limit: int = 12) -> list[Figures]:
        """The office's own figures per form (first ``limit`` numeric columns), formatted as
        the summary shows them: ratios as percentages of summed parts."""
        out = []
        for summary in self.result.forms:
            cols = [c for c in summary.form.columns if c.is_numeric or c.aggregate == "ratio"]
            cols = cols[:limit]
            rows = tuple((row.label, tuple(_shown(row.values.get(c.key), c.aggregate)
                                           for c in cols))
                         for row in summary.rows if row.kind == "office")
            if cols and rows:
                out.append(Figures(f"{summary.form.id}. {summary.form.title}",
                                   tuple(c.label for c in cols), rows))
        return out


    def changes(self, limit: int = 15) -> list[tuple[str, str, str, str, str]]:
        """The office's totals against the earlier period, as the «So sánh» sheet gives them:
        (form, figure, this period, earlier, change %), the ``limit`` largest changes first;
        empty without an earlier period in the history."""
        cmp = self.result.comparison
        if cmp is None or not cmp.has_previous:
            return []
        ranked = sorted(cmp.indicators, key=lambda i: -abs(i.total.ratio or 0.0))[:limit]
        return [(i.form, i.label, _shown(i.total.current, "sum"),
                 _shown(i.total.previous, "sum"),
                 "" if i.total.ratio is None else percent_text(i.total.ratio))
                for i in ranked]


def _shown(value: Any, aggregate: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if aggregate == "ratio":
        return format_number(round(100 * value, 1)) + " %"
    return format_number(value)


def inbox_state(inbox: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of everything in ``inbox``: a board made from
    the same state is still true."""
    state = []
    for root, _dirs, files in os.walk(inbox):
        for name in files:
            path = Path(root, name)
            try:
                st = path.lstat()
            except OSError:
                continue
            state.append((path.relative_to(inbox).as_posix(), st.st_size, st.st_mtime_ns))
    return tuple(sorted(state))


def history_file(out_dir: Path) -> Path:
    """The history a run writing ``out_dir`` compares with and is recorded into: the
    workspace's, at its root, when ``out_dir`` is inside one (every campaign of the office
    shares it), else the one beside ``out_dir``."""
    try:
        ws = find_workspace(Path(out_dir).absolute().parent)
    except WorkspaceError:
        ws = None
    return ws.root / HISTORY_NAME if ws is not None else history_beside(out_dir)


def consolidate_campaign(ws: Workspace, campaign_id: str,
                         memory: CacheMemory | None = None) -> Board:
    """Consolidate the campaign's inbox for the workspace's office and write the results
    folder, as ``toolkit consolidate`` run inside the workspace does. ``memory``: what the
    running page keeps of the campaign since its last run (files not read again)."""
    campaign = ws.load_campaign(campaign_id)
    units = ws.load_units()
    office = units.office(ws.office or None)
    history = history_file(ws.results(campaign_id))
    result = consolidate(ws.inbox(campaign_id), campaign, units, office,
                         cache=cache_beside(ws.results(campaign_id)), history=history,
                         memory=memory)
    paths = write_outputs(result, result.frames, ws.results(campaign_id),
                          feedback_memo=memory.feedback if memory is not None else None)
    with contextlib.suppress(HistoryError):  # the outputs are written; history is a bonus
        record_result(history, result)
    board = Board(campaign=campaign, office=office, result=result, paths=paths)
    written = {p.name for p in paths.feedback}
    board.feedback = {sub.file: name for name, sub in feedback_plan(result) if name in written}
    by_unit: dict[str, list[Submission]] = {}
    for sub in result.submissions:
        by_unit.setdefault(sub.unit_code, []).append(sub)
    for unit in result.expected:
        chosen = result.chosen(unit.code)
        late = is_late(chosen.received_at, campaign.deadline_for(unit.level)) if chosen else None
        board.lines.append(UnitLine(unit=unit, status=result.status_of(unit.code), late=late,
                                    chosen=chosen, files=tuple(by_unit.get(unit.code, ()))))
    return board
