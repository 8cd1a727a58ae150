"""The inbox folder as ``mail fetch`` finds and leaves it: files already there (by sha256),
unique new names, and ``manifest.csv`` (one line per saved or refused attachment), rewritten
atomically with its old lines kept."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from toolkit._infra.atomic import OutputError, ensure_dir, write_bytes
from toolkit.mail.names import FORMULA_STARTS, WORKBOOK_SUFFIXES, suffix_of
from toolkit.mail.settings import MailError
from toolkit.read.manifest import MANIFEST_COLUMNS, MANIFEST_NAME
from toolkit.spec.text import nfc

# appended after the reader's columns (which never move): the sha256 of the file as it was
# fetched, and why an attachment was not saved (then ``file`` is empty)
SHA_COLUMN = "sha256"
NOTE_COLUMN = "note"
FETCH_COLUMNS = (*MANIFEST_COLUMNS, SHA_COLUMN, NOTE_COLUMN)


@dataclass(frozen=True)
class SavedFile:
    """One file written into the inbox, and its manifest line."""

    file: str
    sender: str
    date: str
    message_id: str
    subject: str
    origin: str  # the attachment name (``báo cáo.zip › Phụ lục.xlsx`` for a zip member)
    note: str = ""  # why an attachment was not saved (then ``file`` is empty)
    sha256: str = ""  # of the content as fetched




def _manifest_header(text: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text)), [])
    return [c.strip() for c in first]


class InboxState:
    """Files already in the inbox (by sha256) and its manifest, appended atomically."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = ensure_dir(Path(inbox))
        self.manifest = self.inbox / MANIFEST_NAME
        self.by_sha: dict[str, str] = {}
        for path in sorted(self.inbox.rglob("*")):
            if (path.is_file() and suffix_of(path.name) in WORKBOOK_SUFFIXES
                    and not path.name.startswith((".", "~$"))):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                rel = nfc(path.relative_to(self.inbox).as_posix())
                self.by_sha.setdefault(digest, rel)
        self._text = ""
        self.columns: tuple[str, ...] = ()  # the manifest's header, once there is one
        self.recorded: set[str] = set()
        self.message_ids: set[str] = set()
        # what was fetched: (Message-ID, sha256 as fetched), never the Message-ID alone (a
        # second message reusing a Message-ID with other attachments is still saved); lines
        # written before the sha256 column existed keep the old rule: their Message-ID
        self.fetched: set[tuple[str, str]] = set()
        self.legacy_ids: set[str] = set()
        if self.manifest.is_file():
            try:
                self._text = self.manifest.read_bytes().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise MailError(f"{self.manifest} không phải UTF-8; không ghi thêm được") from None
            if self._text.strip():
                header = _manifest_header(self._text)
                if tuple(header) not in (MANIFEST_COLUMNS, FETCH_COLUMNS):
                    raise MailError(f"{self.manifest} có các cột {','.join(header)}, cần đúng "
                                    f"{','.join(MANIFEST_COLUMNS)} (có thể thêm cột "
                                    f"{NOTE_COLUMN} ở cuối); không ghi thêm được")
                self.columns = tuple(header)
                for row in csv.DictReader(io.StringIO(self._text)):
                    file = nfc((row.get("file") or "").strip())
                    self.recorded.add(file)
                    mid = str(row.get("message_id") or "").strip()
                    sha = str(row.get(SHA_COLUMN) or "").strip().lower()
                    note = str(row.get(NOTE_COLUMN) or "").strip()
                    if mid:
                        self.message_ids.add(mid)
                        if sha:
                            self.fetched.add((mid, sha))
                        elif not file and note:
                            self.fetched.add((mid, refusal_key(note)))
                        else:
                            self.legacy_ids.add(mid)
        self._used = {p.name.casefold() for p in self.inbox.iterdir()}

    def unique_name(self, name: str) -> str:
        """``name``, or ``name (2)``… when a file of that name (any case) exists."""
        suffix = suffix_of(name)
        stem = name[: len(name) - len(suffix)]
        candidate, n = name, 1
        while candidate.casefold() in self._used or (self.inbox / candidate).exists():
            n += 1
            candidate = f"{stem} ({n}){suffix}"
        self._used.add(candidate.casefold())
        return candidate

    def append(self, rows: list[SavedFile]) -> None:
        """Add manifest lines: the whole file is rewritten atomically, old lines kept."""
        if not rows:
            return
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        noted = any(r.note for r in rows)
        if not self._text.strip():
            self._text = ""
            self.columns = FETCH_COLUMNS
            writer.writerow(self.columns)
        else:
            if noted and self.columns != FETCH_COLUMNS:  # new columns go at the end
                end = self._text.find("\n")
                end = len(self._text) if end < 0 else end - (self._text[end - 1] == "\r")
                self._text = ",".join(FETCH_COLUMNS) + self._text[end:]
                self.columns = FETCH_COLUMNS
            if not self._text.endswith(("\n", "\r")):
                buf.write("\r\n")
        for r in rows:
            cells = [r.file, _text_cell(r.sender), r.date, _text_cell(r.message_id),
                     _text_cell(r.subject)]
            writer.writerow([*cells, r.sha256, _text_cell(r.note)]
                            if self.columns == FETCH_COLUMNS else cells)
            self.recorded.add(r.file)
            if r.message_id:
                self.message_ids.add(r.message_id)
        self._text += buf.getvalue()
        write_file(self.manifest, ("\ufeff" + self._text).encode("utf-8"))


def refusal_key(note: str) -> str:
    """What stands for a refused attachment in ``InboxState.fetched`` (no sha256: its
    content was never kept): the manifest note, which names the attachment."""
    return "refused:" + note.strip().lstrip("'")


def _text_cell(text: str) -> str:
    """Text from a stranger never starts like a formula when Excel opens the manifest."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_file(path: Path, data: bytes) -> None:
    try:
        write_bytes(path, data)
    except OSError as exc:
        raise OutputError(f"Không ghi được {path}: {exc.strerror or exc}") from None

