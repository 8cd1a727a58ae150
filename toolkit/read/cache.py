"""What reading and validating one file gave, kept in SQLite so the next run on the same
inbox reads and validates only the files that are new or changed (issue 15 item 4).

An entry is keyed by everything reading a file depends on: the file's sha256, its name in
the inbox (findings quote it), the campaign spec's hash, the toolkit version and a digest
of the reader's and validator's own source, and the units file (a file without identity is
recognised by its unit's name). The file's validation outcome (:mod:`toolkit.check.checked`:
every check looks at one row of one file) is kept under the same key. What depends on the
other files, the manifest or the office — when it was received, superseded, late, whether
it is accepted, the totals — is never cached: the pipeline computes it again each run, so
results are byte-identical with and without the cache. A file's hash is remembered by its
stat (device, inode, size, mtime, ctime: :func:`file_stat`), so an unchanged file is not
read at all; :class:`CacheMemory` keeps all of it in a long-running process (the page).

A cache file may have been damaged or tampered with: entries are JSON (never pickle),
checked field by field on load, and anything wrong is a miss. A file SQLite cannot read is
replaced; a cache another run holds locked is simply not used. Standard library only.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from toolkit.check.checked import Checked, decode_checked, encode_checked
from toolkit.read.notes import set_notes_apart
from toolkit.spec.campaign import Campaign
from toolkit.spec.models import CacheStats, Finding, PackedCells, Submission
from toolkit.spec.units import UnitRegistry

SCHEMA = "toolkit-read-cache 2"
_TIMEOUT = 2.0  # seconds to wait for another run's write before going without the cache
_SOURCES = ("read", "spec", "check", "_infra")  # what reading a file runs
_FINDING_FIELDS = 10


_ROOT = Path(__file__).resolve().parent.parent
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_VERSION_RE = re.compile(r'^__version__ = "([^"]+)"', re.MULTILINE)


def toolkit_version() -> str:
    """``toolkit.__version__``, read from the package's source (this layer may not import
    the public API)."""
    found = _VERSION_RE.search((_ROOT / "__init__.py").read_text(encoding="utf-8"))
    return found.group(1) if found else "?"


_Places = tuple[tuple[str, str, str, str], ...]


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """The toolkit version and a digest of the reader's source: a reader changed without a
    new version number (a developer's checkout) must not reuse old entries."""
    root = _ROOT
    digest = hashlib.sha256(toolkit_version().encode())
    for package in _SOURCES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def units_digest(units: UnitRegistry | None) -> str:
    """A digest of the units a file can be recognised by (code, name, level, parent)."""
    if units is None:
        return "-"
    rows = sorted((u.code, u.name, u.level, u.parent) for u in units.units.values())
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


Stat = tuple[int, int, int, int, int]  # device, inode, size, mtime_ns, ctime_ns


def file_stat(st: os.stat_result) -> Stat:
    """What says a file is still the one hashed: its device and inode, size, and the times
    of its last change of content (mtime, which a copy may set back) and of anything at all
    (ctime, which no program sets): bytes written in place or a file put in its place give
    another stat."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class CacheMemory:
    """What a long-running process (the office's page) keeps of one campaign between runs:
    the entries and validation outcomes of the files last seen, and their hashes by stat,
    so a run after one upload reads neither the SQLite file nor the unchanged files.
    Entries are handed out as copies (a run adds findings to what it gets); what the last
    run did not use is dropped when it ends. ``feedback`` holds the feedback workbooks the
    last outputs had (:func:`toolkit.report.outputs.write_outputs`); ``memos``, what later
    stages keep between runs, each under its own name (aggregation's per-unit shares)."""

    def __init__(self) -> None:
        self.entries: dict[str, Submission] = {}
        self.checked: dict[str, Checked] = {}
        self.digests: dict[str, tuple[Stat, str]] = {}
        self.used: set[str] = set()
        self.feedback: dict[tuple[Any, ...], bytes | str] = {}  # the last outputs' feedback
        self.memos: dict[str, Any] = {}

    def retain_used(self) -> None:
        self.entries = {k: v for k, v in self.entries.items() if k in self.used}
        self.checked = {k: v for k, v in self.checked.items() if k in self.used}
        self.used = set()


def _pristine(sub: Submission, path: Path | None = None) -> Submission:
    """A copy of a Submission as the cache gives it: no received time, its own lists."""
    copy = object.__new__(Submission)  # dataclasses.replace, at a tenth of its cost
    copy.__dict__.update(sub.__dict__, findings=list(sub.findings), identity=dict(sub.identity),
                         origins=dict(sub.origins), confirmations=list(sub.confirmations),
                         received_at=None, received_source="unknown", path=path or sub.path)
    return copy


def _kept(sub: Submission) -> Submission:
    """What the memory keeps of a file read: a copy, its confirmation cells already set
    apart (:mod:`toolkit.read.notes`), so a later run hands it out as it is."""
    entry = _pristine(sub)
    set_notes_apart([entry])
    return entry


class ReadCache:
    """One SQLite file of read results, for one campaign spec, toolkit and units file;
    ``memory`` keeps them in the process too, across runs (:class:`CacheMemory`)."""

    def __init__(self, path: Path, campaign: Campaign, units: UnitRegistry | None,
                 memory: CacheMemory | None = None) -> None:
        self.path = Path(path)
        self.stats = CacheStats()
        self.campaign = campaign
        self.memory = memory
        self._prefix = "\0".join((SCHEMA, campaign.spec_sha256, campaign.id, code_digest(),
                                  units_digest(units)))
        self._db: sqlite3.Connection | None = None
        self._opened = False
        self._digests: dict[str, tuple[Stat, str]] | None = None  # the file's, once loaded
        self._new_digests: dict[str, tuple[Stat, str]] = {}
        self._paths: set[str] = set()  # the files this run looked up

    # ----------------------------------------------------------------------- keys

    def key(self, sha256: str, rel: str) -> str:
        """The entry's key: a digest of everything reading the file depends on."""
        return hashlib.sha256(f"{self._prefix}\0{sha256}\0{rel}".encode()).hexdigest()

    # ----------------------------------------------------------------------- the file

    def _connect(self) -> sqlite3.Connection | None:
        if self._opened:
            return self._db
        self._opened = True
        for attempt in range(2):
            try:
                self._db = self._open()
                return self._db
            except sqlite3.OperationalError as exc:
                if _locked(exc):
                    self.stats.problems.append(f"locked: {exc}")
                    return None
                self.stats.problems.append(f"unreadable: {exc}")
            except (sqlite3.Error, OSError, ValueError) as exc:
                self.stats.problems.append(f"unreadable: {exc}")
            self._close()
            if attempt == 0 and not self._replace():
                return None
        return None

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=_TIMEOUT, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, "
                       "payload TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS places (digest TEXT PRIMARY KEY, "
                       "payload TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS checked (key TEXT PRIMARY KEY, "
                       "payload TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS digests (path TEXT PRIMARY KEY, "
                       "stat TEXT NOT NULL, sha256 TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
            if row is None:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA,))
            elif row[0] != SCHEMA:
                raise ValueError(f"schema {row[0]!r}")
        except BaseException:
            db.close()
            raise
        return db

    def _replace(self) -> bool:
        """Remove a cache file SQLite cannot read (and its journal), to start afresh."""
        try:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            self.stats.problems.append(f"cannot replace: {exc}")
            return False
        self.stats.problems.append("rebuilt")
        return True

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def close(self) -> None:
        """Done with the cache for this run: the hashes worked out are kept, and the
        memory keeps only what this run used."""
        if self._new_digests:
            self._put("INSERT OR REPLACE INTO digests VALUES (?, ?, ?)",
                      [(path, json.dumps(st), digest)
                       for path, (st, digest) in self._new_digests.items()])
            self._new_digests = {}
        gone = [(p,) for p in (self._digests or {}) if p not in self._paths]
        if gone:  # files no longer in the inbox (or unpacked from a zip elsewhere)
            self._put("DELETE FROM digests WHERE path = ?", gone)
        self._close()
        if self.memory is not None:
            self.memory.retain_used()
            self.memory.digests = {k: v for k, v in self.memory.digests.items()
                                   if k in self._paths}

    def _put(self, sql: str, rows: Sequence[tuple[str, ...]]) -> bool:
        db = self._connect()
        if db is None or not rows:
            return False
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(sql, rows)
            db.execute("COMMIT")
            return True
        except sqlite3.Error as exc:
            self._failed(exc)
            return False

    def _select(self, sql: str, keys: list[str]) -> list[tuple[Any, ...]]:
        """``sql`` (ending in ``IN``) for ``keys``, 500 at a time; raises sqlite3.Error."""
        db = self._db
        assert db is not None
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows += db.execute(f"{sql} ({','.join('?' * len(chunk))})", chunk).fetchall()
        return rows

    # ----------------------------------------------------------------------- hashes

    def known_digest(self, path: Path, st: Stat) -> str | None:
        """The sha256 of the file at ``path`` when it was hashed with this same stat (a
        file written again or replaced has another: :func:`file_stat`)."""
        key = str(path)
        self._paths.add(key)
        if self.memory is not None:
            found = self.memory.digests.get(key)
            if found is not None and found[0] == st:
                return found[1]
        if self._digests is None:
            self._digests = {}
            db = self._connect()
            if db is not None:
                try:
                    for name, stat_text, digest in db.execute(
                            "SELECT path, stat, sha256 FROM digests"):
                        try:
                            saved = tuple(json.loads(stat_text))
                        except (TypeError, ValueError, RecursionError):
                            continue
                        if (len(saved) == 5 and all(type(v) is int for v in saved)
                                and isinstance(digest, str) and _SHA_RE.fullmatch(digest)):
                            self._digests[name] = (saved, digest)
                except sqlite3.Error as exc:
                    self._failed(exc)
        found = self._digests.get(key)
        if found is not None and found[0] == st:
            if self.memory is not None:
                self.memory.digests[key] = found
            return found[1]
        return None

    def hashed(self, path: Path, st: Stat, digest: str) -> None:
        """Remember that the file at ``path``, with stat ``st``, hashed to ``digest``."""
        key = str(path)
        self._paths.add(key)
        if self.memory is not None:
            self.memory.digests[key] = (st, digest)
        if self._digests is None or self._digests.get(key) != (st, digest):
            self._new_digests[key] = (st, digest)

    def _failed(self, exc: sqlite3.Error) -> None:
        """A query failed: a locked cache is left alone; a damaged one is replaced (its
        entries would not be trusted anyway), both without failing the run."""
        self._close()
        if isinstance(exc, sqlite3.OperationalError) and _locked(exc):
            self.stats.problems.append(f"locked: {exc}")
            return
        self.stats.problems.append(f"unreadable: {exc}")
        self._replace()

    # ----------------------------------------------------------------------- entries

    def is_empty(self) -> bool:
        """Whether the cache holds no entry (a first run: nothing to look up)."""
        if self.memory is not None and self.memory.entries:
            return False
        db = self._connect()
        if db is None:
            return True
        try:
            return db.execute("SELECT 1 FROM entries LIMIT 1").fetchone() is None
        except sqlite3.Error as exc:
            self._failed(exc)
            return True

    def lookup(self, wanted: dict[str, tuple[str, str, Path, int]]) -> dict[str, Submission]:
        """Decoded entries for ``wanted`` (key → (sha256, rel, path, size)): a
        :class:`Submission` without its received time. An entry that fails any check is
        left out (a miss)."""
        found: dict[str, Submission] = {}
        memory = self.memory
        if memory is not None:
            for key in wanted:
                kept = memory.entries.get(key)
                if kept is not None:
                    sha256, rel, path, size = wanted[key]
                    found[key] = _pristine(kept, path)
                    memory.used.add(key)
            wanted = {k: v for k, v in wanted.items() if k not in found}
        if not wanted:
            return found
        db = self._connect()
        if db is None:
            return found
        try:
            rows = self._select("SELECT key, payload FROM entries WHERE key IN", list(wanted))
            payloads = {}
            for key, text in rows:
                try:
                    payloads[key] = json.loads(text)
                except (TypeError, ValueError, RecursionError):
                    continue
            digests = sorted({p["places"] for p in payloads.values()
                              if isinstance(p, dict) and isinstance(p.get("places"), str)})
            places: dict[str, _Places] = {}
            for start in range(0, len(digests), 500):
                chunk = digests[start:start + 500]
                for digest, text in db.execute(
                        f"SELECT digest, payload FROM places WHERE digest IN "
                        f"({','.join('?' * len(chunk))})", chunk):
                    decoded = _decode_places(digest, text)
                    if decoded is not None:
                        places[digest] = decoded
        except sqlite3.Error as exc:
            self._failed(exc)
            return found
        for key, payload in payloads.items():
            sha256, rel, path, size = wanted[key]
            try:
                found[key] = _decode(payload, sha256, rel, path, size, places)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError,
                    RecursionError):
                continue
            if memory is not None:
                memory.entries[key] = _kept(found[key])
                memory.used.add(key)
        return found

    def remember(self, key: str, sub: Submission) -> None:
        """Keep a file just read in the memory (as the cache would give it back)."""
        if self.memory is not None:
            self.memory.entries[key] = _kept(sub)
            self.memory.used.add(key)

    # ----------------------------------------------------------------------- validation

    def checked(self, subs: Iterable[Submission]) -> dict[str, Checked]:
        """The validation outcomes kept for ``subs`` (file → outcome), each found by the
        same key as the file's read entry (:mod:`toolkit.check.checked`)."""
        keys = {self.key(sub.sha256, sub.file): sub for sub in subs if sub.sha256}
        found: dict[str, Checked] = {}
        memory = self.memory
        if memory is not None:
            for key, sub in keys.items():
                kept = memory.checked.get(key)
                if kept is not None and kept.unit_code == sub.unit_code:
                    found[sub.file] = kept
                    memory.used.add(key)
            keys = {k: s for k, s in keys.items() if s.file not in found}
        if keys and self._connect() is not None:
            try:
                rows = self._select("SELECT key, payload FROM checked WHERE key IN",
                                    list(keys))
            except sqlite3.Error as exc:
                self._failed(exc)
                rows = []
            for key, text in rows:
                sub = keys[key]
                head, _, body = text.partition("\n") if isinstance(text, str) else ("", "", "")
                decoded = (decode_checked(body, self.campaign, sub.unit_code)
                           if head == key else None)  # an entry moved to another key: a miss
                if decoded is None:
                    continue
                found[sub.file] = decoded
                if memory is not None:
                    memory.checked[key] = decoded
                    memory.used.add(key)
        self.stats.checked += len(found)
        return found

    def store_checked(self, made: dict[str, Checked], subs: Iterable[Submission]) -> None:
        """Keep the outcomes of the files validated this run (``made``: file → outcome)."""
        rows = []
        for sub in subs:
            outcome = made.get(sub.file)
            if outcome is None or not sub.sha256:
                continue
            key = self.key(sub.sha256, sub.file)
            if self.memory is not None:
                self.memory.checked[key] = outcome
                self.memory.used.add(key)
            text = encode_checked(outcome, self.campaign)
            if text is not None:
                rows.append((key, f"{key}\n{text}"))
        self._put("INSERT OR REPLACE INTO checked VALUES (?, ?)", rows)

    def store(self, entries: Iterable[tuple[str, Encoded]]) -> None:
        """Keep ``(key, encoded)`` pairs (:func:`encode` of a Submission just read, before
        any later step changed it)."""
        rows, place_rows = [], {}
        for key, (payload, (digest, places)) in entries:
            place_rows[digest] = places
            rows.append((key, payload))
        if not rows:
            return
        db = self._connect()
        if db is None:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO places VALUES (?, ?)", place_rows.items())
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?)", rows)
            db.execute("COMMIT")
            self.stats.stored += len(rows)
        except sqlite3.Error as exc:
            self._failed(exc)


