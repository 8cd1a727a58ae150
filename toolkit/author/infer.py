"""One table of a plan → one proposed form, as the dict a form YAML file holds.

What is inferred, and why it is safe to infer it:

- **the header rows**: the top rows down to the first row that holds only numbers or blanks
  (or only a row label, or a running number under «TT»), never cutting through a merged
  cell; a row of column numbers «(1) (2)…» under the header is recognised and skipped;
- **the header tree** from the merged cells, any depth: a cell spanning the columns below it
  is their group (``header: [group, …, leaf]``), exactly how the template will merge it;
- **the row labels**: leading columns «TT», «Năm», «Đơn vị», «Chỉ tiêu», «Nội dung», «ĐVT»
  (the latter ones only when the rows fill them) are not data;
- **the kind**: fixed labels in the rows → ``fixed_rows`` (``targets`` when the columns say
  chỉ tiêu giao / kết quả), a running number «1, 2, 3, …» → ``list``, one row → ``single_row``;
- **each column's type** from its header words, the leaf first, then its groups;
- **rates** are entered as numerator and denominator, as the built-in specs do;
- **rules**, conservatively: a breakdown under a group's «Số lượng» cannot exceed it, and a
  rate's numerator cannot exceed its denominator.

Everything else is a :class:`Question` for the clerk; everything inferred is a :class:`Note`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from toolkit.author.infer_notes import Findings
from toolkit.author.infer_table import (
    YEAR,
    Caption,
    Node,
    Shape,
    chain_texts,
    header_tree,
    parse_number,
    table_shape,
)
from toolkit.author.infer_text import (
    ascii_fold,
    make_key,
    norm,
    words,
)
from toolkit.author.plan import PlanError, Table

TOTAL_ROW = re.compile(r"^(tong cong|tong so|tong|cong|toan (huyen|tinh|thanh pho|don vi))"
                       r"\s*[:.]?$|^tong (cong|so)\b")
TOTAL_COLUMN = re.compile(r"^(so luong|tong so|tong cong|tong)( \(.*\))?$")
LIST_ROWS = 30

_TEXT = re.compile(r"^(ghi chu|trich yeu|noi dung|ten\b|ho (va )?ten|so hieu|so,? ky hieu|"
                   r"ky hieu|dia chi|y kien|kien nghi|de xuat|mo ta|dien giai|ly do)|noi bat"
                   r"|trich yeu")
_DATE = re.compile(r"^(ngay|thoi diem)\b")
_CHOICE = re.compile(r"^(the loai|loai|hinh thuc|tinh trang|xep loai|muc do|gioi tinh)\b")
_PERCENT = re.compile(r"\bty le\b|\bti le\b|%")
_MONEY = re.compile(r"\bso tien\b|\bkinh phi\b|\bgia tri\b|\btrieu dong\b|\bnghin dong\b|"
                    r"\bty dong\b|\bvnd\b|\(dong\)")
_COUNT_LEAD = re.compile(r"^\s*(số|tổng số|tổng)\b", re.IGNORECASE)  # not «sơ kết»
_COUNT = re.compile(
    r"\bso (luong|nguoi|cuoc|lop|don vi|nha|ho|buoi|luot|to chuc|"
    r"doan vien|hoi nghi|chi doan|cong trinh|mo hinh|dv|tn)\b|\((nguoi|nha|hoi nghi|cuoc|lop|"
    r"don vi|buoi|to chuc|chi doan|doan vien|ho|cong trinh|luot|luot nguoi|mo hinh|"
    r"doanh nghiep|dn)\)")
_TARGET = re.compile(r"\bchi tieu\b|\bke hoach\b|\bmuc tieu\b")
_TARGET_COLUMN = re.compile(r"\bchi tieu\b.*\b(giao|duoc giao|phan bo|nhiem ky|de ra|nghi "
                            r"quyet|nq)\b|\bke hoach\b|\bchi tieu\b")
_RESULT_COLUMN = re.compile(r"\bket qua\b|\bthuc hien\b|\bdat duoc\b")

CHOICES = {
    "van ban": ["Nghị quyết", "Chỉ thị", "Kế hoạch", "Chương trình", "Hướng dẫn", "Công văn",
                "Quyết định", "Báo cáo", "Khác"],
    "tinh trang": ["Đã hoàn thành", "Đang thực hiện", "Chưa triển khai"],
    "gioi tinh": ["Nam", "Nữ"],
}
TYPE_NAMES = {"count": "số lượng (đếm)", "number": "số", "money": "số tiền",
              "percent": "tỷ lệ (%)", "text": "chữ", "date": "ngày", "choice": "danh sách chọn"}


@dataclass(eq=False)
class Col:
    """A proposed column before it becomes a dict: its header path, type and role."""

    path: list[str]
    type: str
    node: Node | None = None
    role: str = ""  # "", "target", "rate", "rate_num", "rate_den"
    rate: Col | None = None  # for rate_num / rate_den: the rate column
    numerator: Col | None = None
    denominator: Col | None = None
    choices: list[str] = field(default_factory=list)
    note: str = ""
    key: str = ""
    aggregate: str = ""
    base: str = ""  # a rate's name, for its keys


# --------------------------------------------------------------------------- column types


def type_of_text(text: str) -> str:
    """The type a header's own words say (``""`` when they say nothing)."""
    f = ascii_fold(text)
    for kind, pattern in (("text", _TEXT), ("date", _DATE), ("choice", _CHOICE),
                          ("percent", _PERCENT), ("money", _MONEY), ("count", _COUNT)):
        if pattern.search(f):
            return kind
    return "count" if _COUNT_LEAD.match(text) else ""


