"""The report outline (ĐỀ CƯƠNG BÁO CÁO) of a campaign: the headings of the Word report, and
under each which figures of the consolidation it states and which of the units' own notes
it gathers for the writer.

Why data and not code: the plan's outline differs from campaign to campaign, and an office
rewords it; the report writer only follows it. The outline is kept in ``campaign.yaml`` under
``outline`` but is *not* part of ``spec_sha256`` (the hash identifies the forms units fill;
rewording the report must not invalidate templates already sent out).

A figure reference is ``status`` (who has reported), ``FORM`` (every figure of a form) or
``FORM.key1+key2`` (some columns of a form, or some indicators of a targets form). A note
reference is ``FORM.key`` of a text column (``Ghi chú``, ``Kết quả nổi bật``…).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from toolkit.spec.campaign import Form, Section
from toolkit.spec.targets import NOTE
from toolkit.spec.text import clean_text

STATUS_REF = "status"
SECTION_KEYS = ("heading", "level", "points", "figures", "notes")


class OutlineError(ValueError):
    """A mistake in an outline: ``key`` says where (``outline[3].figures``), ``problem`` what."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


def split_ref(ref: str) -> tuple[str, tuple[str, ...]]:
    """``PL5.a+b`` → (``PL5``, (``a``, ``b``)); ``PL2`` → (``PL2``, ())."""
    form, _, keys = ref.partition(".")
    return form.strip(), tuple(k.strip() for k in keys.split("+") if k.strip())


def _texts(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise OutlineError(key, "phải là một danh sách các dòng chữ")
    return tuple(t for t in (clean_text(str(v)) for v in value) if t)


def _check_ref(ref: str, forms: Mapping[str, Form], key: str, *, note: bool) -> None:
    form_id, keys = split_ref(ref)
    if not note and form_id == STATUS_REF and not keys:
        return
    if form_id not in forms:
        raise OutlineError(key, f"«{ref}»: không có biểu {form_id!r} (dùng: "
                                f"{', '.join(forms)}{'' if note else ', status'})")
    form = forms[form_id]
    if note:
        texts = [NOTE] if form.kind == "targets" else [c.key for c in form.columns
                                                        if c.type == "text"]
        if len(keys) != 1 or keys[0] not in texts:
            raise OutlineError(key, f"«{ref}»: ghi chú phải là một cột chữ của biểu {form_id} "
                                    f"(dùng: {', '.join(texts) or 'biểu không có cột chữ'})")
        return
    known = ([i.key for i in form.indicators] if form.kind == "targets"
             else [c.key for c in form.columns])
    for k in keys:
        if k not in known:
            raise OutlineError(key, f"«{ref}»: biểu {form_id} không có "
                                    f"{'chỉ tiêu' if form.kind == 'targets' else 'cột'} {k!r}")


def parse_outline(data: Any, forms: Sequence[Form]) -> tuple[Section, ...]:
    """Check and build the outline from its YAML data (a list of sections); every reference
    must name a form, column or indicator of ``forms``."""
    if data is None:
        return ()
    if not isinstance(data, list):
        raise OutlineError("outline", "phải là danh sách các mục (heading, level, points, "
                                      "figures, notes)")
    by_id = {f.id: f for f in forms}
    sections: list[Section] = []
    for i, raw in enumerate(data):
        where = f"outline[{i}]"
        if not isinstance(raw, dict):
            raise OutlineError(where, "phải là một bảng khóa: giá trị")
        for k in raw:
            if k not in SECTION_KEYS:
                raise OutlineError(f"{where}.{k}", f"khóa không được hỗ trợ (dùng: "
                                                   f"{', '.join(SECTION_KEYS)})")
        heading = clean_text(str(raw.get("heading") or ""))
        if not heading:
            raise OutlineError(f"{where}.heading", "đề mục không được để trống")
        level = raw.get("level", 1)
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 4:
            raise OutlineError(f"{where}.level", "cấp đề mục phải là 1, 2, 3 hoặc 4")
        figures = _texts(raw.get("figures"), f"{where}.figures")
        notes = _texts(raw.get("notes"), f"{where}.notes")
        for ref in figures:
            _check_ref(ref, by_id, f"{where}.figures", note=False)
        for ref in notes:
            _check_ref(ref, by_id, f"{where}.notes", note=True)
        sections.append(Section(heading, level, _texts(raw.get("points"), f"{where}.points"),
                                figures, notes))
    return tuple(sections)


def outline_to_data(sections: Sequence[Section]) -> list[dict[str, Any]]:
    """The canonical data of an outline (the inverse of :func:`parse_outline`): level 1 and
    empty lists left out."""
    out: list[dict[str, Any]] = []
    for s in sections:
        item: dict[str, Any] = {"heading": s.heading}
        if s.level != 1:
            item["level"] = s.level
        for key in ("points", "figures", "notes"):
            if getattr(s, key):
                item[key] = list(getattr(s, key))
        out.append(item)
    return out
