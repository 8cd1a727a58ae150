"""LibreOffice for the tests: availability (skip locally, fail under CI), a client for
``tests/lo_driver.py`` and PDF helpers (poppler).

Tests that need LibreOffice are marked ``@pytest.mark.libreoffice`` and import the fixtures
from here (``tests/conftest.py`` belongs to the whole suite)::

    from lo import libreoffice_required, lo_fixture  # noqa: F401  (pytest fixtures)

``libreoffice_required`` is autouse: a marked test is skipped, with the reason, when
``soffice`` or a Python that can ``import uno`` (``/usr/bin/python3``, Debian's
``python3-uno``) is missing — and FAILS instead when the environment says ``CI=true``, so a
CI image that lost LibreOffice cannot pass by skipping. The fixture ``lo`` (defined as
``lo_fixture``) is one LibreOffice per test module, a ``lo_driver.py serve`` subprocess:
call ``lo.run(job)`` with a job as documented in ``lo_driver.py``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # lo_process is a sibling module, plain Python
    sys.path.insert(0, str(HERE))

from lo_process import convert_to_pdf, kill_group  # noqa: E402

__all__ = ["LibreOffice", "convert_to_pdf", "libreoffice_required", "lo_fixture",
           "pdf_pages", "pdf_text", "require_libreoffice", "require_poppler"]

DRIVER = HERE / "lo_driver.py"
UNO_PYTHON = os.environ.get("LO_PYTHON", "/usr/bin/python3")
REPLY_TIMEOUT = 180.0  # seconds for one job (a test fails instead of hanging)
START_TIMEOUT = 90.0


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@functools.cache
def libreoffice_missing() -> str | None:
    """Why LibreOffice tests cannot run here, or None when they can."""
    soffice = os.environ.get("SOFFICE", "soffice")
    if shutil.which(soffice) is None:
        return f"LibreOffice is not installed ({soffice!r} not on PATH)"
    if not Path(UNO_PYTHON).is_file():
        return f"{UNO_PYTHON} not found (needed to import uno)"
    try:
        probe = subprocess.run([UNO_PYTHON, "-c", "import uno"], env=_driver_env(),
                               capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{UNO_PYTHON} cannot run: {exc}"
    if probe.returncode != 0:
        return f"{UNO_PYTHON} cannot import uno (install python3-uno)"
    return None


@functools.cache
def poppler_missing() -> str | None:
    missing = [t for t in ("pdfinfo", "pdftotext") if shutil.which(t) is None]
    return f"poppler-utils missing: {', '.join(missing)}" if missing else None


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} — under CI=true this is a failure, not a skip (.ci/run "
                    "installs libreoffice-calc-nogui, python3-uno and poppler-utils)",
                    pytrace=False)
    pytest.skip(reason)


def require_libreoffice() -> None:
    """Skip (locally) or fail (CI=true) when LibreOffice cannot be driven."""
    reason = libreoffice_missing()
    if reason:
        _unavailable(reason)


def require_poppler() -> None:
    reason = poppler_missing()
    if reason:
        _unavailable(reason)


@pytest.fixture(autouse=True)
def libreoffice_required(request: pytest.FixtureRequest) -> None:
    """Autouse: a test marked ``libreoffice`` needs LibreOffice (skip, or fail under CI)."""
    if request.node.get_closest_marker("libreoffice") is not None:
        require_libreoffice()


def _driver_env() -> dict[str, str]:
    """Environment for Debian's Python: nothing of the test venv leaks in."""
    env = dict(os.environ)
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
        env.pop(key, None)
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p != venv_bin)
    return env


# =========================================================================== the client


class LibreOfficeError(RuntimeError):
    pass


