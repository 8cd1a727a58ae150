"""The inbox manifest (``manifest.csv``): when and from whom each file arrived.

``toolkit mail fetch`` records one line per saved attachment (file, sender, date,
message_id, subject). When present, the message date is the received time used for
lateness, instead of the file's modification time (which copying or a git checkout resets).

The manifest is as untrusted as the files: a date that is malformed or outside 1980–2999
(year 9999 at −12:00 overflows any later arithmetic) is ignored and said so; a manifest that
cannot be read (or is no regular file) is said so too, never silently dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.read import limits
from toolkit.read.fsopen import open_regular, os_reason, sane_time

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("file", "sender", "date", "message_id", "subject")


@dataclass(frozen=True)
class Arrival:
    """One manifest line."""

    file: str
    sender: str
    date: dt.datetime | None
    message_id: str
    subject: str
    bad_date: bool = False  # a date was given but is malformed or out of range (ignored)


@dataclass
class Manifest:
    """The manifest's lines, and why it could not be read at all (``problem``: a short
    Vietnamese reason; empty when it was read or there is none)."""

    arrivals: dict[str, Arrival] = field(default_factory=dict)
    problem: str = ""


def _parse_date(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return sane_time(value if value.tzinfo else value.replace(tzinfo=dt.UTC))


def load_manifest(inbox: Path) -> Manifest:
    """The manifest of ``inbox`` (keyed by NFC relative path), with the reason when it
    exists but cannot be read."""
    path = inbox / MANIFEST_NAME
    try:
        if not os.path.lexists(path):
            return Manifest()
        with open_regular(path) as fh:  # never a FIFO, a device or a link out of the inbox
            data = fh.read(limits.MAX_FILE_BYTES + 1)
        if len(data) > limits.MAX_FILE_BYTES:
            return Manifest(problem=f"lớn hơn {limits.MAX_FILE_BYTES} byte")
        text = data.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
    except OSError as exc:
        return Manifest(problem=os_reason(exc))
    except UnicodeDecodeError:
        return Manifest(problem="tệp không phải văn bản UTF-8")
    except csv.Error:
        return Manifest(problem="tệp CSV hỏng")
    arrivals: dict[str, Arrival] = {}
    for row in rows:
        name = unicodedata.normalize("NFC", str(row.get("file") or "").strip()
                                     ).replace("\\", "/")
        if not name:
            continue
        given = str(row.get("date") or "").strip()
        date = _parse_date(given)
        arrivals[name] = Arrival(
            file=name,
            sender=str(row.get("sender") or "").strip(),
            date=date,
            message_id=str(row.get("message_id") or "").strip(),
            subject=str(row.get("subject") or "").strip(),
            bad_date=bool(given) and date is None,
        )
    return Manifest(arrivals)


def read_manifest(inbox: Path) -> dict[str, Arrival]:
    """Manifest lines keyed by NFC relative path; empty when there is no (readable) manifest."""
    return load_manifest(inbox).arrivals