def _is_total(node: Node) -> bool:
    return not node.children and bool(TOTAL_COLUMN.match(ascii_fold(node.text)))


def _under_total(node: Node) -> Node | None:
    """The «Số lượng» leaf of the nearest group above ``node`` that has one."""
    for group in node.ancestors():
        total = next((ch for ch in group.children if _is_total(ch)), None)
        if total is not None and total is not node:
            return total
    return None


def _leaf_type(node: Node, kind: str) -> tuple[str, bool]:
    """(type, certain). The leaf's own words first; groups above only give numeric types (a
    «Hình thức» group over counts does not make them choices)."""
    own = type_of_text(node.text)
    if own:
        return own, True
    for group in node.ancestors():
        t = type_of_text(group.text)
        if t in ("percent", "money", "count"):
            return t, True
    if _under_total(node) is not None:
        return "count", True
    return ("text" if kind == "list" else "count"), False


def _choices(node: Node) -> list[str]:
    f = ascii_fold(" ".join(node.path()))
    for word, options in CHOICES.items():
        if word in f:
            return list(options)
    return []


# --------------------------------------------------------------------------- columns


def _columns(root: Node, kind: str, form: str, found: Findings,
             asks: list[tuple[Col, str]]) -> list[Col]:
    """The columns under the header tree; questions about a column wait in ``asks`` until
    the column has its key."""
    cols: list[Col] = []
    for leaf in root.leaves():
        ctype, certain = _leaf_type(leaf, kind)
        col = Col(leaf.path(), ctype, node=leaf)
        if ctype == "choice":
            col.choices = _choices(leaf)
            if col.choices:
                found.note(form, "", f"Cột «{' › '.join(col.path)}»: danh sách chọn "
                           f"{', '.join(col.choices)}.", kind="type")
            else:
                col.choices = ["Khác"]
                col.note = "Danh sách lựa chọn chưa có: hãy bổ sung."
                asks.append((col, f"Cột «{' › '.join(col.path)}» là danh sách chọn: các lựa "
                             "chọn là gì? (tạm để «Khác»)"))
        if not certain:
            asks.append((col, f"Cột «{' › '.join(col.path)}» không ghi đơn vị tính hay loại "
                         f"số liệu: tạm coi là {TYPE_NAMES[ctype]}; đúng không?"))
        cols.append(col)
    out: list[Col] = []
    for col in cols:
        out.extend(_rate(col, cols, form, found, asks) if col.type == "percent" else [col])
    _unique_paths(out, asks)
    return out


