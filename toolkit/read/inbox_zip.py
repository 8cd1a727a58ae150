"""A ``.zip`` a clerk saved into the inbox by hand: its workbooks are read like the others.

``toolkit mail fetch`` unpacks zipped attachments as it saves them; a clerk who saves a
unit's ``bao-cao.zip`` from webmail gets the same treatment here, with the same guards: the
zip itself within the file size limit, at most :data:`MAX_MEMBERS` entries, only workbook
members (no lock files, no ``__MACOSX``), none encrypted, each within the file size limit,
every member inflated once through :func:`toolkit._infra.zipguard.check_members` before it
is trusted (a member lying about its size is refused, the zip is never inflated whole into
memory), names that are not UTF-8 read as cp1258.

The inbox is never modified: members are written into a private temporary folder, removed
when the process ends (feedback may still read them after ingest), and read from there by
the usual reader under the key ``bao-cao.zip › TX05.xlsx``.
"""

from __future__ import annotations

import atexit
import io
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from toolkit._infra.zipguard import Refused, check_members
from toolkit.read import limits
from toolkit.read.fsopen import open_regular, os_reason
from toolkit.spec.text import nfc

ZIP_SUFFIX = ".zip"
MAX_MEMBERS = 200  # as toolkit mail fetch: a unit's zip holds a few workbooks
SEPARATOR = " › "  # "bao-cao.zip › TX05.xlsx": the key of a member, as fetch labels it

_WORKDIR: list[Path] = []


@dataclass
class Unpacked:
    """The workbooks of one zip (key, extracted path) and what could not be taken, as
    (key, Vietnamese reason)."""

    members: list[tuple[str, Path]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def _workdir() -> Path:
    """One private folder per process for unpacked members, removed at exit."""
    if not _WORKDIR:
        path = Path(tempfile.mkdtemp(prefix="toolkit-zip-"))
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _WORKDIR.append(path)
    return _WORKDIR[0]


def member_name(info: zipfile.ZipInfo) -> str:
    """A member's name: zips without the UTF-8 flag were decoded as cp437; most tools really
    wrote UTF-8, Vietnamese Windows writes cp1258."""
    name = info.filename
    if info.flag_bits & 0x800:
        return nfc(name)
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return nfc(name)
    for encoding in ("utf-8", "cp1258"):
        try:
            return nfc(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
    return nfc(name)


def _junk(name: str) -> bool:
    base = name.replace("\\", "/").split("/")[-1]
    return base.startswith(("~$", "._", ".~lock.")) or "__MACOSX/" in name.replace("\\", "/")


def unpack(rel: str, path: Path, suffixes: tuple[str, ...]) -> Unpacked:
    """The workbook members (``suffixes``) of the zip at ``path`` (inbox key ``rel``),
    unpacked within the limits into the private folder."""
    found = Unpacked()
    try:
        with open_regular(path) as fh:
            data = fh.read(limits.MAX_FILE_BYTES + 1)
    except OSError as exc:
        found.refused.append((rel, f"không đọc được tệp nén ({os_reason(exc)})"))
        return found
    if len(data) > limits.MAX_FILE_BYTES:
        found.refused.append((rel, f"tệp nén lớn hơn {limits.MAX_FILE_BYTES // 2**20} MB, "
                                   "không giải nén"))
        return found
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        found.refused.append((rel, "tệp nén bị hỏng, không mở được"))
        return found
    if len(infos) > MAX_MEMBERS:
        found.refused.append((rel, f"tệp nén có {len(infos)} mục (quá {MAX_MEMBERS}), "
                                   "không giải nén"))
        return found
    wanted: list[tuple[str, zipfile.ZipInfo]] = []
    for info in infos:
        name = member_name(info)
        if info.is_dir() or _junk(name) or not name.lower().endswith(suffixes):
            continue
        key = f"{rel}{SEPARATOR}{name}"
        if info.flag_bits & 0x1:
            found.refused.append((key, "tệp trong tệp nén có mật khẩu, không giải nén được"))
        elif info.file_size > limits.MAX_FILE_BYTES:
            found.refused.append((key, f"lớn hơn {limits.MAX_FILE_BYTES // 2**20} MB, "
                                       "không giải nén"))
        else:
            wanted.append((key, info))
    if not wanted and not found.refused:
        found.refused.append((rel, "tệp nén không có tệp bảng tính nào (.xlsx, .xlsm, .xls, "
                                   ".ods)"))
        return found
    try:  # every member inflated once, in steps, against its declared size
        check_members(data, [info for _key, info in wanted])
    except Refused as exc:
        found.refused.append((rel, f"tệp nén bị từ chối: {exc.detail}"))
        return found
    folder = Path(tempfile.mkdtemp(dir=_workdir()))
    total = 0
    for i, (key, info) in enumerate(wanted):
        try:
            with archive.open(info) as member:
                content = member.read(limits.MAX_FILE_BYTES + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError,
                OSError, ValueError):
            found.refused.append((key, "không giải nén được (tệp nén hỏng hoặc kiểu nén lạ)"))
            continue
        total += len(content)
        if len(content) > limits.MAX_FILE_BYTES or total > limits.MAX_UNZIPPED_BYTES:
            found.refused.append((key, "giải nén ra quá lớn, không đọc"))
            continue
        target = folder / f"{i:03d}{Path(key).suffix.lower()}"
        target.write_bytes(content)
        found.members.append((key, target))
    return found
