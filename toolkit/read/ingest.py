"""Walk an inbox and read every workbook in it, each file by a worker process.

What a file is and who sent it is decided by :mod:`toolkit.read.reading` (one file) — this
module lists the inbox (lock files, hidden files, symlinks, FIFOs and devices, folders that
cannot be listed and other campaigns are skipped with a reason; a name that is not UTF-8 is
shown through cp1258), hands the files to :mod:`toolkit._infra.workers` (time limit, crash
isolation, deterministic order) and collects the answers. The inbox is never modified.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit._infra.workers import ordered_map
from toolkit.read import limits
from toolkit.read.cache import Encoded, ReadCache, encode, file_stat
from toolkit.read.fsopen import open_regular, os_reason
from toolkit.read.inbox_zip import SEPARATOR, ZIP_SUFFIX, unpack
from toolkit.read.manifest import MANIFEST_NAME, Manifest, load_manifest
from toolkit.read.notes import set_notes_apart
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
    manifest: Manifest = field(default_factory=Manifest)  # the mail fetcher's, as read


# --------------------------------------------------------------------------- the inbox

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_NOT_REGULAR = {stat.S_IFIFO: "ống dẫn FIFO", stat.S_IFSOCK: "socket",
                stat.S_IFCHR: "thiết bị", stat.S_IFBLK: "thiết bị"}


@dataclass(frozen=True)
class _Entry:
    """One thing found in the inbox: its key (``rel``: the relative path, printable),
    where it is, why it is skipped (code, detail) if it is, and whether its name was not
    UTF-8 (shown through cp1258)."""

    rel: str
    path: Path
    skip: str | None = None
    detail: str = ""
    foreign: bool = False


def shown_name(rel: str) -> tuple[str, bool]:
    """A printable form of a relative path from the file system, and whether a part of it
    was not UTF-8 (bytes a Vietnamese Windows zip leaves: read as cp1258, NFC; a byte
    cp1258 has no letter for as ``\\xNN``). Control characters become ``\\xNN``."""
    try:
        rel.encode("utf-8")  # no byte that was not UTF-8 (they come as lone surrogates)
    except UnicodeEncodeError:
        pass
    else:
        if not _CONTROL_RE.search(rel):
            return rel, False  # the common case, without a pass per part
    parts, foreign = [], False
    for part in rel.split("/"):
        raw = os.fsencode(part)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text, foreign = nfc(raw.decode("cp1258", errors="backslashreplace")), True
        parts.append(_CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text))
    return "/".join(parts), foreign


def _skip_code(name: str, path: Path) -> tuple[str | None, str]:
    if name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#")) or (
            name.startswith("~") and name.lower().endswith(".tmp")):
        return "lock_file", ""
    if name.startswith("."):
        return "hidden_file", ""
    try:
        mode = os.lstat(path).st_mode  # never follows a link
    except OSError:
        mode = stat.S_IFREG  # gone since the listing: the reader says so
    if stat.S_ISLNK(mode):
        return "symlink", ""
    if not name.lower().endswith((*WORKBOOK_SUFFIXES, ZIP_SUFFIX)):
        return "not_a_spreadsheet", ""
    if not stat.S_ISREG(mode):
        return "not_regular_file", _NOT_REGULAR.get(stat.S_IFMT(mode), "loại đặc biệt")
    return None, ""


def _walk(inbox: Path) -> list[_Entry]:
    """Everything in the inbox, sorted by key (:func:`_keys`; two names that differ only
    in Unicode form are two files). Nothing is opened or followed here (``lstat``); hidden
    and symlinked folders are listed once and not entered; a folder that cannot be listed
    is listed with why."""
    found: list[_Entry] = []

    def unlistable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else inbox
        rel = where.relative_to(inbox).as_posix() if where != inbox else "."
        found.append(_Entry(rel, where, "folder_unreadable", os_reason(exc)))

    top = os.fspath(inbox)
    cut = len(top) if top.endswith(os.sep) else len(top) + 1
    for root, dirs, files in os.walk(top, onerror=unlistable, followlinks=False):
        here = Path(root)
        # the folder's relative path, as Path.relative_to(inbox).as_posix() gives it
        prefix = "" if root == top else root[cut:].replace(os.sep, "/") + "/"
        for name in list(dirs):
            if name.startswith(".") or (here / name).is_symlink():
                dirs.remove(name)
                code = "hidden_file" if name.startswith(".") else "symlink"
                found.append(_Entry(prefix + name, here / name, code))
        for name in files:
            rel = prefix + name
            if rel != MANIFEST_NAME:  # the mail fetcher's record, not a submission
                path = here / name
                found.append(_Entry(rel, path, *_skip_code(name, path)))
    return _keys(found)


def _keys(found: list[_Entry]) -> list[_Entry]:
    """Entries with printable, unique keys, sorted. A key is the NFC form of the name
    (what every program shows) unless two names differ only in Unicode form (a copy saved
    on a Mac next to the Windows one): then each keeps its exact form, so the two files
    never share a key. A name shown through cp1258 that equals another file's name is
    shown byte by byte instead."""
    shown = [shown_name(e.rel) for e in found]
    forms: dict[str, int] = {}
    for rel, _foreign in shown:
        forms[nfc(rel)] = forms.get(nfc(rel), 0) + 1
    keyed: list[_Entry] = []
    used: set[str] = set()
    # names that were UTF-8 choose first: a re-read name never takes a real one's key
    for entry, (rel, foreign) in sorted(zip(found, shown, strict=True),
                                         key=lambda pair: pair[1][1]):
        rel = nfc(rel) if forms[nfc(rel)] == 1 else rel
        if rel in used:
            rel = os.fsencode(entry.rel).decode("ascii", errors="backslashreplace")
        used.add(rel)
        keyed.append(_Entry(rel, entry.path, entry.skip, entry.detail, foreign))
    return sorted(keyed, key=lambda e: e.rel)


# --------------------------------------------------------------------------- reading


_Outcome = tuple[str, Any]
# ("packed", (Submission without cells, cell places, raw values)) | ("other", campaign id)
# | ("failed", (finding code, detail)): the file could not be read at all
_WORKER: dict[str, Any] = {}


def _init_worker(campaign: Campaign, received: dict[str, dt.datetime],
                 units: UnitRegistry | None, cached: bool = False) -> None:
    _WORKER.update(campaign=campaign, received=received, units=units, cached=cached)


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
        return "failed", ("file_unreadable", os_reason(exc))
    # made here, in parallel; an empty or too large file is never looked up (_cached)
    encoded = encode(sub) if _WORKER.get("cached") and (
        0 < sub.size <= limits.MAX_FILE_BYTES) else None
    places = tuple((c.form, c.row, c.column, c.cell) for c in sub.cells)
    raws = [c.raw for c in sub.cells]
    sub.cells = []
    return "packed", (sub, places, raws, encoded)


def _failed(job: tuple[str, str], code: str, detail: str) -> _Outcome:
    return "failed", (code, detail)


def _unpack(outcome: _Outcome,
            places_seen: dict[tuple, tuple]) -> tuple[_Outcome, Encoded | None]:
    """A worker's outcome with its cells as :class:`PackedCells`, and its cache entry if
    one was made. Files from one template have the same cell places: ``places_seen``
    keeps one copy, so a province's 500,000 cells share their form, row, column and cell
    strings instead of each carrying its own."""
    if outcome[0] != "packed":
        return outcome, None
    sub, places, raws, encoded = outcome[1]
    places = places_seen.setdefault(places, places)
    sub.cells = PackedCells(places, raws)
    return ("sub", sub), encoded


def _cached(cache: ReadCache | None, files: list[tuple[str, Path]]) -> dict[str, _Outcome]:
    """The outcomes the cache holds for ``files`` (rel → outcome), found by each file's
    sha256. A file too large, or that cannot be opened now, is left to the reader (which
    says why)."""
    if cache is None:
        return {}
    if cache.is_empty():  # a first run: nothing to hash the files for
        cache.stats.misses += len(files)
        return {}
    wanted: dict[str, tuple[str, str, Path, int]] = {}
    keys: dict[str, str] = {}
    for rel, path in files:
        hashed = _digest(cache, path)
        if hashed is None:
            continue
        digest, size = hashed
        keys[rel] = cache.key(digest, rel)
        wanted[keys[rel]] = (digest, rel, path, size)
    found = cache.lookup(wanted)
    hits = {rel: ("sub", found[key]) for rel, key in keys.items() if key in found}
    cache.stats.hits += len(hits)
    cache.stats.misses += len(files) - len(hits)
    return hits


def _digest(cache: ReadCache, path: Path) -> tuple[str, int] | None:
    """The sha256 and size of a file to look up, or None (gone, empty, too large). A file
    whose stat is the one it had when hashed before is not read again
    (:func:`~toolkit.read.cache.file_stat`: written again or replaced, it has another)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISREG(st.st_mode) and 0 < st.st_size <= limits.MAX_FILE_BYTES:
        known = cache.known_digest(path, file_stat(st))
        if known is not None:
            return known, st.st_size
    try:
        with open_regular(path) as fh:
            before = file_stat(os.fstat(fh.fileno()))  # taken before reading: a write
            data = fh.read(limits.MAX_FILE_BYTES + 1)  # meanwhile changes ctime
    except OSError:
        return None
    if not data or len(data) > limits.MAX_FILE_BYTES:
        return None
    digest = hashlib.sha256(data).hexdigest()
    if before[2] == len(data):
        cache.hashed(path, before, digest)
    return digest, len(data)


