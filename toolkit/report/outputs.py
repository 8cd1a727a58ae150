"""Write a consolidation run to a folder: summary workbook, feedback workbooks, three CSVs.

Thin wrapper that touches paths; everything it writes is derived from the
:class:`~toolkit.spec.models.ConsolidationResult` and the typed frames.

- **The contract's place.** ``--out DIR`` itself holds the run's set, as DESIGN.md's contract
  says: the summary, ``values.csv``, ``findings.csv``, ``submissions.csv`` and
  ``feedback/``. A folder that holds another office's or campaign's set is refused with a
  Vietnamese line naming both, never overwritten (a second office picks its own ``--out``).
- **All or nothing.** The whole set is built in a hidden folder beside ``DIR`` and switched
  into place whole (:mod:`toolkit._infra.setswap`, with ``DIR``'s parent as its ``OUT`` and
  ``DIR``'s name as the set's name): a failure or a kill at any moment leaves either the
  complete previous set or the complete new one; the previous set is kept beside it in
  ``.truoc/<DIR name>/``, and files the clerk put into ``DIR`` are carried over, never
  deleted.
- **Reproducible.** No wall-clock time goes into the CSVs and rows are sorted
  deterministically, so re-running on the same inbox gives byte-identical CSVs.
- **CSV for Excel and for machines.** UTF-8 with BOM, ``\\r\\n`` line ends, csv-module quoting.
  Numbers are written machine-readable (``12`` not ``12.0``, ``.`` decimal point, no
  thousands separator), dates as ``yyyy-mm-dd``. Any *text* starting with ``=``, ``+``,
  ``-``, ``@``, tab or CR gets a leading ``'`` so Excel never runs it as a formula
  (:func:`csv_cell`); genuine numbers are written as numbers, and a lone ``-`` (the row key
  of single-row forms in the ``_meta`` contract) is not a formula and stays ``-``.
- ``submissions.csv`` column ``late`` is ``yes`` (received after the deadline of the unit's
  level), ``no`` (on time), or empty when unknown (no received time, no deadline for that
  level, unit not in the units file, or a ``missing`` row). The received date is taken in
  Vietnam time (UTC+07:00) when the time carries a zone, as given when it does not.
- ``submissions.csv`` column ``received_source`` (added at the end) says where
  ``received_at`` came from: ``mail`` (the mail's Date in the inbox manifest), ``saved``
  (the workbook's own save time, when there is no manifest line), ``unknown`` (neither:
  no received time, never late); empty on a ``missing`` row.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from toolkit._infra import atomic, setswap
from toolkit._infra.atomic import OutputError, ensure_dir, output_error
from toolkit._infra.workers import Background
from toolkit.check.values import clean_value
from toolkit.report.feedback import feedback_or_reason
from toolkit.spec.campaign import Campaign, Form
from toolkit.spec.layout import rowcol
from toolkit.spec.models import ConsolidationResult, FormFrames, Submission
from toolkit.spec.models import is_late as models_is_late
from toolkit.spec.text import nfc
from toolkit.spec.units import Unit

VALUES_HEADER = ("campaign", "unit_code", "unit_name", "form", "row", "column", "value")
FINDINGS_HEADER = ("file", "unit_code", "form", "cell", "column", "severity", "code", "message")
SUBMISSIONS_HEADER = ("unit_code", "unit_name", "status", "file", "sha256", "received_at",
                      "late", "received_source")
LATE_YES, LATE_NO, LATE_UNKNOWN = "yes", "no", ""
FEEDBACK_DIR = "feedback"
FEEDBACK_SUFFIX = "_phan-hoi.xlsx"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SINGLE_ROW_KEY = "-"  # the contract's row key of single-row forms; no formula, kept as is
MAX_NAME_BYTES = 255  # a file name, in bytes of UTF-8 (ext4, XFS, btrfs, APFS…)
_STATUS_ORDER = {"accepted": 0, "rejected": 1, "missing": 2, "superseded": 3, "unidentified": 4}


@dataclass(frozen=True)
class OutputPaths:
    """The files one run wrote."""

    summary: Path
    values_csv: Path
    findings_csv: Path
    submissions_csv: Path
    feedback: list[Path]
    feedback_failed: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    folder: Path | None = None  # the set: --out itself, absolute
    previous: Path | None = None  # the previous run's set, .truoc/<name of --out> beside it


# --------------------------------------------------------------------------- cells


def csv_number(value: float | int) -> str:
    """``12`` not ``12.0``; ``0.1`` not ``1e-01``; never a thousands separator."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return ""
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def csv_cell(value: Any) -> str:
    """One CSV cell. Numbers stay numeric; dates become ISO; text is NFC and neutralised
    against formula injection with a leading ``'`` (the one place that rule lives)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return csv_number(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = nfc(str(value))
    if text.startswith(FORMULA_STARTS) and text != SINGLE_ROW_KEY:
        return "'" + text
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A whole CSV file: BOM, header, rows, ``\\r\\n`` line ends."""
    texts: dict[str, str] = {}  # codes, names and keys repeat on every row: convert once

    def cell(value: Any) -> str:
        if type(value) is str:
            done = texts.get(value)
            if done is None:
                done = texts[value] = csv_cell(value)
            return done
        return csv_cell(value)

    return _csv_text(header, ([cell(v) for v in row] for row in rows))


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """Rows whose cells are already :func:`csv_cell` text, as a CSV file."""
    raw = io.BytesIO()
    buffer = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")  # encoded as written
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    buffer.flush()
    data = raw.getvalue()
    buffer.detach()
    return data


