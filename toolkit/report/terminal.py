"""Terminal text for the CLI, in Vietnamese. Pure functions: result in, text out."""

from __future__ import annotations

from typing import Any

from toolkit.history.plausibility import to_check, to_check_text
from toolkit.report.calls import render_calls
from toolkit.spec.campaign import Campaign
from toolkit.spec.levels import name_of
from toolkit.spec.models import STATUS_LABELS, ConsolidationResult
from toolkit.spec.text import printable


def _date(d: Any) -> str:
    return d.strftime("%d/%m/%Y") if d else "—"


def render_campaign(campaign: Campaign) -> str:
    """One campaign: id, document, deadlines per level, forms."""
    lines = [
        f"{campaign.id}  {campaign.document_number} ngày {_date(campaign.document_date)}"
        f" — {campaign.issuer}",
        f"  {campaign.title}",
        "  Hạn nộp: " + "; ".join(
            f"{name_of(level)} {_date(day)}"
            for level, day in campaign.deadlines.items()
        ),
    ]
    for form in campaign.forms:
        lines.append(f"  - {form.id}: {form.number}. {form.title}")
    return "\n".join(lines) + "\n"


def status_counts(result: ConsolidationResult) -> dict[str, int]:
    """Counts per status: files for accepted…unidentified, units for missing."""
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for sub in result.submissions:
        if sub.status in counts:
            counts[sub.status] += 1
    counts["missing"] = sum(1 for u in result.expected if result.status_of(u.code) == "missing")
    return counts


def empty_inbox_note(result: ConsolidationResult, inbox: Any = None) -> str:
    """One sentence when the inbox held no workbook at all (a wrong folder, or attachments
    not saved yet): every unit then shows as missing, which alone would read as a normal
    run. Empty when there was something to read."""
    if result.submissions:
        return ""
    where = f"Hộp thư {inbox}" if inbox is not None else "Hộp thư"
    return (f"{where} không có tệp bảng tính nào (.xlsx, .xlsm, .xls, .ods, .zip), nên mọi "
            "đơn vị đều là «chưa nộp». Hãy kiểm tra đường dẫn hộp thư, hoặc lưu các tệp đính "
            "kèm vào thư mục này rồi chạy lại.")


def _to_check_lines(result: ConsolidationResult, limit: int = 10) -> list[str]:
    """The accepted units with figures to check (plausibility warnings), one line each."""
    units = [(s, cells) for s in result.submissions
             if s.status == "accepted" and (cells := to_check(s.findings))]
    if not units:
        return []
    total = sum(len(cells) for _s, cells in units)
    lines = ["", f"Số liệu cần kiểm tra lại ({total} ô, {len(units)} đơn vị; cột «Cần kiểm "
                 "tra» của trang Tình hình nộp, chi tiết trong tệp phản hồi):"]
    names = {u.code: u.name for u in result.expected}
    for sub, _cells in units[:limit]:
        lines.append(printable(f"  {names.get(sub.unit_code, sub.unit_code)} "
                               f"({sub.unit_code}): {to_check_text(sub.findings)}"))
    if len(units) > limit:
        lines.append(f"  … và {len(units) - limit} đơn vị khác")
    return lines


def render_run_summary(result: ConsolidationResult, paths: Any, inbox: Any = None) -> str:
    """The short report printed after ``consolidate``: counts, missing units, output paths
    (and, for an inbox without any workbook, the sentence saying so first)."""
    counts = status_counts(result)
    expected = len(result.expected)
    done = counts["accepted"]
    rate = f"{100 * done / expected:.1f}".replace(".", ",") if expected else "0"
    width = max(len(label) for label in STATUS_LABELS.values())
    lines = [
        f"Chiến dịch {result.campaign.id} ({result.campaign.document_number}) — "
        f"{result.office.name}",
        f"Đơn vị phải nộp: {expected}; hợp lệ: {done} ({rate}%)",
        "",
    ]
    note = empty_inbox_note(result, inbox)
    if note:
        lines[1:1] = [note]
    for status, label in STATUS_LABELS.items():
        lines.append(f"  {label:<{width}}  {counts[status]:>5}")
    errors = sum(1 for f in result.findings if f.severity == "error")
    warnings = sum(1 for f in result.findings if f.severity == "warning")
    lines.append(f"  {'Lỗi / cảnh báo':<{width}}  {errors:>5} / {warnings}")
    lines.extend(_to_check_lines(result))
    missing = [u for u in result.expected if result.status_of(u.code) == "missing"]
    if missing:
        lines.append("")
        lines.append("Chưa nộp: " + ", ".join(f"{u.name} ({u.code})" for u in missing))
    calls = render_calls(result)
    if calls:
        lines.append("")
        lines.extend(calls)
    if result.skipped:
        lines.append(f"Bỏ qua {len(result.skipped)} tệp:")
        lines.extend(f"  {file}: {why}" for file, why in result.skipped)
    lines.append("")
    folder = getattr(paths, "folder", None)
    lines.append(f"Kết quả (trong {folder}):" if folder is not None else "Kết quả:")
    for name in ("summary", "values_csv", "findings_csv", "submissions_csv"):
        path = getattr(paths, name, None)
        if path is not None:
            lines.append(f"  {path}")
    feedback = getattr(paths, "feedback", None) or []
    if feedback:
        lines.append(f"  {len(feedback)} tệp phản hồi trong {feedback[0].parent}")
    for file, why in getattr(paths, "feedback_failed", None) or []:
        lines.append(f"  Không tạo được tệp phản hồi cho {file}: {why}")
    previous = getattr(paths, "previous", None)
    if previous is not None:
        lines.append(f"Kết quả lần chạy trước được giữ trong {previous}")
    return "\n".join(lines)
