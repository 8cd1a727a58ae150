"""The routes: each parses the request, calls the workspace (the library) and renders a
template. Known mistakes of the clerk become a Vietnamese message on the page."""

from __future__ import annotations

import importlib.metadata
import secrets
import threading
import urllib.parse
from collections import OrderedDict
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from toolkit._infra.atomic import OutputError
from toolkit.author.plan import PlanError
from toolkit.author.workbook_vocab import WorkbookError
from toolkit.check.validate import warm_up
from toolkit.history.store import HistoryError
from toolkit.mail.settings import MailError
from toolkit.read import limits
from toolkit.read.cache import CacheMemory
from toolkit.report.outputs import FEEDBACK_DIR
from toolkit.report.word import ReportTemplateError
from toolkit.spec.errors import InboxError, SpecError
from toolkit.spec.levels import LEVEL_LABELS, LEVEL_NAMES
from toolkit.spec.load import list_builtin_campaigns, load_campaign
from toolkit.spec.models import STATUS_LABELS
from toolkit.spec.units import UnitsError
from toolkit.web.security import Guard, GuardMiddleware
from toolkit.workspace import Workspace, WorkspaceError, downloads, drafts, mailing, open_workspace
from toolkit.workspace.board import Board, consolidate_campaign, inbox_state
from toolkit.workspace.settings import MAIL_KEYS
from toolkit.workspace.uploads import Landed, store_upload
from toolkit.write.allocation import AllocationError

HERE = Path(__file__).resolve().parent
KNOWN = (SpecError, UnitsError, OutputError, InboxError, AllocationError, WorkbookError,
         WorkspaceError, PlanError, HistoryError)
MAX_FILES = 2000  # files in one drop
REPORTS_KEPT = 50