def _received(sub: Submission, received: dict[str, dt.datetime]) -> Submission:
    """When a file from the cache arrived, as :func:`~toolkit.read.reading.read_file` says:
    the mail's Date, else the workbook's own save time."""
    sub.received_at = received.get(sub.file)
    if sub.received_at is not None:
        sub.received_source = "mail"
    elif sub.modified_at is not None:
        sub.received_at, sub.received_source = sub.modified_at, "saved"
    return sub


def _outcomes(files: list[tuple[str, Path]], campaign: Campaign,
              received: dict[str, dt.datetime], units: UnitRegistry | None,
              hits: dict[str, _Outcome], cache: ReadCache | None,
              read: list[tuple[str, Encoded]]) -> Generator[_Outcome, None, None]:
    """The outcome of every file, in the order given: from ``hits`` (the cache), or read
    by a worker process within the time limit (:mod:`toolkit._infra.workers`). What was
    read and can be cached is added to ``read`` as (key, entry), keyed by the hash of
    the bytes the worker read."""
    places_seen: dict[tuple, tuple] = {}
    todo = [(rel, str(path)) for rel, path in files if rel not in hits]
    fresh = ordered_map(_worker_read, todo, timeout=limits.MAX_FILE_SECONDS, failed=_failed,
                        initializer=_init_worker,
                        initargs=(campaign, received, units, cache is not None))
    try:
        for rel, _path in files:
            hit = hits.get(rel)
            if hit is not None:
                yield (hit[0], _received(hit[1], received)) if hit[0] == "sub" else hit
                continue
            outcome, encoded = _unpack(next(fresh), places_seen)
            if cache is not None and encoded is not None:
                key = cache.key(outcome[1].sha256, rel)
                read.append((key, encoded))
                cache.remember(key, outcome[1])
            yield outcome
    finally:
        fresh.close()