def _locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


# --------------------------------------------------------------------------- encoding


Encoded = tuple[str, tuple[str, str]]  # (entry JSON, (places digest, places JSON))


def encode(sub: Submission) -> Encoded | None:
    """A Submission just read as JSON for :meth:`ReadCache.store` (done in the reading
    worker, in parallel); None when a value's type JSON cannot say exactly (that file is
    read again next time)."""
    cells = sub.cells
    if isinstance(cells, PackedCells):
        places, raws = list(cells.places), list(cells.raws)
    else:
        places = [(c.form, c.row, c.column, c.cell) for c in cells]
        raws = [c.raw for c in cells]
    try:
        raws_out = [_encode_raw(r) for r in raws]
    except TypeError:
        return None
    places_text = json.dumps([list(p) for p in places], ensure_ascii=False)
    digest = hashlib.sha256(places_text.encode()).hexdigest()
    payload = {
        "modified_at": sub.modified_at.isoformat() if sub.modified_at else None,
        "identity": sub.identity,
        "sheet_names": list(sub.sheet_names),
        "origins": [[form, row, unit] for (form, row), unit in sub.origins.items()],
        "findings": [[f.file, f.unit_code, f.form, f.cell, f.column, f.severity, f.code,
                      f.message, f.value, f.row] for f in sub.findings],
        "status": sub.status,
        "reason": sub.reason,
        "places": digest,
        "raws": raws_out,
    }
    return json.dumps(payload, ensure_ascii=False, allow_nan=False), (digest, places_text)


