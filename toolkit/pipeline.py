"""The consolidation pipeline: ingest → select → validate → aggregate.

Pure library: takes an inbox folder and the campaign, returns a
:class:`~toolkit.spec.models.ConsolidationResult`; writing files is :mod:`toolkit.report.outputs`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from toolkit._infra.gcpause import collector_paused
from toolkit.check.checked import Checked
from toolkit.check.validate import long_texts, validate
from toolkit.history.compare import compare_run
from toolkit.history.confirm import confirmed_cells
from toolkit.history.plausibility import (
    PreviousIndex,
    PreviousValues,
    kept_index,
    plausibility_findings,
)
from toolkit.history.store import HISTORY_NAME
from toolkit.read.cache import CacheMemory, ReadCache
from toolkit.read.ingest import ingest
from toolkit.read.manifest import Arrival
from toolkit.read.provenance import sender_mismatches
from toolkit.read.selection import select
from toolkit.report.aggregate import AggregateMemo, aggregate
from toolkit.spec.campaign import Campaign
from toolkit.spec.errors import InboxError
from toolkit.spec.findings import make_finding
from toolkit.spec.models import ConsolidationResult, FormFrames, Submission
from toolkit.spec.units import Unit, UnitRegistry

CACHE_NAME = ".toolkit-cache.sqlite"


def cache_beside(out_dir: Path) -> Path:
    """Where a run writing ``out_dir`` keeps its read cache: next to that folder (never in
    it: the output folder is replaced whole), so a workspace's campaign folder holds it."""
    return Path(out_dir).absolute().parent / CACHE_NAME


def history_beside(out_dir: Path) -> Path:
    """Where a run writing ``out_dir`` keeps the history of its runs (outside a workspace):
    next to that folder, like the read cache, so runs of several campaigns or periods
    written side by side share it (a workspace keeps one at its root)."""
    return Path(out_dir).absolute().parent / HISTORY_NAME


def consolidate(
    inbox: Path,
    campaign: Campaign,
    units: UnitRegistry,
    office: Unit,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
    cache: Path | None = None,
    history: Path | None = None,
    previous: PreviousValues | None = None,
    memory: CacheMemory | None = None,
) -> ConsolidationResult:
    """Read every file of ``inbox``, validate it, and aggregate the accepted ones for
    ``office``. One bad file never stops the run: it becomes a status and findings.
    ``cache``: an SQLite file keeping what each file's bytes read as, so a rerun reads
    only new or changed files and validates only those (:mod:`toolkit.read.cache`);
    results are the same without. ``memory``: what a long-running process keeps of the
    campaign between runs with the same ``cache`` (the office's page), so a rerun reads
    neither the cache file nor unchanged files.
    ``history``: the SQLite file of past runs (:mod:`toolkit.history`): the result then
    carries the comparison with the earlier period and each unit's previous figures.
    ``previous``: each unit's figures in its previous report, ``(unit, form, row, column)``
    → value, for the plausibility warnings (:mod:`toolkit.history.plausibility`); by default
    those of the ``history``."""
    with collector_paused(memory is not None):
        return _consolidate(inbox, campaign, units, office, now=now, progress=progress,
                            cache=cache, history=history, previous=previous, memory=memory)


def _consolidate(inbox: Path, campaign: Campaign, units: UnitRegistry, office: Unit, *,
                 now: dt.datetime | None, progress: Callable[[int], None] | None,
                 cache: Path | None, history: Path | None, previous: PreviousValues | None,
                 memory: CacheMemory | None) -> ConsolidationResult:
    inbox = Path(inbox)
    if not inbox.exists():
        raise InboxError(f"Không tìm thấy thư mục hộp thư: {inbox}")
    if not inbox.is_dir():
        raise InboxError(f"{inbox} không phải là thư mục")
    read_cache = ReadCache(cache, campaign, units, memory) if cache is not None else None
    try:
        ingested = ingest(inbox, campaign, units=units, progress=progress, cache=read_cache)
        select(ingested.submissions, units, office, campaign)
        _check_senders(ingested.manifest.arrivals, ingested.submissions, units)
        if read_cache is None:
            frames = validate(campaign, ingested.submissions)
        else:  # each file's validation outcome is the file's own: kept like its reading
            made: dict[str, Checked] = {}
            known = read_cache.checked(s for s in ingested.submissions if s.status == "")
            frames = validate(campaign, ingested.submissions, known, made)
            read_cache.store_checked(made, ingested.submissions)
    finally:
        if read_cache is not None:
            read_cache.close()
    long_texts(campaign, ingested.submissions)
    memos = memory.memos if memory is not None else None
    comparison, earlier = (compare_run(history, campaign, frames, units, office.code, memos)
                           if history is not None else (None, None))
    _check_plausibility(campaign, frames, ingested.submissions, units,
                        kept_index(previous if previous is not None else earlier, memos))
    expected = units.children(office.code)
    accepted_codes = {s.unit_code for s in ingested.submissions if s.status == "accepted"}
    accepted_units = [u for u in expected if u.code in accepted_codes]
    forms = aggregate(campaign, frames, accepted_units,
                      {s.unit_code: s for s in ingested.submissions if s.status == "accepted"},
                      memo=AggregateMemo.kept(memos))
    generated_at = now or _as_of(ingested.submissions, campaign)
    return ConsolidationResult(
        campaign=campaign,
        office=office,
        office_parent=units.parent_of(office),
        submissions=ingested.submissions,
        expected=expected,
        forms=forms,
        generated_at=generated_at,
        skipped=list(ingested.skipped),
        frames=frames,
        cache=read_cache.stats if read_cache is not None else None,
        comparison=comparison,
        previous=earlier,
    )


def _as_of(submissions: list[Submission], campaign: Campaign) -> dt.datetime:
    """The time the figures stand at: the newest arrival in the inbox. Derived from the inbox,
    not the wall clock, so a rerun on the same inbox gives byte-identical outputs."""
    times = [s.received_at for s in submissions if s.received_at is not None]
    if times:
        return max(times).replace(microsecond=0)
    return dt.datetime.combine(campaign.document_date, dt.time(), tzinfo=dt.UTC)


def _check_plausibility(campaign: Campaign, frames: FormFrames,
                        submissions: list[Submission], units: UnitRegistry,
                        previous: PreviousValues | PreviousIndex | None) -> None:
    """Warnings on the accepted files' figures that deserve a second look, but not on those
    a unit confirmed in its template's «Xác nhận số liệu đúng» cell. They only help a
    clerk: whatever goes wrong computing them, the run goes on without them."""
    accepted = {s.file: s for s in submissions if s.status == "accepted"}
    try:
        found = plausibility_findings(campaign, frames, list(accepted.values()), units,
                                      previous=previous,
                                      confirmed=confirmed_cells(campaign, accepted.values()))
    except Exception:  # a warning must never cost the office its run
        return
    for finding in found:
        accepted[finding.file].findings.append(finding)


def _check_senders(arrivals: dict[str, Arrival], submissions: list[Submission],
                   units: UnitRegistry) -> None:
    """Warn when the manifest says a file was mailed from an address that is not its unit's
    registered one (someone may have sent another unit's file)."""
    candidates = [s for s in submissions if s.status == ""]
    by_file = {s.file: s for s in candidates}
    for mismatch in sender_mismatches(arrivals, candidates, units):
        sub = by_file[mismatch.file]
        sub.findings.append(make_finding(
            "sender_mismatch", file=sub.file, unit_code=sub.unit_code,
            sender=mismatch.sender, expected=mismatch.expected,
            unit_name=units.get(sub.unit_code).name,
        ))
