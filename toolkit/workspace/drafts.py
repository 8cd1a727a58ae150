"""A new campaign from the office's plan, kept in the workspace while the clerk checks it.

The plan file is kept in ``ke-hoach/<tên>/`` beside the campaign workbook and the preview
that :func:`toolkit.author.draft.draft_from_plan` makes of it (the same function as
``toolkit campaign new``). The clerk answers the questions in that workbook and loads it
back (:meth:`~toolkit.workspace.settings.Workspace.add_campaign_workbook`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit._infra.atomic import write_bytes
from toolkit.author.draft import Draft, draft_from_plan
from toolkit.author.plan import PlanError
from toolkit.read import limits
from toolkit.spec.campaign import Form
from toolkit.workspace.settings import Workspace, WorkspaceError
from toolkit.write.templates import slugify

DRAFTS_DIR = "ke-hoach"
WORKBOOK_NAME = "khai-bao.xlsx"
PREVIEW_NAME = "xem-truoc.xlsx"
PLAN_SUFFIXES = (".docx", ".xlsx", ".doc", ".odt", ".ods")


@dataclass(frozen=True)
class HeaderCell:
    """One cell of a form's header as the template draws it (merged across and down)."""

    text: str
    colspan: int
    rowspan: int


def header_rows(form: Form) -> list[list[HeaderCell]]:
    """The form's multi-level header: cells with the same path prefix side by side are one
    merged cell; a column with a shorter path reaches down to the last level."""
    depth = max((len(c.header) for c in form.columns), default=1)
    rows: list[list[HeaderCell]] = []
    for level in range(depth):
        row: list[HeaderCell] = []
        i = 0
        while i < len(form.columns):
            col = form.columns[i]
            if len(col.header) <= level:
                i += 1
                continue
            prefix = col.header[:level + 1]
            j = i + 1
            while (j < len(form.columns) and form.columns[j].header[:level + 1] == prefix
                   and len(col.header) > level + 1):
                j += 1
            rowspan = depth - level if len(col.header) == level + 1 else 1
            row.append(HeaderCell(col.header[level], j - i, rowspan))
            i = j
        rows.append(row)
    return rows


def _folder(ws: Workspace, name: str) -> Path:
    slug = slugify(name)
    if not slug or slug != name:
        raise WorkspaceError(f"Không có kế hoạch «{name}» trong không gian làm việc")
    return ws.root / DRAFTS_DIR / slug


def save_plan(ws: Workspace, data: bytes, filename: str) -> tuple[str, Draft]:
    """Read an uploaded plan and keep it with its draft; the draft's name and the draft.
    A plan that cannot be read is a :class:`PlanError` and nothing is kept."""
    suffix = Path(filename).suffix.lower()
    if suffix not in PLAN_SUFFIXES:
        raise PlanError(f"Tệp «{filename}»", "kế hoạch phải là .docx hoặc .xlsx")
    if len(data) > limits.MAX_FILE_BYTES:
        raise PlanError(f"Tệp «{filename}»", "quá lớn")
    draft = draft_from_plan(data, filename)
    name = slugify(Path(filename).stem) or "ke-hoach"
    folder = ws.root / DRAFTS_DIR / name
    write_bytes(folder / f"ke-hoach{suffix}", data)
    write_bytes(folder / WORKBOOK_NAME, draft.workbook)
    write_bytes(folder / PREVIEW_NAME, draft.preview)
    return name, draft


def open_plan(ws: Workspace, name: str) -> Draft:
    """The draft of a kept plan, made again from the plan file (a fraction of a second)."""
    folder = _folder(ws, name)
    plans = sorted(p for p in folder.glob("ke-hoach.*") if p.suffix.lower() in PLAN_SUFFIXES)
    if not plans:
        raise WorkspaceError(f"Không có kế hoạch «{name}» trong không gian làm việc")
    return draft_from_plan(plans[0].read_bytes(), plans[0].name)


def plan_file(ws: Workspace, name: str, which: str) -> Path:
    """The campaign workbook or the preview of a kept plan."""
    if which not in (WORKBOOK_NAME, PREVIEW_NAME):
        raise WorkspaceError(f"Không có tệp «{which}»")
    path = _folder(ws, name) / which
    if not path.exists():
        raise WorkspaceError(f"Không có kế hoạch «{name}» trong không gian làm việc")
    return path
