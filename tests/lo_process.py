"""LibreOffice as a process: a private profile, the environment it needs, its process group
stopped for sure, and ``soffice --convert-to pdf``. Plain Python (no ``uno``), so the test
virtualenv imports it too; :mod:`lo_driver` builds the UNO session on top of it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

SOFFICE = os.environ.get("SOFFICE", "soffice")
START_TIMEOUT = 60.0  # seconds until soffice accepts a UNO connection
STOP_TIMEOUT = 15.0  # seconds for a clean shutdown before the process group is killed
CONVERT_TIMEOUT = 180.0
DEFAULT_LOCALE = "vi-VN"
FILTERS = {
    ".xlsx": "Calc MS Excel 2007 XML",
    ".ods": "calc8",
    ".xls": "MS Excel 97",
    ".pdf": "calc_pdf_Export",
}



def _profile_xcu(locale: str) -> str:
    """Profile settings: no lock files next to documents, the given locale, no first-start
    dialogs or auto-recovery."""
    items = [
        ("/org.openoffice.Office.Common/Misc", "UseLocking", "false"),
        ("/org.openoffice.Office.Common/Misc", "UseDocumentOOoLockFile", "false"),
        ("/org.openoffice.Office.Common/Misc", "UseDocumentSystemFileLocking", "false"),
        ("/org.openoffice.Office.Common/Misc", "FirstRun", "false"),
        ("/org.openoffice.Office.Common/Misc", "ShowTipOfTheDay", "false"),
        ("/org.openoffice.Office.Recovery/AutoSave", "Enabled", "false"),
        ("/org.openoffice.Office.Recovery/RecoveryInfo", "Enabled", "false"),
        ("/org.openoffice.Setup/L10N", "ooSetupSystemLocale", locale),
    ]
    body = "\n".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse">'
        f"<value>{value}</value></prop></item>"
        for path, name, value in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"{body}\n</oor:items>\n"
    )


def make_profile(root: str | os.PathLike[str] | None = None, *, locale: str = DEFAULT_LOCALE
                 ) -> Path:
    """A fresh private LibreOffice user profile (``-env:UserInstallation``)."""
    path = Path(tempfile.mkdtemp(prefix="lo-profile-", dir=root))
    (path / "user").mkdir()
    (path / "user" / "registrymodifications.xcu").write_text(_profile_xcu(locale), "utf-8")
    return path


def soffice_env() -> dict[str, str]:
    env = dict(os.environ)
    env["SAL_ENABLE_FILE_LOCKING"] = "0"
    env.pop("PYTHONPATH", None)  # soffice's own Python must not see the test venv
    env.pop("PYTHONHOME", None)
    return env


def group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process is in process group ``pgid``. Zombies are
    ignored: in a container without an init that reaps, soffice.bin stays <defunct>."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp …; comm may contain spaces and parentheses
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def kill_group(pgid: int, *, grace: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if not group_alive(pgid):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and group_alive(pgid):
            time.sleep(0.1)


def wait_group(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return True
        time.sleep(0.1)
    return not group_alive(pgid)


def free_port() -> int:
    """A free TCP port on the loopback interface (127.0.0.1 only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def convert_to_pdf(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
                   outdir: str | os.PathLike[str], *, soffice: str = SOFFICE,
                   timeout: float = CONVERT_TIMEOUT) -> list[Path]:
    """Convert workbooks to PDF with ``soffice --headless --convert-to pdf`` and a private
    profile (one soffice run for all files). Returns the PDFs, in the order of ``paths``;
    raises RuntimeError when soffice fails, times out or leaves a PDF missing or empty."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = [Path(p).resolve() for p in paths]
    out = Path(outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    profile = make_profile()
    cmd = [soffice, "--headless", "--invisible", "--norestore", "--nologo", "--nolockcheck",
           "--nodefault", f"-env:UserInstallation={profile.as_uri()}",
           "--convert-to", "pdf", "--outdir", str(out), *map(str, files)]
    proc = subprocess.Popen(cmd, env=soffice_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.communicate()
        raise RuntimeError(f"soffice --convert-to pdf timed out after {timeout:.0f}s") from None
    finally:
        kill_group(proc.pid, grace=2.0)  # a stray soffice.bin must not outlive the call
        shutil.rmtree(profile, ignore_errors=True)
    text = log.decode("utf-8", "replace")
    pdfs = [out / (f.stem + ".pdf") for f in files]
    missing = [str(p) for p in pdfs if not p.is_file() or p.stat().st_size == 0]
    if proc.returncode != 0 or missing or "Error" in text:
        raise RuntimeError(f"soffice --convert-to pdf failed (exit {proc.returncode}); "
                           f"missing {missing}; output:\n{text}")
    return pdfs