# --------------------------------------------------------------------------- rows


def _units_by_code(result: ConsolidationResult) -> dict[str, Unit]:
    return {u.code: u for u in result.expected}


def _unit_name(result: ConsolidationResult, code: str, fallback: str) -> str:
    unit = _units_by_code(result).get(code)
    return unit.name if unit is not None else fallback


def _row_sort_key(form: Form) -> Any:
    order = {key: i for i, key in enumerate(form.row_keys())}

    def key(row: Any) -> tuple[int, int, str]:
        text = str(row)
        if text in order:
            return (order[text], 0, text)
        return (len(order), int(text) if text.isdigit() else 0, text)

    return key


def values_rows(result: ConsolidationResult, frames: FormFrames) -> list[list[Any]]:
    """Long format of the accepted submissions: submission order, then form order, then row
    (spec order), then column (spec order); blank values are left out."""
    return [[*keys, value] for keys, value in _values(result, frames)]


def values_csv(result: ConsolidationResult, frames: FormFrames) -> bytes:
    """values.csv, written row by row (a province's 200,000 rows are never held as lists);
    the six key cells of a row are converted once per distinct key, not once per value."""
    texts: dict[tuple[str, ...], tuple[str, ...]] = {}

    def text(keys: tuple[str, ...], value: Any) -> tuple[str, ...]:
        who, where = keys[:3], keys[3:]  # (campaign, unit, name), (form, row, column)
        a = texts.get(who) or texts.setdefault(who, tuple(map(csv_cell, who)))
        b = texts.get(where) or texts.setdefault(where, tuple(map(csv_cell, where)))
        return (*a, *b, csv_cell(value))

    return _csv_text(VALUES_HEADER, (text(keys, value) for keys, value in _values(result,
                                                                                  frames)))


def _values(result: ConsolidationResult, frames: FormFrames
            ) -> Iterator[tuple[tuple[str, ...], Any]]:
    """The rows of :func:`values_rows` as (six keys, value), one at a time."""
    campaign = result.campaign
    units = _units_by_code(result)
    accepted = [s for s in result.submissions if s.status == "accepted"]
    by_file: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for form in campaign.forms:
        frame = frames.get(form.id)
        if frame is None or frame.empty:
            continue
        for record in frame.to_dict("records"):
            by_file.setdefault(str(record.get("file")), {}).setdefault(form.id, []).append(record)
    plans = [(form, _row_sort_key(form), form.input_columns) for form in campaign.forms]
    for sub in accepted:
        unit = units.get(sub.unit_code)
        name = unit.name if unit is not None else sub.unit_name
        forms = by_file.get(sub.file, {})
        for form, row_key, columns in plans:
            records = sorted(forms.get(form.id, []), key=lambda r: row_key(r.get("row")))
            for record in records:
                row = str(record.get("row"))
                for col in columns:
                    value = clean_value(record.get(col.key), col)
                    if value is None:
                        continue
                    yield (campaign.id, sub.unit_code, name, form.id, row, col.key), value