def _unique_paths(cols: list[Col], asks: list[tuple[Col, str]]) -> None:
    """Two columns with the same header («Số lượng» twice), or a column whose header is
    also the group of others, cannot be told apart in a template: the later one is
    numbered («Số lượng (2)») and the clerk asked."""
    groups = {tuple(c.path[:i]) for c in cols for i in range(1, len(c.path))}
    seen: set[tuple[str, ...]] = set()
    for col in cols:
        path = tuple(col.path)
        n = 2
        while path in seen or path in groups:
            path = (*col.path[:-1], f"{col.path[-1]} ({n})")
            n += 1
        if list(path) != col.path:
            asks.append((col, f"Bảng có hai cột cùng tiêu đề «{' › '.join(col.path)}»: đã đặt "
                         f"tên cột sau là «{path[-1]}»; hai cột khác nhau thế nào?"))
            col.path = list(path)
        seen.add(path)


def _rate_name(col: Col) -> str:
    """The rate's own name: the nearest header in its path that says «Tỷ lệ …»."""
    for text in reversed(col.path):
        f = ascii_fold(text)
        if _PERCENT.search(f) and f not in ("ty le", "ty le (%)", "ty le %", "%", "ti le"):
            return text
    return col.path[0]


def _numerator_label(name: str) -> str:
    rest = re.sub(r"^\s*t[ỷỉ]\s*lệ\s*(\(%\)|%)?\s*", "", name, flags=re.IGNORECASE).strip()
    return f"Số {rest}" if rest and rest != name else "Số đạt (tử số)"


def _rate(col: Col, cols: list[Col], form: str, found: Findings,
          asks: list[tuple[Col, str]]) -> list[Col]:
    """A percent column: a target stays a typed % (not summed); a result is entered as
    numerator and denominator and the % is computed, as the built-in specs do."""
    label = " › ".join(col.path)
    leaf = col.path[-1]
    if _TARGET.search(ascii_fold(leaf)):
        col.role, col.aggregate = "target", "none"
        if "%" not in leaf:
            col.path = [*col.path[:-1], f"{leaf} (%)"]
        col.note = "Chỉ tiêu là tỷ lệ phần trăm, không cộng dồn khi tổng hợp."
        found.note(form, "", f"Cột «{label}» là chỉ tiêu tỷ lệ: nhập %, không cộng khi tổng hợp.",
                   kind="rate")
        return [col]
    group = col.node.parent if col.node is not None else None
    siblings = [c for c in cols if c is not col and c.node is not None and group is not None
                and group.parent is not None and c.node.parent is group]  # a real group only
    dens = [c for c in siblings if c.type == "count" and re.match(r"^tong", ascii_fold(c.path[-1]))]
    nums = [c for c in siblings if c.type == "count" and c not in dens]
    col.role, col.aggregate = "rate", "ratio"
    if len(dens) == 1 and len(nums) == 1:
        col.numerator, col.denominator = nums[0], dens[0]
        found.note(form, "", f"Cột «{label}» = «{nums[0].path[-1]}» / «{dens[0].path[-1]}», "
                   "tính tự động.", kind="rate")
        return [col]
    generic = ascii_fold(leaf) in ("ty le", "ty le %", "ty le (%)", "%", "ti le", "ti le %")
    name = _rate_name(col)
    if generic and len(nums) == 1 and not dens:
        col.numerator = nums[0]
        den = Col([*col.path[:-1], "Tổng số (mẫu số)"], "count", role="rate_den", rate=col)
        col.denominator = den
        col.base = name
        asks.append((den, f"Cột «{label}» là tỷ lệ của «{nums[0].path[-1]}»: mẫu số là tổng "
                     "số gì? (đã thêm cột «Tổng số (mẫu số)» để nhập)"))
        return [den, col]
    num = Col([*col.path, _numerator_label(name)], "count", role="rate_num", rate=col)
    den = Col([*col.path, "Tổng số (mẫu số)"], "count", role="rate_den", rate=col)
    rate = col
    rate.path = [*col.path, "Tỷ lệ (%)"]
    rate.numerator, rate.denominator, rate.base = num, den, name
    found.note(form, "", f"Cột «{label}» là tỷ lệ: nhập tử số «{num.path[-1]}» và mẫu số, tỷ "
               "lệ tính tự động (không nhập % bằng tay, không lấy trung bình khi tổng hợp).",
               kind="rate")
    asks.append((den, f"Cột «{label}» là tỷ lệ: mẫu số là cột nào? (tổng số gì — ghi vào "
                 "tiêu đề cột «Tổng số (mẫu số)»)"))
    return [num, den, rate]


