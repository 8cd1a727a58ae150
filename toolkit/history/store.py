"""The history store: every accepted value of every consolidation, in one SQLite file.

Why SQLite through the standard library: one file an office can copy, no server, readable by
any SQLite tool (the view ``history_values`` shows one value per line with its campaign,
period, office, unit, form, row, column, file sha256 and superseded flag).

Shape (schema version :data:`SCHEMA_VERSION`, in ``meta``; a file of another version is
refused with a Vietnamese message, never silently rewritten):

- ``runs``: one line per recorded run or import (campaign, period, office, generated_at,
  spec sha256, inbox digest, source). The same inbox recorded again is the same line:
  re-running does not duplicate anything.
- ``files``: one line per file whose values are kept (campaign, period, unit, sha256); a
  file that a newer one of the same unit and period replaced is kept, ``superseded = 1``.
  The office's own totals of a run are a "file" of the office (sha256 ``tong-hop:<digest>``).
- ``cells``: the values of each file (form, row, column, number or text).

Values are stored as JSON-free plain columns (a number in ``num``, anything else as text in
``txt``); nothing is ever pickled. WAL journal, so a reader never blocks the run recording.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1"
HISTORY_NAME = ".toolkit-lich-su.sqlite"
OFFICE_SHA_PREFIX = "tong-hop:"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL, period TEXT NOT NULL, office TEXT NOT NULL,
    generated_at TEXT NOT NULL, spec_sha256 TEXT NOT NULL, inbox_digest TEXT NOT NULL,
    source TEXT NOT NULL, recorded_at TEXT NOT NULL,
    UNIQUE (campaign, period, office, inbox_digest)
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL REFERENCES runs(id),
    campaign TEXT NOT NULL, period TEXT NOT NULL, office TEXT NOT NULL,
    unit_code TEXT NOT NULL, sha256 TEXT NOT NULL, file TEXT NOT NULL,
    superseded INTEGER NOT NULL DEFAULT 0,
    UNIQUE (campaign, period, unit_code, sha256)
);
CREATE INDEX IF NOT EXISTS files_current ON files (campaign, period, superseded);
CREATE TABLE IF NOT EXISTS cells (
    file INTEGER NOT NULL REFERENCES files(id),
    form TEXT NOT NULL, row TEXT NOT NULL, col TEXT NOT NULL,
    num REAL, txt TEXT,
    PRIMARY KEY (file, form, row, col)
) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS history_values AS
    SELECT f.run, f.campaign, f.period, f.office, f.unit_code, c.form, c.row,
           c.col AS "column", COALESCE(c.num, c.txt) AS value, f.sha256, f.file,
           f.superseded
    FROM cells c JOIN files f ON f.id = c.file;
"""

Cell = tuple[str, str, str, Any]  # (form, row, column, value)


class HistoryError(Exception):
    """The history file cannot be used; the message is Vietnamese and names the file."""


@dataclass(frozen=True)
class FileValues:
    """One file's values to keep: the unit, the file's sha256 and name, its cells."""

    unit_code: str
    sha256: str
    file: str
    cells: Sequence[Cell]
    superseded: bool = False


@dataclass(frozen=True)
class Recorded:
    """What :meth:`HistoryStore.record` did: ``new`` False when the same run was there."""

    run: int
    new: bool
    files_added: int = 0
    values_added: int = 0


@dataclass(frozen=True)
class PeriodInfo:
    """One (campaign, period) the store holds figures of."""

    campaign: str
    period: str
    last_generated_at: str
    units: int
    values: int


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _split(value: Any) -> tuple[float | None, str | None]:
    """A value as (number, text): numbers kept as numbers, dates as ISO text, blanks None."""
    if value is None or isinstance(value, bool):
        return None, None if value is None else str(value)
    if isinstance(value, (int, float)):
        return (None, None) if math.isnan(value) else (float(value), None)
    if isinstance(value, (dt.date, dt.datetime)):
        return None, value.isoformat()
    text = str(value)
    return (None, text) if text.strip() else (None, None)