def _finding_key(campaign: Campaign, file: str, form: str, cell: str, index: int) -> tuple:
    form_ids = [f.id for f in campaign.forms]
    form_pos = 0 if not form else (form_ids.index(form) + 1 if form in form_ids
                                   else len(form_ids) + 1)
    try:
        row, col = rowcol(cell) if cell else (-1, -1)
    except ValueError:
        row, col = (-1, -1)
    return (file, form_pos, form, row, col, index)


def findings_rows(result: ConsolidationResult) -> list[list[Any]]:
    """Every finding of every file: by file, whole-file findings first, then form order,
    then cells in reading order."""
    findings = result.findings
    order = sorted(range(len(findings)), key=lambda i: _finding_key(
        result.campaign, findings[i].file, findings[i].form, findings[i].cell, i))
    return [[f.file, f.unit_code, f.form, f.cell, f.column, f.severity, f.code, f.message]
            for f in (findings[i] for i in order)]


def is_late(received_at: dt.datetime | None, deadline: dt.date | None) -> str:
    """``yes`` / ``no`` / ``""`` (unknown); see the module docstring."""
    late = models_is_late(received_at, deadline)
    return LATE_UNKNOWN if late is None else LATE_YES if late else LATE_NO


def submissions_rows(result: ConsolidationResult) -> list[list[Any]]:
    """One row per file seen plus one ``missing`` row per expected unit without an accepted
    or rejected file; expected units in units-file order, then other codes, then files."""
    units = _units_by_code(result)
    position = {code: i for i, code in enumerate(units)}
    keyed: list[tuple[tuple, list[Any]]] = []
    for sub in result.submissions:
        unit = units.get(sub.unit_code)
        deadline = result.campaign.deadline_for(unit.level) if unit is not None else None
        received = sub.received_at.isoformat(timespec="seconds") if sub.received_at else ""
        row = [sub.unit_code, unit.name if unit is not None else sub.unit_name, sub.status,
               sub.file, sub.sha256, received, is_late(sub.received_at, deadline),
               sub.received_source]
        key = (position.get(sub.unit_code, len(position)), sub.unit_code,
               _STATUS_ORDER.get(sub.status, len(_STATUS_ORDER)), received, sub.file)
        keyed.append((key, row))
    chosen = {s.unit_code for s in result.submissions if s.status in ("accepted", "rejected")}
    for code, unit in units.items():
        if code not in chosen:  # result.status_of(code) == "missing", without a scan per unit
            keyed.append(((position[code], code, _STATUS_ORDER["missing"], "", ""),
                          [code, unit.name, "missing", "", "", "", LATE_UNKNOWN, ""]))
    keyed.sort(key=lambda pair: pair[0])
    return [row for _, row in keyed]


# --------------------------------------------------------------------------- files


def safe_name(text: str) -> str:
    """A file-name part from a unit code or file stem: letters, digits, ``.-`` kept."""
    name = re.sub(r"[^\w.-]+", "_", nfc(text)).strip("._")
    return name or "_"


def fit_name(stem: str, suffix: str, limit: int = MAX_NAME_BYTES) -> str:
    """``stem + suffix`` within ``limit`` bytes of UTF-8 (file systems allow 255): a longer
    stem is cut on a character boundary and gets ``~`` and a short hash of the whole stem,
    so two long names cut alike stay apart."""
    name = stem + suffix
    if len(name.encode("utf-8")) <= limit:
        return name
    tag = "~" + hashlib.sha256(stem.encode("utf-8")).hexdigest()[:10]
    room = limit - len((tag + suffix).encode("utf-8"))
    cut = stem.encode("utf-8")[:max(room, 0)].decode("utf-8", "ignore")
    return cut + tag + suffix