_GROUP_ABBREVIATIONS = (("pho bi thu", "pbt"), ("bi thu", "bt"), ("ban thuong vu", "btv"),
                        ("ban chap hanh", "bch"), ("uy vien", "uv"), ("doan vien", "dv"),
                        ("thanh nien", "tn"), ("hoi dong nhan dan", "hdnd"),
                        ("ly luan chinh tri", "llct"))
_PREFIX_DROP = frozenset({"doan", "o", "cua", "va", "cac", "cho", "voi", "do"})


def group_prefix(text: str) -> str:
    """A short prefix for the columns of a group: «Ban Thường vụ» → btv, «Bí thư, Phó Bí
    thư Đoàn» → bt_pbt, «Giám sát» → giam_sat."""
    f = " " + " ".join(words(text)) + " "
    for long, short in (*_GROUP_ABBREVIATIONS, ("ty le", ""), ("ti le", ""),
                        ("so luong", ""), ("tong so", "")):
        f = f.replace(f" {long} ", f" {short} " if short else " ")
    chosen = [w for w in f.split() if w not in _PREFIX_DROP]
    return "_".join(chosen[:2])


def _key_text(text: str) -> str:
    """Header words for a key: a bracketed unit is dropped when the words before it say
    enough («Tham gia ở cấp tỉnh (số người tham gia)» → tham_gia_cap_tinh)."""
    main = re.sub(r"\s*\([^()]*\)\s*$", "", text).strip()
    return main if len(words(main)) >= 2 else text


def _rate_words(name: str) -> str:
    """Words naming a rate in its keys: «Tỷ lệ hộ nghèo do ĐV, TN làm chủ» → ho ngheo,
    «Tỷ lệ ĐV, TN tham gia BHYT» → dv tn bhyt (an acronym at the end says most)."""
    found = [w for w in words(_key_text(name)) if w not in ("ty", "ti", "le", "do", "cua",
                                                                "va", "cac", "duoc", "o")]
    picked = found[:2]
    acronyms = re.findall(r"\b[A-ZĐ]{2,}\b", name)
    if len(found) > 2 and acronyms and ascii_fold(acronyms[-1]) == found[-1]:
        picked.append(found[-1])
    return " ".join(picked) or "ty le"


def _assign_keys(cols: list[Col]) -> None:
    taken: set[str] = set()
    for col in cols:
        if col.role in ("rate_num", "rate_den") or (col.role == "rate" and col.base):
            rate = col.rate if col.rate is not None else col
            suffix = {"rate_num": "tu_so", "rate_den": "mau_so"}.get(col.role, "ty_le")
            col.key = make_key(_rate_words(rate.base), taken, suffix=suffix)
            continue
        leaf = _key_text(col.path[-1])
        prefix = group_prefix(col.path[0]) if len(col.path) > 1 else ""
        candidate = make_key(leaf, set(), prefix=prefix)
        if candidate in taken and len(col.path) > 2:
            prefix = f"{prefix}_{group_prefix(col.path[-2])}".strip("_")
        if prefix and "_".join(words(leaf)).startswith(prefix):
            prefix = ""  # «Kết quả › Kết quả nổi bật» → ket_qua_noi_bat
        col.key = make_key(leaf, taken, prefix=prefix)


