"""What a feedback workbook may take from the unit's own file, which is untrusted.

- **Patched only from a file ingest read completely.** A file refused as a whole
  (:data:`REFUSED`: a zip bomb, a DTD, a damaged stream, a time-out…) gets a fresh workbook
  listing its findings; nothing of it is copied. A file that is patched is read again through
  the same guard as ingest (:func:`toolkit.read.book.open_container`: file size, members,
  real inflated sizes, no DTD), and only if its bytes are still the ones ingest hashed.
- **No formula the toolkit did not write.** A formula cell is kept only when it is not an
  input cell and its text is one the toolkit itself writes (``SUM``/``IF``/``AND``/
  ``ISNUMBER`` over plain references of the same sheet, :func:`toolkit_formula`); any other
  formula becomes its cached value, or its text when it has none (:func:`FormulaRule`).
"""

from __future__ import annotations

import hashlib
import re

from toolkit.read import limits
from toolkit.read.book import FileProblem, open_container
from toolkit.report.feedback.lines import OPENPYXL_SUFFIXES
from toolkit.spec.campaign import Campaign
from toolkit.spec.models import Submission

# whole-file findings: ingest did not read the file completely within the limits
REFUSED = frozenset({"too_large", "xml_entities", "file_unreadable", "file_encrypted",
                     "not_a_workbook", "read_timeout", "reader_crashed", "legacy_xls"})

_TOKENS = re.compile(r'(?:SUM|IF|AND|ISNUMBER|\$?[A-Z]{1,3}\$?\d{1,7}|\d+(?:\.\d+)?|""'
                     r"|[-+*/(),:<>=])+")


def original_bytes(submission: Submission) -> bytes | None:
    """The unit's file, if feedback may be patched from it (module docstring); else None."""
    if any(f.code in REFUSED for f in submission.findings):
        return None
    path = submission.path
    if path is None or path.suffix.lower() not in OPENPYXL_SUFFIXES:
        return None
    try:
        if path.stat().st_size > limits.MAX_FILE_BYTES:
            return None
        with path.open("rb") as fh:
            data = fh.read(limits.MAX_FILE_BYTES + 1)
    except OSError:
        return None
    if len(data) > limits.MAX_FILE_BYTES:
        return None
    if submission.sha256 and hashlib.sha256(data).hexdigest() != submission.sha256:
        return None  # changed since ingest read it
    try:
        kind, zf = open_container(data, path.suffix.lower())
    except FileProblem:
        return None
    if zf is not None:
        zf.close()
    return data if kind == "xlsx" else None


def toolkit_formula(text: str) -> bool:
    """A formula text (without ``=``) of the kind the toolkit writes in its workbooks."""
    text = text.strip().removeprefix("=")
    return text.startswith(("SUM(", "IF(")) and _TOKENS.fullmatch(text) is not None


class FormulaRule:
    """Which formula cells of a submission's file may stay formulas in its feedback."""

    def __init__(self, submission: Submission | None = None,
                 campaign: Campaign | None = None) -> None:
        self.inputs: set[tuple[str, str]] = set()
        if submission is not None and campaign is not None:
            sheets = {f.id: f.sheet for f in campaign.forms}
            self.inputs = {(sheets.get(c.form, c.form), c.cell.upper())
                           for c in submission.cells if c.cell}

    def keep(self, sheet: str, ref: str, text: str) -> bool:
        return (sheet, ref.upper()) not in self.inputs and toolkit_formula(text)