def summary_name(result: ConsolidationResult) -> str:
    return fit_name(f"tong-hop_{safe_name(result.campaign.id)}_{safe_name(result.office.code)}",
                    ".xlsx")


def results_folder(out_dir: Path | str, campaign_id: str, office_code: str) -> Path:
    """Where :func:`write_outputs` puts the set of ``office_code`` for ``campaign_id``:
    ``out_dir`` itself (the contract), as an absolute path."""
    del campaign_id, office_code  # one set per folder; the owner is checked, not encoded
    return Path(os.path.abspath(out_dir))


def find_results(results_dir: Path | str, campaign_id: str, office_code: str) -> Path:
    """The folder holding a run's CSVs and ``feedback/`` for readers such as ``mail
    send-feedback``."""
    return results_folder(results_dir, campaign_id, office_code)


def feedback_plan(result: ConsolidationResult) -> list[tuple[str, Submission]]:
    """(file name, submission) of each feedback workbook to write.

    Accepted and rejected files with findings get one, named after the unit; unidentified
    files with findings and a path too, named after their unit code or, without one, their
    file name. Superseded files get none: the unit already sent a newer file, and that one
    is what it must fix. Names are unique (``-2``, ``-3``… on a clash, in a stable order)
    and at most 255 bytes (:func:`fit_name`).
    """
    suffix = f"_{safe_name(result.campaign.id)}{FEEDBACK_SUFFIX}"
    chosen = [s for s in result.submissions
              if s.status in ("accepted", "rejected") and s.findings]
    unknown = sorted((s for s in result.submissions
                      if s.status == "unidentified" and s.findings and s.path is not None),
                     key=lambda s: s.file)
    plan: list[tuple[str, Submission]] = []
    used: set[str] = set()
    for sub in [*chosen, *unknown]:
        base = safe_name(sub.unit_code or f"khong-ro_{Path(sub.file).stem}")
        name, n = fit_name(base, suffix), 1
        while name.casefold() in used:
            n += 1
            name = fit_name(f"{base}-{n}", suffix)
        used.add(name.casefold())
        plan.append((name, sub))
    return plan


def _identity(result: ConsolidationResult) -> dict[str, str]:
    return {"campaign": result.campaign.id, "office": result.office.code,
            "office_name": result.office.name}


