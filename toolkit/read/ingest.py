"""Walk an inbox and read every workbook in it, each file by a worker process.

What a file is and who sent it is decided by :mod:`toolkit.read.reading` (one file) — this
module lists the inbox (lock files, hidden files, symlinks and other campaigns are skipped
with a reason), hands the files to :mod:`toolkit._infra.workers` (time limit, crash isolation,
deterministic order) and collects the answers. The inbox is never modified.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit._infra.workers import ordered_map
from toolkit.read import limits
from toolkit.read.book import short_error
from toolkit.read.manifest import MANIFEST_NAME, read_manifest
from toolkit.read.reading import OtherCampaign, read_file
from toolkit.spec.campaign import Campaign
from toolkit.spec.findings import make_finding, message
from toolkit.spec.models import PackedCells, Submission
from toolkit.spec.text import nfc
from toolkit.spec.units import UnitRegistry

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")


@dataclass
class IngestResult:
    """Every workbook seen (identified or not) and the files not read, with why."""

    submissions: list[Submission] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- the inbox


def _skip_code(name: str, path: Path) -> str | None:
    if name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#")) or (
            name.startswith("~") and name.lower().endswith(".tmp")):
        return "lock_file"
    if name.startswith("."):
        return "hidden_file"
    if path.is_symlink():
        return "symlink"
    return None if name.lower().endswith(WORKBOOK_SUFFIXES) else "not_a_spreadsheet"


def _walk(inbox: Path) -> list[tuple[str, Path, str | None]]:
    """(relative NFC POSIX path, path, skip code or None), sorted by relative path. Hidden
    and symlinked folders are listed once and not entered."""
    found: list[tuple[str, Path, str | None]] = []
    for root, dirs, files in os.walk(inbox, followlinks=False):
        here = Path(root)
        for name in list(dirs):
            if name.startswith(".") or (here / name).is_symlink():
                dirs.remove(name)
                code = "hidden_file" if name.startswith(".") else "symlink"
                found.append((nfc((here / name).relative_to(inbox).as_posix()), here / name, code))
        for name in files:
            rel = nfc((here / name).relative_to(inbox).as_posix())
            if rel != MANIFEST_NAME:  # the mail fetcher's record, not a submission
                found.append((rel, here / name, _skip_code(name, here / name)))
    return sorted(found, key=lambda t: t[0])


# --------------------------------------------------------------------------- reading


_Outcome = tuple[str, Any]
# ("packed", (Submission without cells, cell places, raw values)) | ("other", campaign id)
# | ("failed", (finding code, detail)): the file could not be read at all
_WORKER: dict[str, Any] = {}


def _init_worker(campaign: Campaign, received: dict[str, dt.datetime],
                 units: UnitRegistry | None) -> None:
    _WORKER.update(campaign=campaign, received=received, units=units)


def _worker_read(job: tuple[str, str]) -> _Outcome:
    """Read one file (in a worker process); its cells travel back as plain tuples (a tenth
    of the pickling cost of CellValue objects)."""
    rel, path = job
    try:
        sub = read_file(rel, Path(path), _WORKER["campaign"], _WORKER["received"],
                        _WORKER["units"])
    except OtherCampaign as other:
        return "other", str(other)
    except OSError as exc:  # vanished or unreadable on disk
        return "failed", ("file_unreadable", short_error(exc))
    places = tuple((c.form, c.row, c.column, c.cell) for c in sub.cells)
    raws = [c.raw for c in sub.cells]
    sub.cells = []
    return "packed", (sub, places, raws)


def _failed(job: tuple[str, str], code: str, detail: str) -> _Outcome:
    return "failed", (code, detail)


def _unpack(outcome: _Outcome, places_seen: dict[tuple, tuple]) -> _Outcome:
    """A worker's outcome with its cells as :class:`PackedCells`. Files from one template
    have the same cell places: ``places_seen`` keeps one copy, so a province's 500,000 cells
    share their form, row, column and cell strings instead of each carrying its own."""
    if outcome[0] != "packed":
        return outcome
    sub, places, raws = outcome[1]
    places = places_seen.setdefault(places, places)
    sub.cells = PackedCells(places, raws)
    return "sub", sub


def _outcomes(files: list[tuple[str, Path]], campaign: Campaign,
              received: dict[str, dt.datetime],
              units: UnitRegistry | None) -> Generator[_Outcome, None, None]:
    """The outcome of every file, in the order given, each read by a worker process within
    the time limit (:mod:`toolkit._infra.workers`)."""
    places_seen: dict[tuple, tuple] = {}
    for outcome in ordered_map(_worker_read, [(rel, str(path)) for rel, path in files],
                               timeout=limits.MAX_FILE_SECONDS, failed=_failed,
                               initializer=_init_worker, initargs=(campaign, received, units)):
        yield _unpack(outcome, places_seen)


def ingest(inbox: Path, campaign: Campaign, *, units: UnitRegistry | None = None,
           progress: Callable[[int], None] | None = None) -> IngestResult:
    """Every workbook under ``inbox`` as a :class:`Submission` (identified or not), and the
    files not read with a Vietnamese reason. Never modifies the inbox. ``units`` lets a
    file that lost its identity be recognised by the unit name on its sheets."""
    inbox = Path(inbox)
    received = {f: a.date for f, a in read_manifest(inbox).items() if a.date is not None}
    result = IngestResult()
    entries = _walk(inbox)
    files = [(rel, path) for rel, path, skip in entries if skip is None]
    outcomes = _outcomes(files, campaign, received, units)
    try:
        _collect(result, entries, outcomes, campaign, progress)
    finally:
        outcomes.close()  # stops the workers, also when the caller's progress raised
    return result


def _collect(result: IngestResult, entries: list[tuple[str, Path, str | None]],
             outcomes: Iterator[_Outcome], campaign: Campaign,
             progress: Callable[[int], None] | None) -> None:
    for rel, path, skip in entries:
        if skip is not None:
            result.skipped.append((rel, message(skip)))
        else:
            kind, value = next(outcomes)
            if kind == "sub":
                result.submissions.append(value)
            elif kind == "other":
                result.skipped.append((rel, message("other_campaign", other=value,
                                                    campaign=campaign.id)))
            else:
                result.submissions.append(_unread(rel, path, *value))
        if progress is not None:
            progress(1)


def _unread(rel: str, path: Path, code: str, detail: str) -> Submission:
    """A file no worker could read (gone from disk, past the time limit, reader crashed)."""
    try:
        with path.open("rb") as fh:
            digest, size = hashlib.file_digest(fh, "sha256").hexdigest(), path.stat().st_size
    except OSError:
        digest, size = "", 0
    sub = Submission(file=rel, path=path, sha256=digest, size=size, status="unidentified")
    sub.findings.append(make_finding(code, file=rel, unit_code="", detail=detail,
                                     seconds=detail))
    sub.reason = sub.findings[-1].message
    return sub
