"""The feedback workbook for each unit: its own file sent back with every problem marked in
place and a first sheet "Lỗi cần sửa" listing them. One entry point,
:func:`feedback_or_reason`, tries the fast path (:mod:`.xml_patch`: the unit's xlsx patched part
by part) and falls back to openpyxl (:mod:`.workbook`), then to a standalone list; both paths
share what the workbook says (:mod:`.lines`) and what they may take from the unit's file
(:mod:`.source`: only a file ingest read completely, guarded again as ingest guards it, and
no formula the toolkit did not write).
"""

from __future__ import annotations

from toolkit.report.feedback.lines import ERROR_FILL, FEEDBACK_SHEET, WARNING_FILL
from toolkit.report.feedback.workbook import feedback_bytes
from toolkit.report.feedback.xml_patch import feedback_bytes_fast
from toolkit.spec.campaign import Campaign
from toolkit.spec.models import Submission

__all__ = ["ERROR_FILL", "FEEDBACK_SHEET", "WARNING_FILL", "feedback_bytes",
           "feedback_bytes_fast", "feedback_or_reason"]


def feedback_or_reason(submission: Submission, campaign: Campaign) -> bytes | str:
    """One feedback workbook for :func:`toolkit.report.outputs.write_outputs`: the XML patch of
    the unit's own file where it applies, :func:`feedback_bytes` otherwise; the reason, as
    text, when a file defeats both — the unit's file is untrusted and must not stop the run."""
    try:
        return feedback_bytes_fast(submission, campaign) or feedback_bytes(submission, campaign)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