# --------------------------------------------------------------------------- rules


def _innermost_groups(node: Node) -> list[Node]:
    if not node.children:
        return []
    if all(not ch.children for ch in node.children):
        return [node]
    return [g for ch in node.children for g in _innermost_groups(ch)]


def _rules(root: Node, cols: list[Col], form: str, found: Findings) -> list[dict[str, Any]]:
    by_node = {id(c.node): c for c in cols if c.node is not None and c.role == ""}
    rules: list[dict[str, Any]] = []

    def counts(nodes: list[Node]) -> list[Col] | None:
        picked = [by_node.get(id(n)) for n in nodes]
        if any(c is None or c.type != "count" for c in picked):
            return None
        return [c for c in picked if c is not None]

    def visit(group: Node) -> None:
        for child in group.children:
            if child.children:
                visit(child)
        total = next((ch for ch in group.children if _is_total(ch)), None)
        total_col = by_node.get(id(total)) if total is not None else None
        if group.parent is None or total_col is None or total_col.type != "count":
            return
        for other in group.children:
            if other is total:
                continue
            if not other.children:
                if _COUNT_LEAD.match(other.text):
                    continue  # another measure («Số tiền», «Tổng số …»), not a part
                parts = counts([other])
                scales = [parts] if parts else []
            else:
                scales = [c for g in _innermost_groups(other) if (c := counts(g.children))]
            for part in scales:
                if not part:
                    continue
                rules.append({"sum": [c.key for c in part], "op": "le", "right": total_col.key})
                names = ", ".join(f"«{c.path[-1]}»" for c in part)
                found.note(form, total_col.key, f"Quy tắc suy ra: {names} không vượt quá "
                           f"«{' › '.join(total_col.path)}» (cùng một đơn vị).", kind="rule")

    visit(root)
    for col in cols:
        if col.role == "rate" and col.numerator is not None and col.denominator is not None:
            rules.append({"sum": [col.numerator.key], "op": "le", "right": col.denominator.key})
            found.note(form, col.key, f"Quy tắc suy ra: tử số «{col.numerator.path[-1]}» không "
                       f"vượt quá mẫu số «{col.denominator.path[-1]}».", kind="rule")
    return rules


def _column_dict(col: Col) -> dict[str, Any]:
    out: dict[str, Any] = {"key": col.key,
                           "header": col.path[0] if len(col.path) == 1 else list(col.path),
                           "type": col.type}
    if col.choices:
        out["choices"] = list(col.choices)
    if col.aggregate:
        out["aggregate"] = col.aggregate
    if col.aggregate == "ratio" and col.numerator is not None and col.denominator is not None:
        out["numerator"] = col.numerator.key
        out["denominator"] = col.denominator.key
    if col.note:
        out["note"] = col.note
    return out


# --------------------------------------------------------------------------- forms