def ingest(inbox: Path, campaign: Campaign, *, units: UnitRegistry | None = None,
           progress: Callable[[int], None] | None = None,
           cache: ReadCache | None = None) -> IngestResult:
    """Every workbook under ``inbox`` as a :class:`Submission` (identified or not), and the
    files not read with a Vietnamese reason. Never modifies the inbox. ``units`` lets a
    file that lost its identity be recognised by the unit name on its sheets; ``cache``
    gives back what an earlier run read from the same bytes (:mod:`toolkit.read.cache`)."""
    inbox = Path(inbox)
    manifest = load_manifest(inbox)
    result = IngestResult(manifest=manifest)
    if manifest.problem:
        result.skipped.append((MANIFEST_NAME, message("manifest_unreadable", file=MANIFEST_NAME,
                                                      detail=manifest.problem)))
    entries = _unzipped(_walk(inbox))
    arrivals = {e.rel: _arrival(manifest.arrivals, e.rel) for e in entries if e.skip is None}
    received = {rel: a.date for rel, a in arrivals.items() if a is not None and a.date}
    files = [(e.rel, e.path) for e in entries if e.skip is None]
    hits = _cached(cache, files)
    read: list[tuple[str, Encoded]] = []
    outcomes = _outcomes(files, campaign, received, units, hits, cache, read)
    try:
        _collect(result, entries, outcomes, campaign, progress)
    finally:
        outcomes.close()  # stops the workers, also when the caller's progress raised
    if cache is not None:
        cache.store(read)  # before any later step adds to these submissions
    set_notes_apart(result.submissions)
    _note_names(result.submissions, {rel for rel, a in arrivals.items() if a and a.bad_date},
                {e.rel for e in entries if e.foreign})
    return result


