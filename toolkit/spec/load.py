"""Reading a campaign's YAML specs into :class:`~toolkit.spec.campaign.Campaign` objects, with
every mistake reported by file and key in Vietnamese. :func:`campaign_from_data` does the
checking on plain data (what the YAML files hold); :func:`load_campaign` only finds and reads
the files. The inverse, :func:`toolkit.spec.data.campaign_to_data`, lives beside it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from toolkit._infra.paths import builtin_schemas_dir
from toolkit.spec.campaign import (
    AGGREGATES,
    COLUMN_TYPES,
    DEFAULT_AGGREGATE,
    FORM_KINDS,
    INDICATOR_KINDS,
    NUMERIC_TYPES,
    PLAUSIBILITY_KEYS,
    RULE_OPS,
    XML_ESCAPE,
    Campaign,
    Column,
    Form,
    Indicator,
    Plausibility,
    RowKey,
    Rule,
)
from toolkit.spec.compare import CompareError, parse_compare
from toolkit.spec.errors import SpecError
from toolkit.spec.levels import LEVELS, level_of, name_of
from toolkit.spec.outline import OutlineError, parse_outline
from toolkit.spec.targets import TARGET_COLUMNS, TARGET_RULES
from toolkit.spec.text import nfc


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(path, "-", "không tìm thấy tệp") from None
    except UnicodeDecodeError:
        raise SpecError(path, "-", "tệp không phải UTF-8") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"dòng {mark.line + 1}" if mark is not None else "-"
        raise SpecError(path, where, f"YAML không hợp lệ: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise SpecError(path, "-", "nội dung phải là một bảng khóa: giá trị (mapping)")
    return data


class _Reader:
    """Typed access to one YAML mapping that reports mistakes with file and key path."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.path = path
        self.data = data
        self.prefix = prefix

    def where(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def fail(self, key: str, problem: str) -> SpecError:
        return SpecError(self.path, self.where(key), problem)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data or self.data[key] is None:
            if default is ...:
                raise self.fail(key, "thiếu khóa bắt buộc")
            return default
        value = self.data[key]
        kinds = _as_tuple(kind)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = "/".join(t.__name__ for t in kinds)
            raise self.fail(key, f"phải có kiểu {names}, gặp {type(value).__name__}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value = self.get(key, (str, int, float), default)
        if value is None:
            raise TypeError("use optional_text() for a key that may be absent")
        return nfc(str(value))

    def key(self, what: str) -> str:
        """The ``key`` of a column or indicator: it names a cell in ``_meta`` maps."""
        key = self.text("key")
        if not key.isidentifier() or XML_ESCAPE.search(key):
            raise self.fail("key", f"{what} {key!r} chỉ được gồm chữ không dấu, số và '_' "
                                   "(và không chứa dạng _xA_, _x1f_: LibreOffice đọc đó là ký "
                                   "tự ẩn)")
        return key

    def optional_text(self, key: str) -> str | None:
        value = self.get(key, (str, int, float), None)
        return None if value is None else nfc(str(value))

    def date(self, key: str) -> dt.date:
        value = self.get(key, (dt.date, str))
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise self.fail(key, f"ngày không hợp lệ: {value!r} (dạng YYYY-MM-DD)") from None
        return value

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(str(key), f"khóa không được hỗ trợ (dùng: {known})")

    def sub(self, data: Any, key: str) -> _Reader:
        if not isinstance(data, dict):
            raise self.fail(key, "phải là một bảng khóa: giá trị")
        return _Reader(self.path, data, f"{self.prefix}{key}.")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


_COLUMN_KEYS = {"key", "header", "type", "required", "min", "max", "choices", "aggregate",
                "numerator", "denominator", "width", "note"}
_FORM_KEYS = {"id", "number", "title", "kind", "columns", "row_header", "rows", "list_rows",
              "rules", "indicators"}
_INDICATOR_KEYS = {"key", "name", "unit", "kind", "default_target"}
_CAMPAIGN_KEYS = {"id", "title", "issuer", "document_number", "document_date", "period",
                  "deadlines", "forms", "template_version", "return_to", "instructions",
                  "outline", "compare_with", "plausibility"}
# kept out of spec_sha256: they say nothing about the forms units fill
_UNHASHED = ("outline", "compare_with", "plausibility")


def _parse_column(r: _Reader) -> Column:
    r.check_keys(_COLUMN_KEYS)
    key = r.key("khóa cột")
    header = r.get("header", (list, str))
    header = (header,) if isinstance(header, str) else tuple(nfc(str(h)) for h in header)
    if not header or any(not h.strip() for h in header):
        raise r.fail("header", "tiêu đề cột không được để trống")
    ctype = r.text("type")
    if ctype not in COLUMN_TYPES:
        raise r.fail("type", f"kiểu cột không hợp lệ {ctype!r} (dùng: {', '.join(COLUMN_TYPES)})")
    aggregate = r.text("aggregate", DEFAULT_AGGREGATE[ctype])
    if aggregate not in AGGREGATES:
        raise r.fail("aggregate", f"cách tổng hợp không hợp lệ {aggregate!r} "
                                  f"(dùng: {', '.join(AGGREGATES)})")
    choices = tuple(nfc(str(c)) for c in r.get("choices", list, []))
    if ctype == "choice" and not choices:
        raise r.fail("choices", "cột kiểu choice cần danh sách lựa chọn")
    if ctype != "choice" and choices:
        raise r.fail("choices", "chỉ cột kiểu choice mới có danh sách lựa chọn")
    numerator = r.optional_text("numerator")
    denominator = r.optional_text("denominator")
    if aggregate == "ratio" and not (numerator and denominator):
        raise r.fail("aggregate", "cột ratio cần numerator và denominator")
    if aggregate != "ratio" and (numerator or denominator):
        raise r.fail("numerator", "numerator/denominator chỉ dùng cho cột aggregate: ratio")
    if aggregate == "ratio" and ctype != "percent":
        raise r.fail("type", "cột ratio phải có kiểu percent")
    if aggregate == "sum" and ctype not in NUMERIC_TYPES:
        raise r.fail("aggregate", f"không thể cộng (sum) cột kiểu {ctype}")
    min_ = r.get("min", (int, float), None)
    max_ = r.get("max", (int, float), None)
    if ctype in ("count", "money") and min_ is None:
        min_ = 0
    if ctype == "percent" and aggregate != "ratio":
        min_ = 0 if min_ is None else min_
        max_ = 100 if max_ is None else max_
    if min_ is not None and max_ is not None and min_ > max_:
        raise r.fail("min", f"min ({min_}) lớn hơn max ({max_})")
    return Column(
        key=key,
        header=header,
        type=ctype,
        required=bool(r.get("required", bool, False)),
        min=min_,
        max=max_,
        choices=choices,
        aggregate=aggregate,
        numerator=numerator,
        denominator=denominator,
        width=r.get("width", (int, float), None),
        note=r.text("note", ""),
    )


def _parse_rule(r: _Reader, columns: dict[str, Column]) -> Rule:
    r.check_keys({"sum", "op", "right", "severity"})
    left = r.get("sum", (list, str))
    left = (left,) if isinstance(left, str) else tuple(str(x) for x in left)
    op = r.text("op", "le")
    if op not in RULE_OPS:
        raise r.fail("op", f"phép so sánh không hợp lệ {op!r} (dùng: {', '.join(RULE_OPS)})")
    right = r.text("right")
    severity = r.text("severity", "error")
    if severity not in ("error", "warning"):
        raise r.fail("severity", "mức độ phải là error hoặc warning")
    for name, keys in (("sum", left), ("right", (right,))):
        for k in keys:
            if k not in columns:
                raise r.fail(name, f"quy tắc nêu cột không tồn tại {k!r}")
            if not columns[k].is_numeric or not columns[k].is_input:
                raise r.fail(name, f"quy tắc chỉ áp dụng cho cột số nhập liệu, {k!r} không phải")
    return Rule(left=left, op=op, right=right, severity=severity)


def parse_form(path: Path, data: dict[str, Any]) -> Form:
    """Build a :class:`Form` from one YAML mapping, checking every key."""
    r = _Reader(path, data)
    r.check_keys(_FORM_KEYS)
    form_id = r.text("id")
    if not form_id.isidentifier() or len(form_id) > 31:
        raise r.fail("id", f"mã biểu {form_id!r} phải ngắn (≤31 ký tự), không dấu, không cách")
    kind = r.text("kind")
    if kind not in FORM_KINDS:
        raise r.fail("kind", f"loại biểu không hợp lệ {kind!r} (dùng: {', '.join(FORM_KINDS)})")
    if kind == "targets":
        return _parse_targets_form(r, path, form_id)
    if "indicators" in data:
        raise r.fail("indicators", "chỉ biểu targets mới có danh sách chỉ tiêu")
    raw_columns = r.get("columns", list)
    if not raw_columns:
        raise r.fail("columns", "biểu phải có ít nhất một cột")
    columns: dict[str, Column] = {}
    for i, raw in enumerate(raw_columns):
        col = _parse_column(r.sub(raw, f"columns[{i}]"))
        if col.key in columns:
            raise r.fail(f"columns[{i}].key", f"trùng khóa cột {col.key!r}")
        columns[col.key] = col
    headers = [c.header for c in columns.values()]
    for i, h in enumerate(headers):
        for other in headers:
            if other is not h and len(other) > len(h) and other[: len(h)] == h:
                raise r.fail(f"columns[{i}].header",
                             f"tiêu đề {' › '.join(h)!r} trùng với một nhóm tiêu đề của cột khác")
            if other is not h and other == h:
                raise r.fail(f"columns[{i}].header", f"trùng tiêu đề {' › '.join(h)!r}")
    for i, col in enumerate(columns.values()):
        for ref in (col.numerator, col.denominator):
            if ref is None:
                continue
            if ref not in columns:
                raise r.fail(f"columns[{i}]", f"cột ratio nêu cột không tồn tại {ref!r}")
            if not columns[ref].is_numeric or not columns[ref].is_input:
                raise r.fail(f"columns[{i}]", f"tử/mẫu số {ref!r} phải là cột số nhập liệu")
    rows: tuple[RowKey, ...] = ()
    if kind == "fixed_rows":
        raw_rows = r.get("rows", list)
        if not raw_rows:
            raise r.fail("rows", "biểu fixed_rows cần danh sách dòng")
        parsed = []
        for i, raw in enumerate(raw_rows):
            if isinstance(raw, dict):
                rr = r.sub(raw, f"rows[{i}]")
                rr.check_keys({"key", "label"})
                parsed.append(RowKey(rr.text("key"), rr.optional_text("label") or rr.text("key")))
            else:
                parsed.append(RowKey(str(raw), str(raw)))
        keys = [p.key for p in parsed]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise r.fail("rows", f"trùng khóa dòng {sorted(dup)}")
        rows = tuple(parsed)
    elif "rows" in data:
        raise r.fail("rows", "chỉ biểu fixed_rows mới có danh sách dòng cố định")
    list_rows = r.get("list_rows", int, 30)
    if kind == "list" and not 1 <= list_rows <= 1000:
        raise r.fail("list_rows", "số dòng của biểu danh sách phải từ 1 đến 1000")
    rules = tuple(
        _parse_rule(r.sub(raw, f"rules[{i}]"), columns)
        for i, raw in enumerate(r.get("rules", list, []))
    )
    default_row_header = {"single_row": "Đơn vị", "fixed_rows": "Năm", "list": "TT"}[kind]
    return Form(
        id=form_id,
        number=r.text("number", form_id),
        title=r.text("title"),
        kind=kind,
        columns=tuple(columns.values()),
        row_header=r.text("row_header", default_row_header),
        rows=rows,
        list_rows=list_rows,
        rules=rules,
        source=str(path),
    )


def _parse_indicator(r: _Reader) -> Indicator:
    r.check_keys(_INDICATOR_KEYS)
    key = r.key("khóa chỉ tiêu")
    kind = r.text("kind", "count")
    if kind not in INDICATOR_KINDS:
        raise r.fail("kind", f"loại chỉ tiêu không hợp lệ {kind!r} (dùng: count, rate)")
    default = r.get("default_target", (int, float), None)
    if default is not None and (default < 0 or (kind == "rate" and default > 100)):
        raise r.fail("default_target", "chỉ tiêu mặc định phải ≥ 0 (tỷ lệ: từ 0 đến 100)")
    unit = r.text("unit", "%" if kind == "rate" else "")
    return Indicator(key=key, name=r.text("name"), unit=unit, kind=kind,
                     default_target=None if default is None else float(default))


def _parse_targets_form(r: _Reader, path: Path, form_id: str) -> Form:
    """A ``targets`` form: indicators are the rows; the columns are :data:`TARGET_COLUMNS`."""
    for key in ("columns", "rows", "rules", "list_rows"):
        if key in r.data:
            raise r.fail(key, "biểu targets không khai báo khóa này: các cột được suy ra "
                              "từ danh sách chỉ tiêu (indicators)")
    raw = r.get("indicators", list)
    if not raw:
        raise r.fail("indicators", "biểu targets cần ít nhất một chỉ tiêu")
    indicators: list[Indicator] = []
    for i, item in enumerate(raw):
        ind = _parse_indicator(r.sub(item, f"indicators[{i}]"))
        if any(x.key == ind.key for x in indicators):
            raise r.fail(f"indicators[{i}].key", f"trùng khóa chỉ tiêu {ind.key!r}")
        indicators.append(ind)
    return Form(id=form_id, number=r.text("number", form_id), title=r.text("title"),
                kind="targets", columns=TARGET_COLUMNS,
                row_header=r.text("row_header", "Chỉ tiêu"), rules=TARGET_RULES,
                source=str(path), indicators=tuple(indicators))


def _canonical(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_canonical(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if isinstance(obj, str):
        return nfc(obj)
    return obj


def resolve_campaign_path(ref: str | Path) -> Path:
    """Map ``nq02-2020`` (built-in id) or a path (folder or ``campaign.yaml``) to the file."""
    path = Path(ref)
    if path.is_dir():
        path = path / "campaign.yaml"
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    builtin = builtin_schemas_dir() / str(ref) / "campaign.yaml"
    if builtin.exists():
        return builtin
    local = Path.cwd() / "schemas" / str(ref) / "campaign.yaml"
    if local.exists():
        return local
    known = ", ".join(list_builtin_campaigns()) or "không có"
    raise SpecError("", "-", f"Không tìm thấy chiến dịch «{ref}»: không phải chiến dịch có sẵn "
                    f"({known}), cũng không phải thư mục hay tệp campaign.yaml")


def list_local_campaigns(root: Path | None = None) -> list[Path]:
    """``campaign.yaml`` of each folder under ``./schemas`` (an office's own campaigns);
    none when ``./schemas`` is the built-in folder itself."""
    local = (root or Path.cwd()) / "schemas"
    if not local.is_dir() or local.resolve() == builtin_schemas_dir().resolve():
        return []
    return sorted(local.glob("*/campaign.yaml"))


def list_builtin_campaigns() -> list[str]:
    root = builtin_schemas_dir()
    return sorted(p.parent.name for p in root.glob("*/campaign.yaml"))


def _deadlines(r: _Reader) -> dict[str, dt.date]:
    raw_deadlines = r.sub(r.get("deadlines", dict), "deadlines")
    deadlines: dict[str, dt.date] = {}
    for level in raw_deadlines.data:
        key = level_of(level)  # co_so, or a word a clerk types for it ("Cơ sở", "xã")
        if key is None:
            raise raw_deadlines.fail(str(level), f"cấp không hợp lệ (dùng: {', '.join(LEVELS)})")
        if key in deadlines:
            raise raw_deadlines.fail(str(level), f"hạn nộp {name_of(key)} ghi hai lần")
        deadlines[key] = raw_deadlines.date(level)
    return deadlines


def load_campaign(ref: str | Path) -> Campaign:
    """Load a campaign by built-in id or path, with every form it lists."""
    path = resolve_campaign_path(ref)
    data = _load_yaml(path)
    r = _Reader(path, data)
    r.check_keys(_CAMPAIGN_KEYS)
    _deadlines(r)  # checked before the form files, as a reader of campaign.yaml meets them
    form_names = r.get("forms", list)
    if not form_names:
        raise r.fail("forms", "chiến dịch phải có ít nhất một biểu")
    forms_data: list[dict[str, Any]] = []
    for i, name in enumerate(form_names):
        if not isinstance(name, str):
            raise r.fail(f"forms[{i}]", "phải là tên tệp biểu, ví dụ pl1.yaml")
        form_path = path.parent / name
        if not form_path.exists():
            raise r.fail(f"forms[{i}]", f"không tìm thấy tệp biểu {name!r}")
        forms_data.append(_load_yaml(form_path))
    return campaign_from_data(data, forms_data, path)


def campaign_from_data(campaign: Mapping[str, Any], forms: Sequence[Mapping[str, Any]],
                       source: str | Path, *,
                       form_sources: Sequence[str | Path] | None = None) -> Campaign:
    """Build a :class:`Campaign` from plain data: the mapping of ``campaign.yaml`` and one
    mapping per form, exactly as the YAML files hold them (a campaign workbook or a proposal
    gives the same shapes, so one set of checks serves every source).

    ``source`` names the campaign in errors and in :attr:`Campaign.source`. A form is named
    by ``form_sources[i]``, else by the file the campaign's ``forms`` list gives it (beside
    ``source``, as :func:`load_campaign` reads it), else ``<source>#<n>``. ``spec_sha256``
    is computed over the data as given, so the same YAML text always gives the same hash.
    """
    path = Path(source)
    data = dict(campaign)
    r = _Reader(path, data)
    r.check_keys(_CAMPAIGN_KEYS)
    deadlines = _deadlines(r)
    names = r.get("forms", list, None)
    if not forms:
        raise r.fail("forms", "chiến dịch phải có ít nhất một biểu")
    if names is not None and len(names) != len(forms):
        raise r.fail("forms", f"danh sách forms nêu {len(names)} tệp biểu nhưng có "
                              f"{len(forms)} biểu")
    if form_sources is not None:
        paths = [Path(s) for s in form_sources]
    elif names is not None:
        paths = [path.parent / str(name) for name in names]
    else:
        paths = [Path(f"{path}#{i + 1}") for i in range(len(forms))]
    if len(paths) != len(forms):
        raise ValueError("form_sources must name every form")
    parsed: list[Form] = []
    # the report outline and the comparisons are not part of the hash (_UNHASHED)
    hashed: dict[str, Any] = {"campaign": _canonical({k: v for k, v in data.items()
                                                      if k not in _UNHASHED}), "forms": []}
    for i, (form_path, raw) in enumerate(zip(paths, forms, strict=True)):
        if not isinstance(raw, Mapping):
            raise SpecError(form_path, "-", "nội dung phải là một bảng khóa: giá trị (mapping)")
        form_data = dict(raw)
        form = parse_form(form_path, form_data)
        if any(f.id == form.id for f in parsed):
            raise r.fail(f"forms[{i}]", f"trùng mã biểu {form.id!r}")
        parsed.append(form)
        hashed["forms"].append(_canonical(form_data))
    digest = hashlib.sha256(
        json.dumps(hashed, ensure_ascii=False, sort_keys=True).encode("utf-8")
    ).hexdigest()
    try:
        outline = parse_outline(data.get("outline"), parsed)
    except OutlineError as exc:
        raise SpecError(path, exc.key, exc.problem) from None
    try:
        compare_with = parse_compare(data.get("compare_with"), parsed)
    except CompareError as exc:
        raise SpecError(path, exc.key, exc.problem) from None
    return Campaign(
        id=r.text("id"),
        title=r.text("title"),
        issuer=r.text("issuer"),
        document_number=r.text("document_number"),
        document_date=r.date("document_date"),
        period=r.text("period", ""),
        deadlines=deadlines,
        forms=tuple(parsed),
        template_version=r.text("template_version", "1"),
        spec_sha256=digest,
        source=str(path),
        return_to=r.text("return_to", ""),
        instructions=tuple(nfc(str(x)) for x in r.get("instructions", list, [])),
        outline=outline,
        compare_with=compare_with,
        plausibility=_plausibility(r),
    )


def _plausibility(r: _Reader) -> Plausibility:
    """The ``plausibility`` thresholds (each optional; the defaults of
    :class:`Plausibility` otherwise)."""
    raw = r.get("plausibility", dict, None)
    if raw is None:
        return Plausibility()
    sub = r.sub(raw, "plausibility")
    sub.check_keys(set(PLAUSIBILITY_KEYS))
    default = Plausibility()
    values: dict[str, Any] = {}
    for key in PLAUSIBILITY_KEYS:
        value = sub.get(key, (int, float), getattr(default, key))
        if key == "min_units":
            if value != int(value) or value < 3:
                raise sub.fail(key, "phải là số nguyên từ 3 trở lên")
            value = int(value)
        elif value < 0 or (key in ("ratio", "peer_ratio") and value <= 1):
            raise sub.fail(key, "phải là số dương" + (" lớn hơn 1" if "ratio" in key else ""))
        values[key] = value
    return Plausibility(**values)
