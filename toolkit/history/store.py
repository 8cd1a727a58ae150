"""The history store: every accepted value of every consolidation, in one SQLite file.

Why SQLite through the standard library: one file an office can copy, no server, readable by
any SQLite tool (the view ``history_values`` shows one value per line with its campaign,
period, office, unit, form, row, column, file sha256 and superseded flag).

Shape (schema version :data:`SCHEMA_VERSION`, in ``meta``; a file of another version is
refused with a Vietnamese message, never silently rewritten):

- ``runs``: one line per recorded run or import (campaign, period, office, generated_at,
  spec sha256, inbox digest, source). The same inbox recorded again is the same line:
  re-running does not duplicate anything.
- ``files``: one line per file whose values are kept (campaign, period, unit, sha256) with
  its values; a file that a newer one of the same unit and period replaced is kept,
  ``superseded = 1``. The office's own totals of a run are a "file" of the office (sha256
  ``tong-hop:<digest>``).
- ``keys``: the (form, row, column) places, numbered once; a file's values are two JSON
  objects, place number → number (``numbers``) and place number → text (``texts``). One line
  per file instead of one per value: loading a period of 2,000 units is one index range and
  2,000 ``json.loads`` (a third of the time of 200,000 rows), and the file is 2.5× smaller.
  The view ``history_values`` shows one value per line for anyone reading the file.

JSON, never pickle: a history file is data, never code. WAL journal, so a reader never blocks
the run recording.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
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
CREATE TABLE IF NOT EXISTS keys (
    id INTEGER PRIMARY KEY, form TEXT NOT NULL, row TEXT NOT NULL, col TEXT NOT NULL,
    UNIQUE (form, row, col)
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL REFERENCES runs(id),
    campaign TEXT NOT NULL, period TEXT NOT NULL, office TEXT NOT NULL,
    unit_code TEXT NOT NULL, sha256 TEXT NOT NULL, file TEXT NOT NULL,
    superseded INTEGER NOT NULL DEFAULT 0,
    numbers TEXT NOT NULL, texts TEXT NOT NULL,
    UNIQUE (campaign, period, unit_code, sha256)
);
CREATE INDEX IF NOT EXISTS files_current ON files (campaign, period, superseded);
CREATE VIEW IF NOT EXISTS history_values AS
    SELECT f.run, f.campaign, f.period, f.office, f.unit_code, k.form, k.row,
           k.col AS "column", j.value, f.sha256, f.file, f.superseded
    FROM files f, json_each(f.numbers) j JOIN keys k ON k.id = CAST(j.key AS INTEGER)
    UNION ALL
    SELECT f.run, f.campaign, f.period, f.office, f.unit_code, k.form, k.row,
           k.col AS "column", j.value, f.sha256, f.file, f.superseded
    FROM files f, json_each(f.texts) j JOIN keys k ON k.id = CAST(j.key AS INTEGER);
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
            self._keys = {(f, r, c): i for i, f, r, c in self.db.execute(
                "SELECT id, form, row, col FROM keys")}
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
                    numbers, texts = self._encode(fv.cells)
                    file_id = self.db.execute(
                        "INSERT INTO files (run, campaign, period, office, unit_code, sha256, "
                        "file, superseded, numbers, texts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (run, campaign, period, office, fv.unit_code, fv.sha256, fv.file,
                         int(fv.superseded), json.dumps(numbers, separators=(",", ":")),
                         json.dumps(texts, ensure_ascii=False, separators=(",", ":"))),
                    ).lastrowid
                    added += 1
                    values += len(numbers) + len(texts)
                else:
                    file_id = found[0]
                if not fv.superseded:
                    self.db.execute("UPDATE files SET superseded = (id != ?) WHERE campaign=? "
                                    "AND period=? AND unit_code=?",
                                    (file_id, campaign, period, fv.unit_code))
        return Recorded(run=run, new=True, files_added=added, values_added=values)

    def _key(self, place: tuple[str, str, str]) -> int:
        found = self._keys.get(place)
        if found is None:
            found = self.db.execute("INSERT INTO keys (form, row, col) VALUES (?, ?, ?)",
                                    place).lastrowid
            assert found is not None
            self._keys[place] = found
        return found

    def _encode(self, cells: Iterable[Cell]) -> tuple[dict[int, float], dict[int, str]]:
        numbers: dict[int, float] = {}
        texts: dict[int, str] = {}
        for form, row, col, value in cells:
            num, text = _split(value)
            if num is not None:
                numbers[self._key((form, row, col))] = num
            elif text is not None:
                texts[self._key((form, row, col))] = text
        return numbers, texts

    def places(self) -> dict[int, tuple[str, str, str]]:
        """Place number → (form, row, column)."""
        return {i: place for place, i in self._keys.items()}

    # ------------------------------------------------------------------ reading
    def periods(self, campaign: str | None = None) -> list[PeriodInfo]:
        """Every (campaign, period) with figures, or those of ``campaign``."""
        sql = ("SELECT f.campaign, f.period, max(r.generated_at), count(DISTINCT f.unit_code), "
               "sum((SELECT count(*) FROM json_each(f.numbers)) + "
               "(SELECT count(*) FROM json_each(f.texts))) "
               "FROM files f JOIN runs r ON r.id = f.run WHERE f.superseded = 0 {} "
               "GROUP BY f.campaign, f.period ORDER BY f.campaign, f.period")
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

    def period_list(self, campaign: str) -> list[tuple[str, str]]:
        """(period, when its newest run was made) of every period of ``campaign`` with
        current figures: the cheap question a comparison asks first."""
        return self.db.execute(
            "SELECT f.period, max(r.generated_at) FROM files f JOIN runs r ON r.id = f.run "
            "WHERE f.campaign = ? AND f.superseded = 0 GROUP BY f.period", (campaign,)
        ).fetchall()

    def current_files(self, campaign: str, period: str) -> str:
        """The ids of a period's current files: what :meth:`raw_numbers` gives depends on
        them alone (a file's numbers are never rewritten), so a process can keep what it
        made of them while they stay the same."""
        row = self.db.execute(
            "SELECT group_concat(id) FROM (SELECT id FROM files WHERE campaign = ? AND "
            "period = ? AND superseded = 0 ORDER BY id)", (campaign, period)).fetchone()
        return str(row[0] or "")

    def raw_numbers(self, campaign: str, period: str) -> Iterator[tuple[str, dict[str, float]]]:
        """The current numbers of a period, one file at a time: (unit code, place number as
        text → value); :meth:`places` names the places. The fast path of comparisons."""
        for unit, numbers in self.db.execute(
                "SELECT unit_code, numbers FROM files WHERE campaign = ? AND period = ? "
                "AND superseded = 0", (campaign, period)):
            yield unit, json.loads(numbers)

    def numbers(self, campaign: str, period: str
                ) -> Iterator[tuple[str, dict[tuple[str, str, str], float]]]:
        """The current numbers of a period, one unit's file at a time: (unit code,
        (form, row, column) → value)."""
        places = self.places()
        for unit, numbers in self.raw_numbers(campaign, period):
            yield unit, {places[int(k)]: v for k, v in numbers.items()}

    def values(self, campaign: str, period: str, *, superseded: bool = False
               ) -> list[tuple[str, str, str, str, Any]]:
        """The values of a period (current ones, or only the superseded ones): (unit code,
        form, row, column, number or text), in a stable order."""
        places = self.places()
        out: list[tuple[str, str, str, str, Any]] = []
        for unit, numbers, texts in self.db.execute(
                "SELECT unit_code, numbers, texts FROM files WHERE campaign = ? AND period = ? "
                "AND superseded = ? ORDER BY unit_code, sha256", (campaign, period,
                                                                   int(superseded))):
            for blob in (numbers, texts):
                out.extend((unit, *places[int(k)], v) for k, v in json.loads(blob).items())
        return out