class _State:
    """What the running app remembers: the last board per campaign (remade when the inbox
    changes) and the outcome of recent uploads, shown once on the next page."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.boards: dict[str, tuple[Any, Board]] = {}
        self.memories: dict[str, CacheMemory] = {}  # each campaign's files as last read
        self.reports: OrderedDict[str, list[Landed]] = OrderedDict()

    def workspace(self) -> Workspace:
        return open_workspace(self.root)

    def board(self, ws: Workspace, campaign_id: str) -> Board:
        with self.lock:  # one consolidation at a time: they write the same results folder
            state = (inbox_state(ws.inbox(campaign_id)), ws.office, ws.units_file,
                     _mtime(ws.units_path), ws.campaigns.get(campaign_id))
            cached = self.boards.get(campaign_id)
            if cached is not None and cached[0] == state:
                return cached[1]
            memory = self.memories.setdefault(campaign_id, CacheMemory())
            board = consolidate_campaign(ws, campaign_id, memory=memory)
            self.boards[campaign_id] = (state, board)
            return board

    def keep_report(self, landed: list[Landed]) -> str:
        key = secrets.token_urlsafe(8)
        self.reports[key] = landed
        while len(self.reports) > REPORTS_KEPT:
            self.reports.popitem(last=False)
        return key


def _mtime(path: Path | None) -> int:
    try:
        return path.stat().st_mtime_ns if path is not None else 0
    except OSError:
        return 0


def _date(day: Any) -> str:
    return day.strftime("%d/%m/%Y") if day else "—"


def _time(when: Any) -> str:
    from toolkit.spec.models import local_time

    when = local_time(when)
    return when.strftime("%H:%M %d/%m/%Y") if when else "—"


def _version() -> str:
    try:
        return importlib.metadata.version("toolkit")
    except importlib.metadata.PackageNotFoundError:  # run from a clone without install
        return ""


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["date"] = _date
templates.env.filters["time"] = _time
templates.env.globals.update(status_labels=STATUS_LABELS, level_names=LEVEL_NAMES,
                             level_labels=LEVEL_LABELS, version=_version(),
                             quote=urllib.parse.quote)


def _state(request: Request) -> _State:
    state: _State = request.app.state.toolkit
    return state


def _render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    guard: Guard = request.app.state.guard
    context.setdefault("error", None)
    context.setdefault("office_name", _office_name(context.get("ws")))
    return templates.TemplateResponse(request, template, {"csrf": guard.token, **context},
                                      status_code=status)


def _office_name(ws: Workspace | None) -> str:
    if ws is None or not ws.office:
        return ""
    try:
        return ws.load_units().get(ws.office).name
    except UnitsError:
        return ws.office


async def _form(request: Request) -> Any:
    """The posted form, after the CSRF token is checked (403 otherwise)."""
    guard: Guard = request.app.state.guard
    form = await request.form(max_files=MAX_FILES, max_fields=MAX_FILES + 20)
    given = request.headers.get("x-csrf-token") or form.get("csrf")
    if not guard.token_ok(given if isinstance(given, str) else None):
        raise HTTPException(403, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ: "
                                 "hãy tải lại trang rồi thử lại.")
    return form


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _download(name: str, data: bytes, media: str) -> Response:
    quoted = urllib.parse.quote(name)
    return Response(data, media_type=media, headers={
        "content-disposition": f"attachment; filename*=UTF-8''{quoted}"})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --------------------------------------------------------------------------- home


async def home(request: Request) -> Response:
    ws = _state(request).workspace()
    boards, problems = [], {}
    for campaign_id in ws.campaigns:
        try:
            boards.append(_state(request).board(ws, campaign_id))
        except KNOWN as exc:
            problems[campaign_id] = str(exc)
    office = None
    if ws.units_path is not None:
        try:
            office = ws.load_units().office(ws.office or None)
        except UnitsError as exc:
            problems["units"] = str(exc)
    return _render(request, "home.html", ws=ws, boards=boards, problems=problems,
                   office=office, builtins=_builtins(ws))


def _builtins(ws: Workspace) -> list[tuple[str, str]]:
    out = []
    for campaign_id in list_builtin_campaigns():
        if campaign_id in ws.campaigns:
            continue
        campaign = load_campaign(campaign_id)
        out.append((campaign_id, f"{campaign.document_number} — {campaign.title}"))
    return out


async def add_campaign(request: Request) -> Response:
    form = await _form(request)
    ws = _state(request).workspace()
    upload = form.get("workbook")
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            campaign = ws.add_campaign_workbook(await upload.read(), upload.filename)
        else:
            ref = str(form.get("builtin") or "")
            if ref not in list_builtin_campaigns():
                raise WorkspaceError("Hãy chọn một chiến dịch có sẵn hoặc tải lên sổ khai báo")
            campaign = ws.add_campaign(ref)
    except KNOWN as exc:
        return _render(request, "home.html", 400, ws=ws, boards=[], problems={},
                       office=None, builtins=_builtins(ws), error=str(exc))
    return _redirect(f"/chien-dich/{urllib.parse.quote(campaign.id)}")


# --------------------------------------------------------------------------- plan


async def upload_plan(request: Request) -> Response:
    form = await _form(request)
    ws = _state(request).workspace()
    upload = form.get("plan")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise WorkspaceError("Hãy chọn tệp kế hoạch (.docx hoặc .xlsx)")
        name, _draft = drafts.save_plan(ws, await upload.read(), upload.filename)
    except KNOWN as exc:
        return _render(request, "home.html", 400, ws=ws, boards=[], problems={},
                       office=None, builtins=_builtins(ws), error=str(exc))
    return _redirect(f"/ke-hoach/{urllib.parse.quote(name)}")


async def plan_page(request: Request) -> Response:
    ws = _state(request).workspace()
    name = request.path_params["name"]
    draft = drafts.open_plan(ws, name)
    return _render(request, "plan.html", ws=ws, plan=name, draft=draft,
                   headers={f.id: drafts.header_rows(f) for f in draft.campaign.forms})


async def plan_download(request: Request) -> Response:
    ws = _state(request).workspace()
    path = drafts.plan_file(ws, request.path_params["name"], request.path_params["file"])
    return _download(f"{request.path_params['name']}_{path.name}", path.read_bytes(), XLSX)


# --------------------------------------------------------------------------- units


async def units_page(request: Request) -> Response:
    ws = _state(request).workspace()
    return _units(request, ws)


def _units(request: Request, ws: Workspace, status: int = 200, error: str | None = None
           ) -> Response:
    registry, problem = None, None
    if ws.units_path is not None:
        try:
            registry = ws.load_units()
        except UnitsError as exc:
            problem = str(exc)
    tree: list[tuple[int, Any, str]] = []  # depth, unit, "đã sáp nhập vào …"
    offices = []
    if registry is not None:
        def merged(unit: Any) -> str:
            if not unit.successor:
                return ""
            since = f" từ {unit.merged_on:%d/%m/%Y}" if unit.merged_on else ""
            return f"đã sáp nhập vào {registry.current(unit.code).name}{since}"

        def walk(code: str, depth: int) -> None:
            for child in registry.children(code, merged=True):
                tree.append((depth, child, merged(child)))
                walk(child.code, depth + 1)
        for unit in registry.units.values():
            if not unit.parent:
                tree.append((0, unit, merged(unit)))
                walk(unit.code, 1)
        offices = [u for u in registry.units.values() if registry.children(u.code)]
    return _render(request, "units.html", status, ws=ws, tree=tree, offices=offices,
                   problem=problem, error=error)


async def upload_units(request: Request) -> Response:
    form = await _form(request)
    ws = _state(request).workspace()
    upload = form.get("units")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _units(request, ws, 400, "Hãy chọn tệp đơn vị (CSV hoặc Excel)")
    data = await upload.read()
    if len(data) > limits.MAX_FILE_BYTES:
        return _units(request, ws, 413, "Tệp đơn vị quá lớn")
    try:
        registry = ws.set_units(data, upload.filename)
        if not ws.office:
            ws.set_office(_default_office(registry))
    except KNOWN as exc:
        return _units(request, ws, 400, str(exc))
    return _redirect("/don-vi")


def _default_office(registry: Any) -> str:
    root = registry.root
    if registry.children(root.code):
        return str(root.code)
    return next(u.code for u in registry.units.values() if registry.children(u.code))


async def choose_office(request: Request) -> Response:
    form = await _form(request)
    ws = _state(request).workspace()
    try:
        ws.set_office(str(form.get("office") or ""))
    except KNOWN as exc:
        return _units(request, ws, 400, str(exc))
    return _redirect("/don-vi")


# --------------------------------------------------------------------------- campaign


def _campaign_id(request: Request, ws: Workspace) -> str:
    campaign_id = request.path_params["cid"]
    if campaign_id not in ws.campaigns:
        raise HTTPException(404, "Không có chiến dịch này trong không gian làm việc")
    return str(campaign_id)


async def campaign_page(request: Request) -> Response:
    ws = _state(request).workspace()
    campaign_id = _campaign_id(request, ws)
    report = _state(request).reports.get(request.query_params.get("lan", ""))
    try:
        board = _state(request).board(ws, campaign_id)
    except KNOWN as exc:
        return _render(request, "problem.html", 400, ws=ws, error=str(exc))
    return _render(request, "campaign.html", ws=ws, board=board, report=report,
                   targets=downloads.has_targets(board.campaign),
                   allocation=(ws.campaign_dir(campaign_id) / downloads.ALLOCATION_FILE).exists(),
                   max_mb=limits.MAX_FILE_BYTES // (1024 * 1024))


async def upload_files(request: Request) -> Response:
    form = await _form(request)
    ws = _state(request).workspace()
    campaign_id = _campaign_id(request, ws)
    inbox = ws.inbox(campaign_id)
    landed: list[Landed] = []
    for item in form.getlist("files"):
        if not isinstance(item, UploadFile) or not item.filename:
            continue
        if item.size is not None and item.size > limits.MAX_FILE_BYTES and not \
                item.filename.lower().endswith(".zip"):
            landed.append(_too_big(item.filename))  # never read into memory
            continue
        landed += store_upload(inbox, item.filename, await item.read())
    if not landed:
        landed = [Landed("", problem="chưa chọn tệp nào")]
    key = _state(request).keep_report(landed)
    return _redirect(f"/chien-dich/{urllib.parse.quote(campaign_id)}?lan={key}")


def _too_big(name: str) -> Landed:
    from toolkit.mail.names import safe_filename

    return Landed(safe_filename(name),
                  problem=f"lớn hơn {limits.MAX_FILE_BYTES // (1024 * 1024)} MB, không nhận")


async def unit_page(request: Request) -> Response:
    ws = _state(request).workspace()
    campaign_id = _campaign_id(request, ws)
    board = _state(request).board(ws, campaign_id)
    line = board.line(request.path_params["code"])
    if line is None:
        raise HTTPException(404, "Không có đơn vị này trong danh sách phải nộp")
    return _render(request, "unit.html", ws=ws, board=board, line=line)


async def download_templates(request: Request) -> Response:
    ws = _state(request).workspace()
    name, data = downloads.templates_zip(ws, _campaign_id(request, ws))
    return _download(name, data, "application/zip")


async def download_template(request: Request) -> Response:
    ws = _state(request).workspace()
    try:
        name, data = downloads.unit_template(ws, _campaign_id(request, ws),
                                             request.path_params["code"])
    except UnitsError as exc:
        raise HTTPException(404, str(exc)) from None
    return _download(name, data, XLSX)


async def download_allocation(request: Request) -> Response:
    ws = _state(request).workspace()
    name, data = downloads.allocation_download(ws, _campaign_id(request, ws))
    return _download(name, data, XLSX)


async def upload_allocation(request: Request) -> Response:
    form = await _form(request)
    ws = _state(request).workspace()
    campaign_id = _campaign_id(request, ws)
    upload = form.get("allocation")
    suffix = ""
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        try:
            if len(data) > limits.MAX_FILE_BYTES:
                raise AllocationError("Tệp phân bổ quá lớn")
            read = downloads.save_allocation(ws, campaign_id, data)
        except KNOWN as exc:
            return _render(request, "problem.html", 400, ws=ws, error=str(exc))
        name = upload.filename
        landed = [Landed(name, stored=downloads.ALLOCATION_FILE)]
        landed += [Landed(name, problem=f.message) for f in read.findings]
        suffix = f"?lan={_state(request).keep_report(landed)}"
    return _redirect(f"/chien-dich/{urllib.parse.quote(campaign_id)}{suffix}")


async def download_report(request: Request) -> Response:
    """The Word report draft of the last consolidation (``toolkit report``)."""
    ws = _state(request).workspace()
    campaign_id = _campaign_id(request, ws)
    board = _state(request).board(ws, campaign_id)
    try:
        name, data = downloads.report_download(ws, board.result)
    except ReportTemplateError as exc:
        return _render(request, "problem.html", 400, ws=ws, error=str(exc))
    return _download(name, data, DOCX)


async def download_result(request: Request) -> Response:
    """A file of the last consolidation: only names the run itself wrote are served."""
    ws = _state(request).workspace()
    campaign_id = _campaign_id(request, ws)
    board = _state(request).board(ws, campaign_id)
    name = request.path_params["name"]
    paths = board.paths
    allowed = {p.name: p for p in (paths.summary, paths.values_csv, paths.findings_csv,
                                   paths.submissions_csv)}
    allowed.update({f"{FEEDBACK_DIR}/{p.name}": p for p in paths.feedback})
    if name == "phan-hoi.zip":
        zname, data = downloads.feedback_zip(ws, campaign_id, paths.feedback)
        return _download(zname, data, "application/zip")
    path = allowed.get(name)
    if path is None:
        raise HTTPException(404, "Không có tệp kết quả này")
    media = XLSX if path.suffix == ".xlsx" else "text/csv; charset=utf-8"
    return FileResponse(path, media_type=media, filename=path.name)


# --------------------------------------------------------------------------- mail


async def mail_page(request: Request, report: Any = None, status: int = 200,
                    error: str | None = None) -> Response:
    ws = _state(request).workspace()
    campaign_id = _campaign_id(request, ws)
    board = _state(request).board(ws, campaign_id)  # results up to date before planning
    kind = request.query_params.get("loai", "remind")
    kind = kind if kind in mailing.KINDS else "remind"
    plan, problem = None, None
    if ws.mail.get("sender") or ws.mail.get("user"):
        try:
            plan = mailing.mail_plan(ws, campaign_id, kind)
        except (MailError, *KNOWN) as exc:
            problem = str(exc)
    return _render(request, "mail.html", status, ws=ws, board=board, kind=kind,
                   kinds=mailing.KINDS, plan=plan,
                   previews=mailing.previews(plan) if plan else [], problem=problem,
                   report=report, error=error)


async def mail_fetch(request: Request) -> Response:
    form = await _form(request)
    ws = _state(request).workspace()
    campaign_id = _campaign_id(request, ws)
    try:
        landed = mailing.fetch_mail(ws, campaign_id, str(form.get("password") or ""))
    except (MailError, *KNOWN) as exc:
        landed = [Landed("", problem=str(exc))]
    key = _state(request).keep_report(landed)
    return _redirect(f"/chien-dich/{urllib.parse.quote(campaign_id)}?lan={key}")


async def mail_settings(request: Request) -> Response:
    form = await _form(request)
    ws = _state(request).workspace()
    campaign_id = _campaign_id(request, ws)
    ws.mail = {k: str(form.get(k) or "").strip() for k in MAIL_KEYS if form.get(k)}
    ws.save()
    kind = str(form.get("loai") or "remind")
    return _redirect(f"/chien-dich/{urllib.parse.quote(campaign_id)}/thu?loai="
                     f"{urllib.parse.quote(kind)}")


async def mail_send(request: Request) -> Response:
    form = await _form(request)
    ws = _state(request).workspace()
    campaign_id = _campaign_id(request, ws)
    kind = str(form.get("loai") or "")
    try:
        report = mailing.send(ws, campaign_id, kind, str(form.get("password") or ""))
    except (MailError, *KNOWN) as exc:
        return await mail_page(request, status=400, error=str(exc))
    return await mail_page(request, report=report)


# --------------------------------------------------------------------------- errors


async def http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or "Có lỗi"
    if status == 404 and detail == "Not Found":
        detail = "Không tìm thấy trang này"
    return _render(request, "problem.html", status, ws=None, error=detail)


async def known_error(request: Request, exc: Exception) -> Response:
    return _render(request, "problem.html", 400, ws=None, error=str(exc))


async def server_error(request: Request, exc: Exception) -> Response:
    """A bug, not the clerk's mistake: a Vietnamese page, the details in the terminal."""
    return _render(request, "problem.html", 500, ws=None,
                   error="Có lỗi bên trong toolkit. Hãy chép thông báo trong cửa sổ lệnh "
                         "đang chạy toolkit serve và gửi cho người hỗ trợ.")