def _check_owner(folder: Path, identity: dict[str, str]) -> None:
    """Refuse a set folder that belongs to another office or campaign (see module text)."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} là một tệp, không phải thư mục kết quả: hãy đổi tên tệp "
                          "đó hoặc chọn thư mục --out khác")
    there = setswap.read_manifest(folder)
    if there is None:
        return
    theirs = (there.identity.get("campaign"), there.identity.get("office"))
    if theirs != (identity["campaign"], identity["office"]):
        raise OutputError(
            f"Thư mục {folder} đang chứa kết quả của chiến dịch {theirs[0]}, văn phòng "
            f"{there.identity.get('office_name', '')} ({theirs[1]}); lần chạy này là chiến "
            f"dịch {identity['campaign']}, văn phòng {identity['office_name']} "
            f"({identity['office']}). Không ghi đè kết quả của đơn vị khác: hãy chọn thư mục "
            "--out khác")


FeedbackMemo = dict[tuple[Any, ...], "bytes | str"]  # a feedback workbook by what it is made of


def _feedback_key(sub: Submission, campaign: Campaign) -> tuple[Any, ...]:
    """Everything a feedback workbook is made of: the unit's file (by its bytes' hash),
    its name, identity, received time and findings, and the campaign spec."""
    return (campaign.id, campaign.spec_sha256, sub.sha256, sub.file, str(sub.path),
            sub.received_at, sub.unit_code, sub.unit_name, tuple(sub.findings))


def write_outputs(result: ConsolidationResult, frames: FormFrames | None,
                  out_dir: Path, feedback_memo: FeedbackMemo | None = None) -> OutputPaths:
    """Write the summary workbook, the three CSVs and the feedback workbooks as one set into
    ``out_dir``, all or nothing (module text). A feedback workbook
    that cannot be made (the unit's file defeats both writers) is left out and listed in
    ``feedback_failed``; it does not stop the run. An OS failure while writing (a full
    disk) is an :class:`~toolkit._infra.atomic.OutputWriteError`, one Vietnamese line, with
    the previous outputs left in place. ``feedback_memo``: the feedback workbooks of the
    last run, kept by a long-running process (the office's page): one made of the same
    file and findings is not made again (afterwards it holds this run's)."""
    folder = results_folder(out_dir, result.campaign.id, result.office.code)
    if folder.parent == folder:
        raise OutputError(f"Không ghi kết quả vào thư mục gốc {folder}: hãy chọn một thư mục "
                          "--out riêng")
    parent, name = ensure_dir(folder.parent), folder.name
    identity = _identity(result)
    _check_owner(folder, identity)
    try:
        staging = setswap.start(parent, name, identity)
        try:
            paths = _write_all(result, result.frames if frames is None else frames, staging,
                               feedback_memo)
        except BaseException:
            setswap.discard(staging)
            raise
        published = setswap.publish(parent, name, staging, identity)
    except OutputError:
        raise
    except OSError as exc:  # disk full while writing: nothing was switched into place
        raise output_error(exc, folder) from None
    folder = published.folder

    def moved(path: Path) -> Path:
        return folder / path.relative_to(staging)

    return OutputPaths(summary=moved(paths.summary), values_csv=moved(paths.values_csv),
                       findings_csv=moved(paths.findings_csv),
                       submissions_csv=moved(paths.submissions_csv),
                       feedback=[moved(p) for p in paths.feedback],
                       feedback_failed=paths.feedback_failed, folder=folder,
                       previous=published.previous)


def _put(target: Path, data: bytes) -> Path:
    """Write one file of the set into the staging folder."""
    atomic.write_file(target, data)  # looked up here: a test fills the disk through it
    return target


def _write_all(result: ConsolidationResult, frames: FormFrames, folder: Path,
               memo: FeedbackMemo | None = None) -> OutputPaths:
    from toolkit.report.summary import summary_bytes  # written by another module; imported late

    campaign = result.campaign
    feedback_dir = folder / FEEDBACK_DIR
    feedback_dir.mkdir()
    feedback: list[Path] = []
    failed: list[tuple[str, str]] = []
    with contextlib.ExitStack() as stack:
        # the summary, the longest piece, is made by a helper process beside the rest
        summary_job = stack.enter_context(Background(lambda: summary_bytes(result)))
        values_path = _put(folder / "values.csv", values_csv(result, frames))
        findings_csv = _put(folder / "findings.csv",
                            csv_bytes(FINDINGS_HEADER, findings_rows(result)))
        submissions_path = _put(folder / "submissions.csv",
                                csv_bytes(SUBMISSIONS_HEADER, submissions_rows(result)))
        made: FeedbackMemo = {}
        for name, sub in feedback_plan(result):
            key = _feedback_key(sub, campaign) if memo is not None else ()
            data = memo.get(key) if memo is not None else None
            if data is None:
                data = feedback_or_reason(sub, campaign)
            made[key] = data
            if isinstance(data, bytes):
                feedback.append(_put(feedback_dir / name, data))
            else:
                failed.append((sub.file, data))
        summary = _put(folder / summary_name(result), summary_job.result())
    if memo is not None:
        memo.clear()
        memo.update(made)
    return OutputPaths(summary=summary, values_csv=values_path, findings_csv=findings_csv,
                       submissions_csv=submissions_path, feedback=feedback,
                       feedback_failed=failed)
