"""Spec loading: the built-in campaign loads, and every kind of spec mistake is a SpecError
naming the file and the key (never a traceback)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.spec.errors import SpecError
from toolkit.spec.load import list_builtin_campaigns, load_campaign

CAMPAIGN: dict[str, Any] = {
    "id": "demo",
    "title": "Báo cáo thử",
    "issuer": "BTV Huyện đoàn Thử",
    "document_number": "1-KH/ĐTN",
    "document_date": "2021-01-06",
    "deadlines": {"co_so": "2021-01-20"},
    "forms": ["f1.yaml"],
}
FORM: dict[str, Any] = {
    "id": "F1",
    "title": "Biểu thử",
    "kind": "single_row",
    "columns": [
        {"key": "so_luong", "header": ["Nhóm", "Số lượng"], "type": "count"},
        {"key": "nu", "header": ["Nhóm", "Nữ"], "type": "count"},
        {"key": "tong", "header": "Tổng số", "type": "count"},
        {"key": "ty_le", "header": "Tỷ lệ (%)", "type": "percent", "aggregate": "ratio",
         "numerator": "nu", "denominator": "tong"},
    ],
    "rules": [{"sum": ["nu"], "op": "le", "right": "so_luong"}],
}


def write_spec(tmp_path: Path, campaign: dict[str, Any] | None = None,
               form: dict[str, Any] | None = None, form_text: str | None = None) -> Path:
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(campaign or CAMPAIGN, allow_unicode=True), encoding="utf-8")
    text = form_text if form_text is not None else yaml.safe_dump(form or FORM,
                                                                  allow_unicode=True)
    (tmp_path / "f1.yaml").write_text(text, encoding="utf-8")
    return path


def broken_form(**changes: Any) -> dict[str, Any]:
    form = copy.deepcopy(FORM)
    form.update(changes)
    return form


def broken_column(index: int, **changes: Any) -> dict[str, Any]:
    form = copy.deepcopy(FORM)
    form["columns"][index].update(changes)
    return form


def expect_error(tmp_path: Path, key: str, *, file: str = "f1.yaml", **kwargs: Any) -> SpecError:
    path = write_spec(tmp_path, **kwargs)
    with pytest.raises(SpecError) as info:
        load_campaign(path)
    err = info.value
    assert Path(err.path).name == file, str(err)
    assert err.key == key, str(err)
    assert file in str(err) and key in str(err)
    return err


# ---------------------------------------------------------------------------- good specs


def test_builtin_campaign_loads(campaign) -> None:
    assert "nq02-2020" in list_builtin_campaigns()
    assert [f.id for f in campaign.forms] == ["PL1", "PL2", "PL3", "PL4", "PL5", "PL6"]
    assert [f.kind for f in campaign.forms] == ["list", "single_row", "single_row",
                                                "fixed_rows", "single_row", "fixed_rows"]
    assert campaign.document_number == "161-KH/ĐTN"
    assert campaign.deadline_for("co_so").isoformat() == "2021-01-20"
    assert campaign.deadline_for("huyen").isoformat() == "2021-01-30"
    assert campaign.deadline_for("tinh") is None
    assert len(campaign.spec_sha256) == 64


def test_minimal_spec_loads_and_hash_tracks_forms(tmp_path: Path) -> None:
    first = load_campaign(write_spec(tmp_path))
    assert first.form("F1").column("ty_le").numerator == "nu"
    assert first.form("F1").column("so_luong").min == 0  # counts are never negative
    again = load_campaign(write_spec(tmp_path))
    assert again.spec_sha256 == first.spec_sha256
    changed = load_campaign(write_spec(tmp_path, form=broken_form(title="Biểu khác")))
    assert changed.spec_sha256 != first.spec_sha256


def test_folder_path_is_accepted(tmp_path: Path) -> None:
    write_spec(tmp_path)
    assert load_campaign(tmp_path).id == "demo"


# ---------------------------------------------------------------------------- mistakes


def test_unknown_column_type(tmp_path: Path) -> None:
    err = expect_error(tmp_path, "columns[0].type", form=broken_column(0, type="integer"))
    assert "integer" in err.problem


def test_duplicate_column_key(tmp_path: Path) -> None:
    expect_error(tmp_path, "columns[1].key", form=broken_column(1, key="so_luong"))


def test_rule_names_unknown_column(tmp_path: Path) -> None:
    err = expect_error(tmp_path, "rules[0].sum",
                       form=broken_form(rules=[{"sum": ["khong_co"], "right": "so_luong"}]))
    assert "khong_co" in err.problem
    expect_error(tmp_path, "rules[0].right",
                 form=broken_form(rules=[{"sum": ["nu"], "right": "khong_co"}]))


def test_rule_on_ratio_column(tmp_path: Path) -> None:
    expect_error(tmp_path, "rules[0].sum",
                 form=broken_form(rules=[{"sum": ["ty_le"], "right": "so_luong"}]))


def test_rule_bad_operator(tmp_path: Path) -> None:
    expect_error(tmp_path, "rules[0].op",
                 form=broken_form(rules=[{"sum": ["nu"], "op": "lt", "right": "so_luong"}]))


def test_unknown_form_kind(tmp_path: Path) -> None:
    expect_error(tmp_path, "kind", form=broken_form(kind="table"))


def test_missing_required_form_key(tmp_path: Path) -> None:
    form = broken_form()
    del form["title"]
    err = expect_error(tmp_path, "title", form=form)
    assert "thiếu" in err.problem


def test_missing_required_campaign_key(tmp_path: Path) -> None:
    campaign = copy.deepcopy(CAMPAIGN)
    del campaign["document_number"]
    expect_error(tmp_path, "document_number", file="campaign.yaml", campaign=campaign)


def test_unknown_key(tmp_path: Path) -> None:
    expect_error(tmp_path, "colums", form=broken_form(colums=[]))
    expect_error(tmp_path, "columns[2].widht", form=broken_column(2, widht=10))


def test_bad_yaml(tmp_path: Path) -> None:
    err = expect_error(tmp_path, "dòng 3", form_text="id: F1\ntitle: T\ncolumns: [a: b: c]\n")
    assert "YAML" in err.problem


def test_yaml_not_a_mapping(tmp_path: Path) -> None:
    expect_error(tmp_path, "-", form_text="- a\n- b\n")


def test_header_prefix_clash(tmp_path: Path) -> None:
    """A column headed "Nhóm" cannot sit beside columns grouped under "Nhóm"."""
    expect_error(tmp_path, "columns[2].header", form=broken_column(2, header="Nhóm"))


def test_duplicate_header(tmp_path: Path) -> None:
    expect_error(tmp_path, "columns[0].header", form=broken_column(1, header=["Nhóm",
                                                                           "Số lượng"]))


def test_bad_deadline_level(tmp_path: Path) -> None:
    campaign = copy.deepcopy(CAMPAIGN)
    campaign["deadlines"] = {"thon": "2021-01-20"}  # "xa" (Xã) is co_so now; a hamlet is not
    expect_error(tmp_path, "deadlines.thon", file="campaign.yaml", campaign=campaign)


def test_bad_deadline_date(tmp_path: Path) -> None:
    campaign = copy.deepcopy(CAMPAIGN)
    campaign["deadlines"] = {"co_so": "20/01/2021"}
    err = expect_error(tmp_path, "deadlines.co_so", file="campaign.yaml", campaign=campaign)
    assert "YYYY-MM-DD" in err.problem


def test_missing_form_file(tmp_path: Path) -> None:
    campaign = copy.deepcopy(CAMPAIGN)
    campaign["forms"] = ["f1.yaml", "f2.yaml"]
    err = expect_error(tmp_path, "forms[1]", file="campaign.yaml", campaign=campaign)
    assert "f2.yaml" in err.problem


def test_duplicate_form_id(tmp_path: Path) -> None:
    campaign = copy.deepcopy(CAMPAIGN)
    campaign["forms"] = ["f1.yaml", "f1.yaml"]
    expect_error(tmp_path, "forms[1]", file="campaign.yaml", campaign=campaign)


def test_ratio_without_numerator(tmp_path: Path) -> None:
    form = copy.deepcopy(FORM)
    del form["columns"][3]["numerator"]
    expect_error(tmp_path, "columns[3].aggregate", form=form)


def test_ratio_naming_unknown_column(tmp_path: Path) -> None:
    expect_error(tmp_path, "columns[3]", form=broken_column(3, denominator="khong_co"))


def test_ratio_must_be_percent(tmp_path: Path) -> None:
    expect_error(tmp_path, "columns[3].type", form=broken_column(3, type="count"))


def test_choice_without_choices(tmp_path: Path) -> None:
    expect_error(tmp_path, "columns[2].choices",
                 form=broken_column(2, type="choice", aggregate="concat"))


def test_sum_of_text_column(tmp_path: Path) -> None:
    expect_error(tmp_path, "columns[2].aggregate", form=broken_column(2, type="text",
                                                                     aggregate="sum"))


def test_min_above_max(tmp_path: Path) -> None:
    expect_error(tmp_path, "columns[0].min", form=broken_column(0, min=10, max=5))


def test_wrong_value_type(tmp_path: Path) -> None:
    err = expect_error(tmp_path, "columns[0].min", form=broken_column(0, min="không"))
    assert "kiểu" in err.problem


def test_bad_column_key(tmp_path: Path) -> None:
    expect_error(tmp_path, "columns[0].key", form=broken_column(0, key="số lượng"))


def test_bad_form_id(tmp_path: Path) -> None:
    expect_error(tmp_path, "id", form=broken_form(id="Phụ lục 1"))


def test_fixed_rows_without_rows(tmp_path: Path) -> None:
    expect_error(tmp_path, "rows", form=broken_form(kind="fixed_rows"))


def test_fixed_rows_duplicate_row(tmp_path: Path) -> None:
    expect_error(tmp_path, "rows", form=broken_form(kind="fixed_rows", rows=["2016", "2016"]))


def test_rows_on_single_row_form(tmp_path: Path) -> None:
    expect_error(tmp_path, "rows", form=broken_form(rows=["2016"]))


def test_list_rows_out_of_range(tmp_path: Path) -> None:
    expect_error(tmp_path, "list_rows", form=broken_form(kind="list", list_rows=0))


def test_no_columns(tmp_path: Path) -> None:
    expect_error(tmp_path, "columns", form=broken_form(columns=[]))


def test_unknown_campaign_lists_builtins() -> None:
    with pytest.raises(SpecError) as info:
        load_campaign("khong-co-chien-dich-nay")
    assert "nq02-2020" in str(info.value)