def _encode_raw(raw: Any) -> Any:
    """A cell value as JSON: text, numbers and booleans as they are; a time, date or
    duration tagged (``["dt", iso]``); anything else raises TypeError."""
    if raw is None or isinstance(raw, (str, bool, int)):
        return raw
    if isinstance(raw, float):
        return raw if math.isfinite(raw) else ["f", repr(raw)]
    if isinstance(raw, dt.datetime):
        return ["dt", raw.isoformat()]
    if isinstance(raw, dt.date):
        return ["d", raw.isoformat()]
    if isinstance(raw, dt.time):
        return ["t", raw.isoformat()]
    if isinstance(raw, dt.timedelta):
        return ["td", raw.days, raw.seconds, raw.microseconds]
    raise TypeError(type(raw).__name__)


def _decode_raw(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    tag = value[0]
    if tag == "f" and value[1] in ("inf", "-inf", "nan"):
        return float(value[1])
    if tag == "dt":
        return dt.datetime.fromisoformat(_text(value[1]))
    if tag == "d":
        return dt.date.fromisoformat(_text(value[1]))
    if tag == "t":
        return dt.time.fromisoformat(_text(value[1]))
    if tag == "td" and len(value) == 4 and all(type(v) is int for v in value[1:]):
        return dt.timedelta(days=value[1], seconds=value[2], microseconds=value[3])
    raise ValueError("raw")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("text")
    return value


def _texts(values: Any, n: int | None = None) -> list[str]:
    if not isinstance(values, list) or (n is not None and len(values) != n):
        raise TypeError("list")
    return [_text(v) for v in values]


def _decode_places(digest: str, text: str) -> _Places | None:
    try:
        if hashlib.sha256(text.encode()).hexdigest() != digest:
            return None
        rows = json.loads(text)
        if not isinstance(rows, list):
            return None
        return tuple((a, b, c, d) for a, b, c, d in (_texts(r, 4) for r in rows))
    except (TypeError, ValueError, UnicodeError, RecursionError):
        return None


def _decode(payload: Any, sha256: str, rel: str, path: Path, size: int,
            places: dict[str, _Places]) -> Submission:
    """A Submission from a stored entry; raises on anything unexpected."""
    if not isinstance(payload, dict):
        raise TypeError("payload")
    modified = payload["modified_at"]
    identity = payload["identity"]
    if not isinstance(identity, dict):
        raise TypeError("identity")
    raws = payload["raws"]
    cell_places = places[_text(payload["places"])]
    if not isinstance(raws, list) or len(raws) != len(cell_places):
        raise ValueError("cells")
    origins = {}
    for item in payload["origins"]:
        form, row, unit = _texts(item, 3)
        origins[(form, row)] = unit
    sub = Submission(
        file=rel, path=path, sha256=sha256, size=size,
        modified_at=None if modified is None else dt.datetime.fromisoformat(_text(modified)),
        identity={_text(k): _text(v) for k, v in identity.items()},
        findings=[Finding(*_texts(f, _FINDING_FIELDS)) for f in payload["findings"]],
        status=_text(payload["status"]), reason=_text(payload["reason"]),
        sheet_names=tuple(_texts(payload["sheet_names"])), origins=origins,
    )
    sub.cells = PackedCells(cell_places, [_decode_raw(r) for r in raws])
    return sub
