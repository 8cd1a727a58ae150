"""The feedback workbook for each unit: its own file sent back with every problem marked in
place and a first sheet "Lỗi cần sửa" listing them. One entry point,
:func:`feedback_or_reason`, tries the fast path (:mod:`.xml_patch`: the unit's xlsx patched part
by part, its XML parsed by :mod:`.ooxml`, :mod:`.styles_xml` and :mod:`.sheet_xml`) and
falls back to openpyxl (:mod:`.workbook`), then to a standalone list; both paths
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
from toolkit.spec.text import printable

__all__ = ["ERROR_FILL", "FEEDBACK_SHEET", "WARNING_FILL", "feedback_bytes",
           "feedback_bytes_fast", "feedback_or_reason"]


def feedback_or_reason(submission: Submission, campaign: Campaign) -> bytes | str:
    """One feedback workbook for :func:`toolkit.report.outputs.write_outputs`: the XML patch of
    the unit's own file where it applies, :func:`feedback_bytes` otherwise (also when the
    patch fails); the reason, in Vietnamese for the clerk, when a file defeats both — the
    unit's file is untrusted and must not stop the run."""
    try:
        fast = feedback_bytes_fast(submission, campaign)
    except Exception:
        fast = None
    if fast is not None:
        return fast
    try:
        return feedback_bytes(submission, campaign)
    except MemoryError:
        return "không đủ bộ nhớ để tạo tệp phản hồi; danh sách lỗi có trong findings.csv"
    except Exception as exc:
        detail = printable(f"{type(exc).__name__}: {exc}")[:160]
        return ("tệp của đơn vị có nội dung không xử lý được nên không tạo được tệp phản "
                f"hồi; danh sách lỗi có trong findings.csv (chi tiết kỹ thuật: {detail})")