def infer_form(table: Table, caption: Caption, found: Findings) -> dict[str, Any]:
    """The form dict (YAML shape) proposed for one table."""
    form = caption.form_id
    shape = table_shape(table)
    where = table.where()
    if shape.marks_row is not None:
        found.note(form, "", f"{where}: dòng {shape.marks_row + 1} là số thứ tự cột "
                   "«(1) (2)…», không phải tiêu đề hay số liệu.", kind="header")
    found.note(form, "", f"{where}: {shape.header_rows} dòng tiêu đề, "
               f"{len(shape.data_rows)} dòng số liệu.", kind="header")
    skip = set(shape.label_cols)
    skip |= {c for c in (shape.seq_col, shape.unit_col) if c is not None}
    value_cols = [c for c in range(table.n_cols) if c not in skip]
    if not value_cols:
        raise PlanError(where, "bảng chỉ có cột nhãn dòng (TT, Năm, Nội dung…), không có cột "
                        "số liệu nào")
    root = header_tree(table, shape, value_cols, form, found)
    labels = _row_labels(table, shape, form, found)

    def header_of(col: int) -> str:
        return norm(" ".join(chain_texts(table, shape.header_rows, col, shape.title_rows)))

    out: dict[str, Any] = {"id": form, "number": caption.number, "title": caption.title}
    if labels and _is_targets(root):
        return _targets_form(out, table, shape, root, labels, form, found)
    if labels:
        kind = "fixed_rows"
        found.note(form, "", f"Biểu có dòng cố định ({', '.join(t for _, t in labels)}): loại "
                   "fixed_rows.", kind="kind")
    elif shape.seq_col is not None:
        kind = "list"
        found.note(form, "", "Các dòng đánh số thứ tự 1, 2, 3…: biểu danh sách (list), mỗi "
                   f"dòng một mục; tối đa {LIST_ROWS} dòng (sửa list_rows nếu cần).", kind="kind")
    elif len(shape.data_rows) <= 1 or (shape.label_cols and ascii_fold(header_of(
            shape.label_cols[0])) in ("don vi", "ten don vi")):
        kind = "single_row"
        found.note(form, "", "Một dòng số liệu cho mỗi đơn vị: loại single_row.", kind="kind")
    else:
        kind = "list"
        found.ask(form, "", f"{where} có {len(shape.data_rows)} dòng trống, không có cột TT hay "
                  "nhãn dòng: đây là biểu danh sách (mỗi dòng một mục) hay mỗi đơn vị chỉ "
                  "báo cáo một dòng?")
    out["kind"] = kind
    if kind == "fixed_rows":
        main = shape.main_label
        out["row_header"] = header_of(main) if main is not None else "Nội dung"
        out["rows"] = _rows_yaml(labels)
    elif kind == "list":
        out["row_header"] = header_of(shape.seq_col) if shape.seq_col is not None else "TT"
        out["list_rows"] = LIST_ROWS
    elif shape.label_cols:
        out["row_header"] = header_of(shape.label_cols[0])
    asks: list[tuple[Col, str]] = []
    cols = _columns(root, kind, form, found, asks)
    _assign_keys(cols)
    for col, text in asks:
        found.ask(form, col.key, text)
    rules = _rules(root, cols, form, found)
    out["columns"] = [_column_dict(c) for c in cols]
    if rules:
        out["rules"] = rules
    return out


def _row_labels(table: Table, shape: Shape, form: str, found: Findings
                ) -> list[tuple[int, str]]:
    """(row, label) of the fixed rows; total rows and section rows are left out."""
    main = shape.main_label
    if main is None:
        return []
    out: list[tuple[int, str]] = []
    for r in shape.data_rows:
        cell = table.at(r, main)
        text = norm(cell.text) if cell is not None and cell.row == r else ""
        if not text or text in ("…", "..."):
            continue
        seq = table.text(r, shape.seq_col).strip() if shape.seq_col is not None else ""
        if seq and re.fullmatch(r"[IVXL]{1,4}\.?|[A-Z]\.?", seq):
            found.note(form, "", f"Dòng «{seq} {text}» là dòng nhóm (số La Mã/chữ cái ở cột "
                       "TT): bỏ qua.", kind="rows")
            continue
        if TOTAL_ROW.match(ascii_fold(text)):
            found.note(form, "", f"Dòng «{text}» là dòng tổng: bỏ, bảng tổng hợp tự cộng.",
                       kind="rows")
            continue
        if cell is not None and cell.col_span >= table.n_cols - 1 and table.n_cols > 2:
            found.note(form, "", f"Dòng «{text}» là dòng nhóm (gộp cả hàng): bỏ qua.", kind="rows")
            continue
        out.append((r, re.sub(r"^\s*(\d{1,3}|[IVXivx]{1,4}|[a-z])[.)]\s+", "", text)))
    return out