def create_app(root: Path, *, allow_remote: bool = False, password: str | None = None
               ) -> Starlette:
    """The page over the workspace at ``root`` (which must exist: ``toolkit init``)."""
    if allow_remote and not password:
        raise ValueError("serving other computers needs a password")
    open_workspace(root)  # a WorkspaceError now, not on the first page
    warm_up()  # pandera's first use costs ~1 s: paid here, not by the first upload
    guard = Guard(allow_remote=allow_remote, password=password)
    routes = [
        Route("/", home),
        Route("/chien-dich", add_campaign, methods=["POST"]),
        Route("/ke-hoach", upload_plan, methods=["POST"]),
        Route("/ke-hoach/{name}", plan_page),
        Route("/ke-hoach/{name}/{file}", plan_download),
        Route("/don-vi", units_page),
        Route("/don-vi", upload_units, methods=["POST"]),
        Route("/van-phong", choose_office, methods=["POST"]),
        Route("/chien-dich/{cid}", campaign_page),
        Route("/chien-dich/{cid}/nop", upload_files, methods=["POST"]),
        Route("/chien-dich/{cid}/bieu-mau.zip", download_templates),
        Route("/chien-dich/{cid}/bieu-mau/{code}", download_template),
        Route("/chien-dich/{cid}/phan-bo.xlsx", download_allocation),
        Route("/chien-dich/{cid}/phan-bo", upload_allocation, methods=["POST"]),
        Route("/chien-dich/{cid}/don-vi/{code}", unit_page),
        Route("/chien-dich/{cid}/thu", mail_page),
        Route("/chien-dich/{cid}/thu", mail_send, methods=["POST"]),
        Route("/chien-dich/{cid}/thu/cau-hinh", mail_settings, methods=["POST"]),
        Route("/chien-dich/{cid}/lay-thu", mail_fetch, methods=["POST"]),
        Route("/chien-dich/{cid}/bao-cao.docx", download_report),
        Route("/chien-dich/{cid}/ket-qua/{name:path}", download_result),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    handlers: dict[Any, Any] = {HTTPException: http_error, Exception: server_error}
    handlers.update(dict.fromkeys(KNOWN, known_error))
    app = Starlette(routes=routes, middleware=[Middleware(GuardMiddleware, guard=guard)],
                    exception_handlers=handlers)
    app.state.toolkit = _State(Path(root))
    app.state.guard = guard
    return app