class LibreOffice:
    """A running ``lo_driver.py serve``: one soffice for many jobs."""

    def __init__(self, *, locale: str = "vi-VN") -> None:
        self.locale = locale
        self.proc: subprocess.Popen[str] | None = None
        self.office_pgid = 0
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115

    def start(self) -> LibreOffice:
        self.proc = subprocess.Popen(
            [UNO_PYTHON, str(DRIVER), "serve", "--locale", self.locale],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            text=True, encoding="utf-8", env=_driver_env(), start_new_session=True)
        threading.Thread(target=self._pump, daemon=True).start()
        ready = self._reply(START_TIMEOUT)
        if not ready.get("ready"):
            self.stop()
            raise LibreOfficeError(f"LibreOffice did not start: {ready.get('error')}\n"
                                   f"{self.stderr_tail()}")
        self.office_pgid = int(ready.get("pgid") or 0)
        return self

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _reply(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise LibreOfficeError(f"no answer from LibreOffice within {timeout:.0f}s\n"
                                       f"{self.stderr_tail()}")
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise LibreOfficeError(f"the LibreOffice driver exited\n{self.stderr_tail()}")
            line = line.strip()
            if line:
                return json.loads(line)

    def stderr_tail(self, limit: int = 4000) -> str:
        with contextlib.suppress(Exception):
            self._stderr.seek(0)
            return self._stderr.read()[-limit:]
        return ""

    def run(self, job: dict[str, Any], *, timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
        """Send one job; return its result. Raises when the job itself failed."""
        if self.proc is None or self.proc.poll() is not None:
            raise LibreOfficeError(f"LibreOffice driver is not running\n{self.stderr_tail()}")
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        result = self._reply(timeout)
        if not result.get("ok"):
            raise LibreOfficeError(f"job failed: {result.get('error')}\n"
                                   f"{result.get('traceback', '')}")
        return result

    def stop(self) -> None:
        """Quit the driver (it terminates soffice); kill both process groups if needed."""
        proc, self.proc = self.proc, None
        if proc is not None:
            with contextlib.suppress(Exception):
                assert proc.stdin is not None
                proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                proc.stdin.close()
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)  # the driver stops soffice on TERM
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    kill_group(proc.pid)
                    proc.wait(timeout=10)
        if self.office_pgid:
            kill_group(self.office_pgid)  # last resort: soffice outliving its driver
            self.office_pgid = 0
        self._stderr.close()

    def __enter__(self) -> LibreOffice:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="module", name="lo")
def lo_fixture() -> Iterator[LibreOffice]:
    """One LibreOffice (headless, private profile, vi-VN locale) for the whole module."""
    require_libreoffice()
    office = LibreOffice().start()
    try:
        yield office
    finally:
        office.stop()


# =========================================================================== PDF


@dataclass(frozen=True)
class PdfPage:
    number: int  # 1-based
    width: float  # points
    height: float

    @property
    def landscape(self) -> bool:
        return self.width > self.height

    def is_a4(self, *, landscape: bool | None = None, tol: float = 2.0) -> bool:
        w, h = sorted((self.width, self.height))
        a4 = abs(w - 595.0) <= tol and abs(h - 842.0) <= tol
        return a4 and (landscape is None or self.landscape == landscape)

    def is_a3(self, *, tol: float = 2.0) -> bool:
        w, h = sorted((self.width, self.height))
        return abs(w - 842.0) <= tol and abs(h - 1191.0) <= tol


def pdf_pages(pdf: Path) -> list[PdfPage]:
    """Page sizes from ``pdfinfo`` (poppler)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    sizes = subprocess.run(["pdfinfo", "-f", "1", "-l", str(count), str(pdf)],
                           capture_output=True, text=True, check=True, timeout=60).stdout
    pages = [PdfPage(int(n), float(w), float(h)) for n, w, h in
             re.findall(r"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts", sizes, re.M)]
    assert len(pages) == count, info
    return pages


def pdf_text(pdf: Path, page: int | None = None) -> str:
    """Text of one page (1-based) or of the whole PDF, from ``pdftotext`` (UTF-8, NFC)."""
    cmd = ["pdftotext", "-enc", "UTF-8"]
    if page is not None:
        cmd += ["-f", str(page), "-l", str(page)]
    out = subprocess.run([*cmd, str(pdf), "-"], capture_output=True, check=True,
                         timeout=60).stdout
    return unicodedata.normalize("NFC", out.decode("utf-8"))


def squeeze(text: str) -> str:
    """NFC without any whitespace: pdftotext breaks wrapped cells into lines and sometimes
    splits a word where a justified line stretched it."""
    return "".join(unicodedata.normalize("NFC", text).split())


def contains_text(haystack: str, needle: str) -> bool:
    return squeeze(needle) in squeeze(haystack)


def sheet_pages(layout: Sequence[dict[str, Any]]) -> dict[str, list[int]]:
    """PDF page numbers (1-based) of each visible sheet, from the driver's ``print_layout``:
    Calc prints the visible sheets in order, each starting on a new page."""
    pages: dict[str, list[int]] = {}
    n = 1
    for sheet in layout:
        count = len(sheet["pages"])
        pages[sheet["sheet"]] = list(range(n, n + count))
        n += count
    return pages
