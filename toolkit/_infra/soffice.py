"""LibreOffice as a converter (``soffice --headless --convert-to``): a private temporary
folder and profile per call, a time limit, the whole process group stopped afterwards. The
caller's file name never reaches the command line."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path


class ConversionError(Exception):
    """``reason`` is ``missing`` (no LibreOffice), ``timeout`` or ``failed`` (its last log
    line in ``detail``); callers word the message for their user."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


def soffice_path() -> str | None:
    """The LibreOffice command, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(data: bytes, suffix: str, target: str, *, seconds: float = 120.0) -> bytes:
    """``data`` (a file ending in ``.suffix``) converted to ``target`` (``pdf``, ``docx``,
    ``xlsx`` …)."""
    soffice = soffice_path()
    if soffice is None:
        raise ConversionError("missing")
    with tempfile.TemporaryDirectory(prefix="toolkit-soffice-") as tmp:
        folder = Path(tmp)
        src = folder / f"input.{suffix}"
        src.write_bytes(data)
        out = folder / "out"
        out.mkdir()
        profile = folder / "profile"
        cmd = [soffice, "--headless", "--invisible", "--norestore", "--nologo",
               "--nolockcheck", "--nodefault", f"-env:UserInstallation={profile.as_uri()}",
               "--convert-to", target, "--outdir", str(out), str(src)]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["HOME"] = tmp
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            log, _ = proc.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            _stop_group(proc.pid)
            proc.communicate()
            raise ConversionError("timeout", f"{seconds:.0f}") from None
        finally:
            _stop_group(proc.pid)
        result = out / f"input.{target.split(':', 1)[0]}"
        if not result.is_file() or result.stat().st_size == 0:
            last = log.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise ConversionError("failed", last[0][:200])
        return result.read_bytes()


def _stop_group(pgid: int) -> None:
    """Stop the process group started here (soffice forks soffice.bin)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
