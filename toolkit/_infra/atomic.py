"""Atomic output: write to a temporary file beside the target, then rename.

A run killed midway leaves the previous outputs intact and no half-written file under the
final name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


class OutputError(Exception):
    """The output folder cannot be created or written (Vietnamese message)."""


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) or raise :class:`OutputError` saying why."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Không tạo được thư mục kết quả {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK):
        raise OutputError(f"Không có quyền ghi vào thư mục kết quả {path}")
    return path


class OutputWriteError(OutputError, OSError):
    """Writing an output failed in the operating system (disk full, no permission…): a
    Vietnamese :class:`OutputError` for the command line, still an :class:`OSError`."""


_WHY = {errno.ENOSPC: "ổ đĩa đã đầy", errno.EDQUOT: "đã hết hạn mức dung lượng",
        errno.EROFS: "ổ đĩa chỉ cho đọc", errno.EACCES: "không có quyền ghi",
        errno.EPERM: "không có quyền ghi", errno.ENAMETOOLONG: "tên tệp quá dài",
        errno.EIO: "lỗi đọc/ghi của ổ đĩa"}


def output_error(exc: OSError, where: Path) -> OutputWriteError:
    """An OS failure while writing outputs into ``where``, as one Vietnamese line."""
    why = _WHY.get(exc.errno or 0) or exc.strerror or type(exc).__name__
    return OutputWriteError(f"Không ghi được kết quả vào {where}: {why}. Các tệp kết quả "
                            "trước đó vẫn giữ nguyên; hãy giải phóng chỗ trống hoặc chọn thư "
                            "mục --out khác rồi chạy lại")


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, the temporary file of :func:`atomic_path` (the one place
    output bytes reach the disk)."""
    with open(path, "wb") as fh:
        fh.write(data)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it onto ``target``."""
    ensure_dir(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; outputs are ordinary files
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_bytes(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically; an OS failure is an :class:`OutputWriteError`."""
    try:
        with atomic_path(target) as tmp:
            write_file(tmp, data)
    except OutputError:
        raise
    except OSError as exc:
        raise output_error(exc, target) from None


@contextlib.contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``; on success it takes ``target``'s
    place (an existing ``target`` is moved aside first and removed only once the new one is
    in). On failure the temporary folder goes and ``target`` stays as it was. The caller
    decides beforehand whether replacing an existing ``target`` is allowed."""
    parent = ensure_dir(target.parent if str(target.parent) else Path("."))
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; an output folder is ordinary
    try:
        yield tmp
        _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(tmp: Path, target: Path) -> None:
    if not target.exists():
        os.rename(tmp, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".old-{target.name}-", dir=target.parent))
    os.rename(target, old)  # onto the empty temporary folder: POSIX replaces it
    try:
        os.rename(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
