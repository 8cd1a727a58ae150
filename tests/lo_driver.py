#!/usr/bin/python3
"""Drive a real LibreOffice Calc through UNO: open a workbook, type into it as a person
would, save it as .xlsx and/or .ods, and shut LibreOffice down again.

Run with Debian's ``/usr/bin/python3`` (the only interpreter that can ``import uno``); the
test virtualenv never imports ``uno``. Starting and stopping soffice and the plain
``soffice --convert-to pdf`` run are in :mod:`lo_process` (importable from any Python);
reading and setting cells through UNO in :mod:`lo_cells`; the validity emulation in
:mod:`lo_validity`; this file is the session and CLI.

Usage::

    /usr/bin/python3 tests/lo_driver.py run JOB.json     # one job or a list of jobs; "-" = stdin
    /usr/bin/python3 tests/lo_driver.py serve            # JSON lines on stdin → JSON lines out
    /usr/bin/python3 tests/lo_driver.py pdf FILE… --outdir DIR

``run`` prints one JSON document: the list of job results. ``serve`` first prints
``{"ready": true, "pid": …, "pgid": …, "port": …}`` and then answers each request line
(a job, ``{"cmd": "ping"}`` or ``{"cmd": "quit"}``) with one line.

A job::

    {"open": "/abs/in.xlsx",
     "actions": [
        {"sheet": "PL2", "cell": "B14", "input": "12"},       # keystrokes, Calc decides
        {"sheet": "PL1", "cell": "C11", "input": "0123"},     # text-formatted cell: stays text
        {"sheet": "PL5", "cell": "C13", "number": 40},        # a number
        {"sheet": "PL1", "cell": "E11", "text": "2020"},      # text, even if it looks numeric
        {"sheet": "PL1", "cell": "B11", "formula": "=SUM(B1;B2)"},  # API grammar: ";"
        {"sheet": "PL1", "cell": "B11", "clear": true}],
     "inspect": [{"sheet": "PL2", "cell": "B14"}],           # optional: what Calc holds
     "properties": true,                                      # optional: custom properties
     "print_layout": true,                                    # optional: pages per sheet
     "recalculate": false,                                    # optional: calculateAll()
     "save": [{"path": "/abs/out.xlsx"}, {"path": "/abs/out.ods"}]}

An action is refused, exactly as the Calc user interface refuses it, when the cell is
locked on a protected sheet ("Protected cells can not be modified") or when the cell's data
validity has "Show error message" with the "Stop" action and the value violates it (type,
operator, formula1/formula2 of the cell's ``Validation`` property). A refused action leaves
the cell untouched and is reported: ``{"status": "refused", "reason": "protected" |
"validation", "message": …}``. Each result also carries ``lo_invalid``: whether LibreOffice's
own validity engine (Tools ▸ Detective ▸ Mark Invalid Data) flags the value, an independent
check of this emulation. ``force: true`` on an action bypasses both checks (a paste or a
macro would). Values are parsed in the office locale (default ``vi-VN``: ``2,5`` is 2.5,
``1.234`` is 1234, ``15/01/2020`` is a date), as on a Vietnamese clerk's computer.

Known LibreOffice behaviour the tests rely on (not emulated here): it does not recalculate
formulas when it opens an xlsx (cached results are kept; use ``recalculate``), ``setFormula``
wants ``;`` between arguments, and on saving an xlsx it drops frozen panes and turns "very
hidden" sheets into "hidden".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lo_cells import (
    custom_properties,
    page_layout,
    prop_value,
    restore_snapshot,
    set_text,
    sheets_info,
    stored_value,
    take_snapshot,
)
from lo_process import (
    DEFAULT_LOCALE,
    FILTERS,
    SOFFICE,
    START_TIMEOUT,
    STOP_TIMEOUT,
    convert_to_pdf,
    free_port,
    group_alive,
    kill_group,
    make_profile,
    soffice_env,
    wait_group,
)
from lo_validity import Validity

PROTECTED_MESSAGE = "Protected cells can not be modified."


# =========================================================================== the office


class Office:
    """One headless soffice listening on a loopback port, with a private profile."""

    def __init__(self, *, soffice: str = SOFFICE, locale: str = DEFAULT_LOCALE,
                 start_timeout: float = START_TIMEOUT) -> None:
        self.soffice = soffice
        self.locale = locale
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.profile: Path | None = None
        self.port = 0
        self.ctx: Any = None
        self.desktop: Any = None
        self._log: Any = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> Office:
        import uno  # noqa: F401  (fails here, clearly, when uno is missing)

        last: Exception | None = None
        for _attempt in range(2):  # the free port can be taken between probe and bind
            try:
                self._start_once()
                return self
            except Exception as exc:
                last = exc
                self.stop()
        raise RuntimeError(f"LibreOffice did not start: {last}")

    def _start_once(self) -> None:
        import uno

        self.profile = make_profile(locale=self.locale)
        self.port = free_port()
        accept = f"socket,host=127.0.0.1,port={self.port};urp;StarOffice.ComponentContext"
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [self.soffice, "--headless", "--invisible", "--norestore", "--nologo",
             "--nodefault", "--nolockcheck", f"--accept={accept}",
             f"-env:UserInstallation={self.profile.as_uri()}"],
            env=soffice_env(), stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                self.ctx = resolver.resolve(f"uno:{accept}")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no UNO connection on port {self.port} after "
                                       f"{self.start_timeout:.0f}s") from None
                if self.proc.poll() is not None and not group_alive(self.proc.pid):
                    raise RuntimeError(f"soffice exited with {self.proc.returncode}") from None
                time.sleep(0.2)
        smgr = self.ctx.ServiceManager
        self.desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)

    @property
    def pgid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def alive(self) -> bool:
        return self.proc is not None and group_alive(self.proc.pid)

    def stop(self) -> None:
        """Terminate soffice: ask politely (Desktop.terminate), then kill its process group.
        Always returns, within about STOP_TIMEOUT + 10 seconds."""
        if self.desktop is not None:
            desktop = self.desktop

            def ask() -> None:
                with contextlib.suppress(Exception):  # DisposedException is the normal end
                    desktop.terminate()

            t = threading.Thread(target=ask, daemon=True)
            t.start()
            t.join(STOP_TIMEOUT / 2)
        self.desktop = self.ctx = None
        if self.proc is not None:
            pgid = self.proc.pid
            wait_group(pgid, STOP_TIMEOUT / 2)
            kill_group(pgid)
            with contextlib.suppress(Exception):
                self.proc.wait(timeout=5)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.profile is not None:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def __enter__(self) -> Office:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- jobs
    def run_job(self, job: dict[str, Any]) -> dict[str, Any]:
        """Open, act, inspect, save, close. Never raises for a bad job: the result says
        ``ok: false`` with the error."""
        result: dict[str, Any] = {"ok": False, "open": job.get("open")}
        doc = None
        try:
            doc = self._load(job["open"])
            result["sheets"] = sheets_info(doc)
            session = _Session(self, doc)
            result["actions"] = [session.act(i, a) for i, a in enumerate(job.get("actions", []))]
            if job.get("recalculate"):
                doc.calculateAll()
            result["inspect"] = [session.inspect(x["sheet"], x["cell"])
                                 for x in job.get("inspect", [])]
            if job.get("properties"):
                result["properties"] = custom_properties(doc)
            if job.get("print_layout"):
                result["print_layout"] = page_layout(doc)
            result["saved"] = [self._save(doc, s) for s in job.get("save", [])]
            result["ok"] = True
        except Exception as exc:
            result["error"] = f"{type(exc).__name__}: {exc}"
            result["traceback"] = traceback.format_exc()
        finally:
            if doc is not None:
                with contextlib.suppress(Exception):
                    doc.close(True)
        return result

    def _load(self, path: str) -> Any:
        import uno

        file = Path(path).resolve()
        if not file.is_file():
            raise FileNotFoundError(str(file))
        props = (prop_value("Hidden", True), prop_value("ReadOnly", False),
                 prop_value("MacroExecutionMode", 0), prop_value("UpdateDocMode", 0))
        doc = self.desktop.loadComponentFromURL(uno.systemPathToFileUrl(str(file)),
                                                "_blank", 0, props)
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {file}")
        return doc

    def _save(self, doc: Any, spec: dict[str, Any]) -> dict[str, Any]:
        import uno

        path = Path(spec["path"]).resolve()
        filt = spec.get("filter") or FILTERS.get(path.suffix.lower())
        if not filt:
            raise ValueError(f"no filter for {path.suffix!r}; give 'filter'")
        path.parent.mkdir(parents=True, exist_ok=True)
        doc.storeToURL(uno.systemPathToFileUrl(str(path)),
                       (prop_value("FilterName", filt), prop_value("Overwrite", True)))
        return {"path": str(path), "filter": filt, "size": path.stat().st_size}


# =========================================================================== typing


class Refused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message



class _Session:
    """Actions on one open document."""

    def __init__(self, office: Office, doc: Any) -> None:
        self.office = office
        self.doc = doc
        smgr = office.ctx.ServiceManager
        self.formatter = smgr.createInstanceWithContext("com.sun.star.util.NumberFormatter",
                                                        office.ctx)
        self.formatter.attachNumberFormatsSupplier(doc)
        self.validity = Validity(office, doc)

    def cell(self, sheet: str, ref: str) -> tuple[Any, Any]:
        sheets = self.doc.Sheets
        if not sheets.hasByName(sheet):
            raise KeyError(f"no sheet {sheet!r}")
        ws = sheets.getByName(sheet)
        return ws, ws.getCellRangeByName(ref)

    # ----------------------------------------------------------------- one action
    def act(self, index: int, action: dict[str, Any]) -> dict[str, Any]:
        sheet, ref = action["sheet"], action["cell"]
        out: dict[str, Any] = {"index": index, "sheet": sheet, "cell": ref}
        try:
            ws, cell = self.cell(sheet, ref)
        except Exception as exc:
            out.update(status="error", message=str(exc))
            return out
        force = bool(action.get("force"))
        if not force and ws.isProtected() and cell.CellProtection.IsLocked:
            out.update(status="refused", reason="protected", message=PROTECTED_MESSAGE)
            return out
        before = take_snapshot(cell)
        try:
            kind = self._apply(cell, action)
        except Exception as exc:
            restore_snapshot(cell, before)
            out.update(status="error", message=f"{type(exc).__name__}: {exc}")
            return out
        out["entered_as"] = kind
        verdict = None if kind == "empty" else self.validity.check(cell)
        out["lo_invalid"] = self.validity.flags_invalid(ws, cell)
        if verdict is not None and not force:
            restore_snapshot(cell, before)
            out.update(status="refused", reason="validation", message=verdict)
        else:
            out["status"] = "entered"
            if verdict is not None:
                out["warning"] = verdict
        out["stored"] = stored_value(cell)
        return out

    def _apply(self, cell: Any, action: dict[str, Any]) -> str:
        """Put the action's value into the cell; returns what it became."""
        if action.get("clear"):
            set_text(cell, "")
            return "empty"
        if "number" in action:
            cell.setValue(float(action["number"]))
            return "number"
        if "text" in action:
            set_text(cell, str(action["text"]))
            return "text"
        if "formula" in action:
            cell.setFormula(str(action["formula"]))
            return "formula"
        if "input" in action:
            return self._type(cell, str(action["input"]))
        raise ValueError("an action needs one of: input, number, text, formula, clear")

    def _type(self, cell: Any, typed: str) -> str:
        """What Calc makes of keystrokes ``typed`` in ``cell``: empty, a formula, text
        (text-formatted cell, leading apostrophe, or not a number in the cell's locale) or
        a number (with the recognised date/percent format when the cell had General)."""
        if typed == "":
            set_text(cell, "")
            return "empty"
        if typed.startswith("=") and len(typed) > 1:
            cell.setFormula(typed)
            return "formula"
        key = cell.NumberFormat
        fmt = self.doc.NumberFormats.getByKey(key)
        if fmt.FormatString == "@" or bool(fmt.Type & 256):  # NumberFormat.TEXT
            set_text(cell, typed)
            return "text"
        if typed.startswith("'"):
            rest = typed[1:]
            # Calc drops the apostrophe only when the rest would have been a number
            set_text(cell, rest if self._number(key, rest) is not None else typed)
            return "text"
        value = self._number(key, typed)
        if value is None:
            set_text(cell, typed)
            return "text"
        cell.setValue(value)
        if fmt.FormatString.lower() in ("general", "standard"):
            with contextlib.suppress(Exception):
                detected = self.formatter.detectNumberFormat(key, typed)
                if detected != key:
                    cell.NumberFormat = detected
        return "number"

    def _number(self, key: int, typed: str) -> float | None:
        try:
            return float(self.formatter.convertStringToNumber(key, typed))
        except Exception:
            return None

    # ----------------------------------------------------------------- inspection
    def inspect(self, sheet: str, ref: str) -> dict[str, Any]:
        ws, cell = self.cell(sheet, ref)
        v = cell.Validation
        fmt = self.doc.NumberFormats.getByKey(cell.NumberFormat)
        return {
            "sheet": sheet,
            "cell": ref,
            **stored_value(cell),
            "locked": bool(cell.CellProtection.IsLocked),
            "sheet_protected": bool(ws.isProtected()),
            "number_format": fmt.FormatString,
            "validation": {
                "type": v.Type.value,
                "operator": v.getOperator().value,
                "formula1": v.getFormula1(),
                "formula2": v.getFormula2(),
                "error_style": v.ErrorAlertStyle.value,
                "show_error": bool(v.ShowErrorMessage),
                "ignore_blank": bool(v.IgnoreBlankCells),
                "error_title": v.ErrorTitle,
            },
        }


