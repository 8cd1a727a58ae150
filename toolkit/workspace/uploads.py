"""Files handed in through the page, landed in a campaign's inbox.

The rules the mail fetcher keeps, in the same functions: names made safe
(:func:`toolkit.mail.fetch.safe_filename`: last path part only, NFC, no leading dot, no
reserved characters), zip attachments unpacked by the fetcher's own reader (member count,
20 MB a member read at most, lock files and ``__MACOSX`` left out), and the ingest size cap
(:data:`toolkit.read.limits.MAX_FILE_BYTES`). A file is written beside the inbox first and
then hard-linked under a name nobody holds yet, so a landed file is never overwritten or
changed, and two uploads at once with one name both land (``tên (2).xlsx``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from toolkit.mail.attachments import zip_workbooks
from toolkit.mail.names import is_junk, safe_filename
from toolkit.read import limits

STAGING_DIR = ".dang-tai"  # beside the inbox, never inside it
MAX_TRIES = 10_000


@dataclass(frozen=True)
class Landed:
    """One uploaded file (or zip member): where it landed, or why it was refused."""

    name: str  # as the clerk named it (safe to show)
    stored: str = ""  # file name inside the inbox; empty when refused
    problem: str = ""  # Vietnamese reason when refused


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def store_upload(inbox: Path, name: str, data: bytes) -> list[Landed]:
    """Land one uploaded file in ``inbox``; a ``.zip`` lands as its workbooks."""
    shown = safe_filename(name)
    if len(data) > limits.MAX_FILE_BYTES and not shown.lower().endswith(".zip"):
        return [Landed(shown, problem=f"lớn hơn {_mb(limits.MAX_FILE_BYTES)} MB, không nhận")]
    if is_junk(name, data):
        return [Landed(shown, problem="tệp khóa tạm của Excel, không phải bài nộp")]
    if shown.lower().endswith(".zip"):
        return _store_zip(inbox, shown, data)
    return [Landed(shown, stored=_land(inbox, shown, data))]


def _store_zip(inbox: Path, shown: str, data: bytes) -> list[Landed]:
    notes: list[str] = []
    landed: list[Landed] = []
    for found in zip_workbooks(shown, data, notes):
        member = safe_filename(found.name)
        if found.refusal:
            landed.append(Landed(f"{shown} › {member}", problem=found.refusal))
        else:
            landed.append(Landed(f"{shown} › {member}",
                                 stored=_land(inbox, member, found.data)))
    landed += [Landed(shown, problem=note) for note in notes]
    if not landed:
        landed.append(Landed(shown, problem="tệp nén không có tệp bảng tính nào"))
    return landed


def _candidates(name: str) -> list[str]:
    dot = name.rfind(".")
    stem, suffix = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    return [name, *(f"{stem} ({i}){suffix}" for i in range(2, MAX_TRIES))]


def _place(tmp: str, target: Path) -> None:
    """Give ``tmp`` the name ``target`` unless that name is taken (FileExistsError). A hard
    link never replaces a file; where the disk has no hard links (a FAT USB stick) Windows'
    rename, which refuses an existing name too, does the same."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:
        if os.name != "nt":
            raise
        os.rename(tmp, target)  # pragma: no cover - Windows without hard links


def _land(inbox: Path, name: str, data: bytes) -> str:
    """Write ``data`` under a name free in ``inbox`` (never replacing a file); the name."""
    inbox.mkdir(parents=True, exist_ok=True)
    staging = inbox.parent / STAGING_DIR
    staging.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=staging)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        for candidate in _candidates(name):
            try:
                _place(tmp, inbox / candidate)
            except FileExistsError:
                continue
            return candidate
        raise FileExistsError(name)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