def digest(parts: Iterable[str]) -> str:
    """A stable sha256 over ``parts`` (sorted): what makes two runs "the same inbox"."""
    h = hashlib.sha256()
    for part in sorted(parts):
        h.update(part.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


class HistoryStore:
    """An open history file. Use as a context manager; every method commits its own work."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"Không mở được tệp lịch sử {self.path}: {exc}") from None
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._schema()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise HistoryError(f"Tệp {self.path} không phải tệp lịch sử của toolkit "
                               f"({exc}); hãy chọn tệp khác hoặc đổi tên tệp này") from None

    def _schema(self) -> None:
        found = None
        has_meta = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        if has_meta:
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            found = row[0] if row else None
        elif self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise sqlite3.DatabaseError("có các bảng khác")
        if found is not None and found != SCHEMA_VERSION:
            raise HistoryError(f"Tệp lịch sử {self.path} có phiên bản {found}, toolkit này dùng "
                               f"phiên bản {SCHEMA_VERSION}: hãy cập nhật toolkit")
        with self.db:
            self.db.executescript(_SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                            (SCHEMA_VERSION,))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def record(self, *, campaign: str, period: str, office: str, generated_at: str,
               spec_sha256: str, inbox_digest: str, source: str,
               files: Iterable[FileValues]) -> Recorded:
        """Keep one run: its files' values, once each. The same (campaign, period, office,
        inbox digest) again records nothing. A unit's file that is not superseded becomes the
        unit's current one for that period; its other files are marked superseded (kept)."""
        with self.db:
            row = self.db.execute(
                "SELECT id FROM runs WHERE campaign=? AND period=? AND office=? "
                "AND inbox_digest=?", (campaign, period, office, inbox_digest)).fetchone()
            if row is not None:
                return Recorded(run=row[0], new=False)
            run = self.db.execute(
                "INSERT INTO runs (campaign, period, office, generated_at, spec_sha256, "
                "inbox_digest, source, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (campaign, period, office, generated_at, spec_sha256, inbox_digest, source,
                 _now())).lastrowid
            assert run is not None
            added = values = 0
            for fv in files:
                found = self.db.execute(
                    "SELECT id FROM files WHERE campaign=? AND period=? AND unit_code=? "
                    "AND sha256=?", (campaign, period, fv.unit_code, fv.sha256)).fetchone()
                if found is None:
                    file_id = self.db.execute(
                        "INSERT INTO files (run, campaign, period, office, unit_code, sha256, "
                        "file, superseded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (run, campaign, period, office, fv.unit_code, fv.sha256, fv.file,
                         int(fv.superseded))).lastrowid
                    rows = [(file_id, form, r, col, *_split(value))
                            for form, r, col, value in fv.cells]
                    rows = [x for x in rows if x[4] is not None or x[5] is not None]
                    self.db.executemany("INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?, ?)",
                                        rows)
                    added += 1
                    values += len(rows)
                else:
                    file_id = found[0]
                if not fv.superseded:
                    self.db.execute("UPDATE files SET superseded = (id != ?) WHERE campaign=? "
                                    "AND period=? AND unit_code=?",
                                    (file_id, campaign, period, fv.unit_code))
        return Recorded(run=run, new=True, files_added=added, values_added=values)

    # ------------------------------------------------------------------ reading
    def periods(self, campaign: str | None = None) -> list[PeriodInfo]:
        """Every (campaign, period) with figures, or those of ``campaign``."""
        sql = ("SELECT f.campaign, f.period, max(r.generated_at), "
               "count(DISTINCT f.unit_code), (SELECT count(*) FROM cells c JOIN files g "
               "ON g.id = c.file WHERE g.campaign = f.campaign AND g.period = f.period "
               "AND g.superseded = 0) FROM files f JOIN runs r ON r.id = f.run "
               "WHERE f.superseded = 0 {} GROUP BY f.campaign, f.period "
               "ORDER BY f.campaign, f.period")
        if campaign is None:
            rows = self.db.execute(sql.format(""))
        else:
            rows = self.db.execute(sql.format("AND f.campaign = ?"), (campaign,))
        return [PeriodInfo(*row) for row in rows]

    def runs(self) -> list[dict[str, Any]]:
        """Every recorded run, oldest first, as plain mappings (for ``history list``)."""
        cur = self.db.execute("SELECT id, campaign, period, office, generated_at, source, "
                              "recorded_at FROM runs ORDER BY id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def numbers(self, campaign: str, period: str) -> Iterator[tuple[str, str, str, str, float]]:
        """The current numbers of a period: (unit code, form, row, column, value)."""
        yield from self.db.execute(
            "SELECT f.unit_code, c.form, c.row, c.col, c.num FROM files f JOIN cells c "
            "ON c.file = f.id WHERE f.campaign = ? AND f.period = ? AND f.superseded = 0 "
            "AND c.num IS NOT NULL", (campaign, period))

    def values(self, campaign: str, period: str, *, superseded: bool = False
               ) -> list[tuple[str, str, str, str, Any]]:
        """The values of a period (current ones, or only the superseded ones): (unit code,
        form, row, column, number or text), in a stable order."""
        return self.db.execute(
            "SELECT f.unit_code, c.form, c.row, c.col, COALESCE(c.num, c.txt) FROM files f "
            "JOIN cells c ON c.file = f.id WHERE f.campaign = ? AND f.period = ? "
            "AND f.superseded = ? ORDER BY f.unit_code, f.sha256, c.form, c.row, c.col",
            (campaign, period, int(superseded))).fetchall()