# =========================================================================== CLI


def _protocol_out() -> Any:
    """A private copy of stdout for JSON; fd 1 then points at stderr, so anything else
    printed (by UNO, by soffice) cannot corrupt the protocol."""
    fd = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(fd, "w", encoding="utf-8", buffering=1)


def _install_signal_cleanup(office: Office) -> None:
    def handler(signum: int, _frame: Any) -> None:
        office.stop()
        sys.exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, handler)


def cmd_run(source: str, locale: str) -> int:
    text = sys.stdin.read() if source == "-" else Path(source).read_text("utf-8")
    jobs = json.loads(text)
    jobs = jobs if isinstance(jobs, list) else [jobs]
    out = _protocol_out()
    office = Office(locale=locale)
    _install_signal_cleanup(office)
    try:
        office.start()
        results = [office.run_job(job) for job in jobs]
    finally:
        office.stop()
    json.dump(results, out, ensure_ascii=False, indent=1, default=repr)
    out.write("\n")
    out.flush()
    return 0 if all(r.get("ok") for r in results) else 1


def cmd_serve(locale: str) -> int:
    out = _protocol_out()
    office = Office(locale=locale)
    _install_signal_cleanup(office)
    try:
        try:
            office.start()
        except Exception as exc:
            out.write(json.dumps({"ready": False, "error": str(exc)}) + "\n")
            return 1
        out.write(json.dumps({"ready": True, "pid": os.getpid(), "pgid": office.pgid,
                              "port": office.port}) + "\n")
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                request = json.loads(line)
            except json.JSONDecodeError as exc:
                out.write(json.dumps({"ok": False, "error": f"bad JSON: {exc}"}) + "\n")
                continue
            cmd = request.get("cmd", "job")
            if cmd == "quit":
                break
            if cmd == "ping":
                reply: dict[str, Any] = {"ok": office.alive()}
            else:
                if not office.alive():  # soffice crashed on an earlier job: start anew
                    office.stop()
                    office.start()
                reply = office.run_job(request)
            out.write(json.dumps(reply, ensure_ascii=False, default=repr) + "\n")
    finally:
        office.stop()
        out.write(json.dumps({"stopped": True}) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lo_driver.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run one job or a list of jobs from a JSON file or -")
    run.add_argument("source")
    run.add_argument("--locale", default=DEFAULT_LOCALE)
    serve = sub.add_parser("serve", help="answer JSON-line jobs on stdin until EOF or quit")
    serve.add_argument("--locale", default=DEFAULT_LOCALE)
    pdf = sub.add_parser("pdf", help="convert workbooks to PDF (soffice --convert-to pdf)")
    pdf.add_argument("files", nargs="+")
    pdf.add_argument("--outdir", required=True)
    args = parser.parse_args(argv)
    if args.cmd == "run":
        return cmd_run(args.source, args.locale)
    if args.cmd == "serve":
        return cmd_serve(args.locale)
    for path in convert_to_pdf(args.files, args.outdir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