def _arrival(arrivals: dict[str, Any], rel: str) -> Any:
    """The manifest line of ``rel``; a workbook unpacked from a zip arrived with its zip."""
    for key in (rel, unicodedata.normalize("NFC", rel), rel.split(SEPARATOR, 1)[0]):
        if key in arrivals:
            return arrivals[key]
    return None


def _unzipped(entries: list[_Entry]) -> list[_Entry]:
    """Each ``.zip`` saved into the inbox replaced by its workbooks (unpacked outside the
    inbox, :mod:`toolkit.read.inbox_zip`) and by what it held that could not be taken."""
    out: list[_Entry] = []
    for entry in entries:
        if entry.skip is not None or not entry.rel.lower().endswith(ZIP_SUFFIX):
            out.append(entry)
            continue
        unpacked = unpack(entry.rel, entry.path, WORKBOOK_SUFFIXES)
        out += [_Entry(key, path, foreign=entry.foreign) for key, path in unpacked.members]
        out += [_Entry(key, entry.path, "zip_refused", why) for key, why in unpacked.refused]
    return out


def _note_names(submissions: list[Submission], bad_dates: set[str],
                foreign: set[str]) -> None:
    """Warnings about a file's name or manifest line: a name that was not UTF-8, a manifest
    date that was ignored, two names equal once NFC-normalised (read apart all the same)."""
    by_nfc: dict[str, list[Submission]] = {}
    for sub in submissions:
        by_nfc.setdefault(nfc(sub.file), []).append(sub)
        if sub.file in foreign:
            sub.findings.append(make_finding("name_not_unicode", file=sub.file,
                                             unit_code=sub.unit_code))
        if sub.file in bad_dates:
            sub.findings.append(make_finding("manifest_bad_date", file=sub.file,
                                             unit_code=sub.unit_code))
    for form, same in by_nfc.items():
        if len(same) > 1:
            first = next((s for s in same if s.file == form), same[0])
            for sub in same:
                if sub is not first:
                    sub.findings.append(make_finding("same_name_other_form", file=sub.file,
                                                     unit_code=sub.unit_code,
                                                     other=first.file))


def _collect(result: IngestResult, entries: list[_Entry],
             outcomes: Iterator[_Outcome], campaign: Campaign,
             progress: Callable[[int], None] | None) -> None:
    for entry in entries:
        if entry.skip is not None:
            result.skipped.append((entry.rel, message(entry.skip, detail=entry.detail)))
        else:
            kind, value = next(outcomes)
            if kind == "sub":
                result.submissions.append(value)
            elif kind == "other":
                result.skipped.append((entry.rel, message("other_campaign", other=value,
                                                          campaign=campaign.id)))
            else:
                result.submissions.append(_unread(entry.rel, entry.path, *value))
        if progress is not None:
            progress(1)


def _unread(rel: str, path: Path, code: str, detail: str) -> Submission:
    """A file no worker could read (gone from disk, past the time limit, reader crashed)."""
    try:
        with open_regular(path) as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        digest, size = "", 0
    sub = Submission(file=rel, path=path, sha256=digest, size=size, status="unidentified")
    sub.findings.append(make_finding(code, file=rel, unit_code="", detail=detail,
                                     seconds=detail))
    sub.reason = sub.findings[-1].message
    return sub
