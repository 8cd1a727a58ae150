"""Opening what an inbox holds without trusting it: only regular files are opened, a
symlink is never followed and a FIFO or device never blocks the open; file times that
cannot be a date are no date."""

from __future__ import annotations

import datetime as dt
import errno
import io
import os
import stat
from pathlib import Path

EARLIEST = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)  # the zip format's own epoch
LATEST = dt.datetime(2999, 12, 31, tzinfo=dt.UTC)


def open_regular(path: Path) -> io.BufferedReader:
    """``path`` opened for reading only if it is a regular file (``O_NOFOLLOW``,
    ``O_NONBLOCK``, then ``fstat``); anything else raises :class:`OSError`."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | (
        getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "không phải tệp thông thường")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def os_reason(exc: OSError) -> str:
    """A short Vietnamese reason for an error of the file system."""
    if isinstance(exc, PermissionError):
        return "không có quyền đọc"
    if isinstance(exc, FileNotFoundError):
        return "không còn trên đĩa"
    if exc.errno == errno.EINVAL and exc.strerror:
        return exc.strerror  # open_regular's own
    return f"lỗi hệ thống tệp {errno.errorcode.get(exc.errno or 0, type(exc).__name__)}"


def sane_time(value: dt.datetime) -> dt.datetime | None:
    """``value`` as given (its own offset kept: a mail's Date says +07:00 and the outputs
    show it so), or None when it cannot be put in UTC or lies outside EARLIEST…LATEST
    (year 1 at +14:00 or year 9999 at −12:00 overflow any later arithmetic)."""
    try:
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None
    return value if EARLIEST <= utc <= LATEST else None


def file_time(seconds: float) -> dt.datetime | None:
    """A file system time (``st_mtime``) in UTC, None when it is no sane date."""
    try:
        return sane_time(dt.datetime.fromtimestamp(seconds, dt.UTC))
    except (OverflowError, OSError, ValueError):
        return None
