"""The inbox manifest (``manifest.csv``): when and from whom each file arrived.

``toolkit mail fetch`` records one line per saved attachment (file, sender, date,
message_id, subject). When present, the message date is the received time used for
lateness, instead of the file's modification time (which copying or a git checkout resets).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

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


def _parse_date(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def read_manifest(inbox: Path) -> dict[str, Arrival]:
    """Manifest lines keyed by NFC relative path; empty when there is no (readable) manifest."""
    path = inbox / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return {}
    arrivals: dict[str, Arrival] = {}
    for row in csv.DictReader(io.StringIO(text)):
        name = unicodedata.normalize("NFC", (row.get("file") or "").strip()).replace("\\", "/")
        if not name:
            continue
        arrivals[name] = Arrival(
            file=name,
            sender=(row.get("sender") or "").strip(),
            date=_parse_date(row.get("date") or ""),
            message_id=(row.get("message_id") or "").strip(),
            subject=(row.get("subject") or "").strip(),
        )
    return arrivals