def _indicator_words(name: str) -> str:
    """Words for an indicator's key: no «Tỷ lệ», no bracketed aside."""
    text = re.sub(r"\([^()]*\)", " ", name)
    text = re.sub(r"^\s*t[ỷỉ]\s*lệ\s+", "", text, flags=re.IGNORECASE)
    return text if len(words(text)) >= 2 else name


def _rows_yaml(labels: list[tuple[int, str]]) -> list[Any]:
    texts = [t for _, t in labels]
    if len(set(texts)) == len(texts) and all(
            YEAR.match(t) or re.fullmatch(r"[A-Za-z0-9_]{1,12}", t) for t in texts):
        return texts
    taken: set[str] = set()
    return [{"key": make_key(t, taken, fallback="dong"), "label": t} for t in texts]


def _is_targets(root: Node) -> bool:
    texts = [ascii_fold(" ".join(leaf.path())) for leaf in root.leaves()]
    return (any(_TARGET_COLUMN.search(t) for t in texts)
            and any(_RESULT_COLUMN.search(t) for t in texts))


def _targets_form(out: dict[str, Any], table: Table, shape: Shape, root: Node,
                  labels: list[tuple[int, str]], form: str, found: Findings) -> dict[str, Any]:
    """Indicators as rows, the fixed targets columns (chỉ tiêu được giao, kết quả, tỷ lệ
    hoàn thành…) instead of the plan's own."""
    out["kind"] = "targets"
    main = shape.main_label
    out["row_header"] = norm(" ".join(chain_texts(table, shape.header_rows, main,
                                                   shape.title_rows))) if main is not None else (
        "Chỉ tiêu")
    target_leaf = next((leaf for leaf in root.leaves()
                        if _TARGET_COLUMN.search(ascii_fold(" ".join(leaf.path())))
                        and not _RESULT_COLUMN.search(ascii_fold(leaf.text))), None)
    taken: set[str] = set()
    indicators: list[dict[str, Any]] = []
    for row, name in labels:
        unit = norm(table.text(row, shape.unit_col)) if shape.unit_col is not None else ""
        m = re.search(r"\(([^()]{1,20})\)\s*$", name)
        if not unit and m and not _PERCENT.search(ascii_fold(m.group(1))):
            unit = m.group(1)
        rate = unit == "%" or bool(re.match(r"^t[yi] le\b", ascii_fold(name)))
        unit = "%" if rate else unit[:1].lower() + unit[1:] if unit and not unit.isupper() else unit
        key = make_key(_indicator_words(name), taken, fallback="chi_tieu")
        item: dict[str, Any] = {"key": key, "name": name, "unit": unit,
                                "kind": "rate" if rate else "count"}
        if target_leaf is not None:
            value = parse_number(table.text(row, target_leaf.cols[0]))
            if value is not None and (not rate or 0 <= value <= 100):
                item["default_target"] = int(value) if value.is_integer() else value
                found.note(form, key, f"Chỉ tiêu «{name}»: mức giao chung {value:g}"
                           f"{'%' if rate else ''} (lấy từ bảng; từng đơn vị có thể khác).",
                           kind="targets")
        if not unit:
            found.ask(form, key, f"Chỉ tiêu «{name}» tính bằng đơn vị gì (người, cuộc, công "
                      "trình…)?")
        indicators.append(item)
    out["indicators"] = indicators
    plan_columns = ", ".join(f"«{' › '.join(leaf.path())}»" for leaf in root.leaves())
    found.note(form, "", f"Biểu chỉ tiêu (targets): {len(indicators)} chỉ tiêu; các cột của "
               f"bảng ({plan_columns}) được thay bằng bộ cột chuẩn của biểu chỉ tiêu (chỉ tiêu "
               "được giao, kết quả, tổng số khi là tỷ lệ, dự kiến, tỷ lệ hoàn thành, ghi chú).",
               kind="targets")
    return out
