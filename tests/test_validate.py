"""validate(): planted mistakes are found at their cells; clean files reach the frames intact."""

from __future__ import annotations

import copy
import datetime as dt
import math

import pandas as pd
import pandera.pandas as pa
import pytest
from builders import cell_of, clean_values, submission

import toolkit.check.validate as validate_module
from toolkit.check.validate import build_schema, validate
from toolkit.spec.load import load_campaign

CAMPAIGN = load_campaign("nq02-2020")


def codes_at(sub, severity=None):
    return {(f.code, f.form, f.cell) for f in sub.findings
            if severity is None or f.severity == severity}


def planted(change: dict, unit_code: str = "TX02"):
    """A clean filling with ``change`` = {(form, row, col): raw} applied."""
    values = copy.deepcopy(clean_values())
    for (form, row, col), raw in change.items():
        values.setdefault(form, {}).setdefault(row, {})[col] = raw
    return submission(CAMPAIGN, values, unit_code=unit_code)


# --------------------------------------------------------------------------- clean files


def test_clean_submission_is_accepted_and_its_values_reach_the_frames():
    sub = submission(CAMPAIGN, clean_values())
    frames = validate(CAMPAIGN, [sub])
    assert sub.status == "accepted", [f.message for f in sub.findings]
    assert sub.findings == []
    assert set(frames) == {f.id for f in CAMPAIGN.forms}
    for form in CAMPAIGN.forms:
        frame = frames[form.id]
        assert list(frame.columns) == ["file", "unit_code", "row",
                                       *(c.key for c in form.input_columns)]
        filled = clean_values().get(form.id, {})
        if form.kind == "list":
            assert list(frame["row"]) == list(filled)
        for row_key, cols in filled.items():
            record = frame[frame["row"] == row_key].iloc[0]
            assert record["file"] == "TX01.xlsx" and record["unit_code"] == "TX01"
            for col in form.input_columns:
                expected = cols.get(col.key)
                got = record[col.key]
                if expected is None:
                    assert got is None or (isinstance(got, float) and math.isnan(got))
                elif col.is_numeric:
                    assert got == pytest.approx(float(expected))
                else:
                    assert got == expected


def test_frames_follow_the_contract_types():
    frames = validate(CAMPAIGN, [submission(CAMPAIGN, clean_values())])
    pl1, pl2, pl4 = frames["PL1"], frames["PL2"], frames["PL4"]
    assert str(pl2["bt_so_luong"].dtype) == "float64"
    assert math.isnan(pl2.loc[0, "btv_thac_sy"])  # blank stays blank, not 0
    assert pl1.loc[1, "ngay_ban_hanh"] is None
    assert isinstance(pl1.loc[0, "ngay_ban_hanh"], dt.date)
    assert pl1["trich_yeu"].dtype == object
    assert pl4.loc[pl4["row"] == "2017", "ghi_chu"].iloc[0] is None
    assert list(pl4["row"]) == ["2016", "2017", "2018", "2019", "2020"]


def test_unused_list_rows_are_dropped_and_only_accepted_rows_are_kept():
    good = submission(CAMPAIGN, clean_values(), unit_code="TX01")
    bad = planted({("PL2", "-", "bt_so_luong"): "ba"}, unit_code="TX02")
    also_good = submission(CAMPAIGN, clean_values(), unit_code="TX03")
    frames = validate(CAMPAIGN, [good, bad, also_good])
    assert [good.status, bad.status, also_good.status] == ["accepted", "rejected", "accepted"]
    assert list(frames["PL2"]["unit_code"]) == ["TX01", "TX03"]
    assert list(frames["PL1"]["unit_code"]) == ["TX01", "TX01", "TX03", "TX03"]
    assert "TX02" not in set(frames["PL4"]["unit_code"])


def test_only_candidates_are_validated():
    superseded = planted({("PL2", "-", "bt_so_luong"): "ba"})
    superseded.status = "superseded"
    frames = validate(CAMPAIGN, [superseded])
    assert superseded.status == "superseded" and superseded.findings == []
    assert all(frame.empty for frame in frames.values())


# --------------------------------------------------------------------------- planted mistakes

MISTAKES = [
    # (change, code, form, row, column)
    ({("PL4", "2019", "co_so_so_nguoi"): "12 người"}, "not_a_number", "PL4", "2019",
     "co_so_so_nguoi"),
    ({("PL6", "2018", "giam_sat_so_cuoc"): 2.5}, "not_integer", "PL6", "2018",
     "giam_sat_so_cuoc"),
    ({("PL4", "2020", "tinh_so_nguoi"): -3}, "negative", "PL4", "2020", "tinh_so_nguoi"),
    ({("PL4", "2020", "tinh_so_nguoi"): "-3"}, "negative", "PL4", "2020", "tinh_so_nguoi"),
    ({("PL5", "-", "tap_hop_chi_tieu"): 130}, "out_of_range", "PL5", "-", "tap_hop_chi_tieu"),
    ({("PL1", "1", "loai_van_ban"): "Tờ trình"}, "not_in_choices", "PL1", "1", "loai_van_ban"),
    ({("PL1", "2", "ngay_ban_hanh"): "31/02/2021"}, "bad_date", "PL1", "2", "ngay_ban_hanh"),
    ({("PL2", "-", "bch_so_luong"): None}, "required_missing", "PL2", "-", "bch_so_luong"),
    ({("PL1", "1", "so_hieu"): "   "}, "required_missing", "PL1", "1", "so_hieu"),
    ({("PL1", "5", "trich_yeu"): "Một văn bản chưa ghi số"}, "required_missing", "PL1", "5",
     ("loai_van_ban", "so_hieu")),
    ({("PL2", "-", "bt_thac_sy"): 2, ("PL2", "-", "bt_dai_hoc"): 2, ("PL2", "-", "bt_cd_tc"): 1},
     "rule_violation", "PL2", "-", "bt_so_luong"),
    ({("PL5", "-", "tap_hop_so_nguoi"): 1200}, "rule_violation", "PL5", "-", "tap_hop_tong_so"),
    ({("PL2", "-", "btv_so_luong"): 20}, "rule_violation", "PL2", "-", "bch_so_luong"),
]


@pytest.mark.parametrize(("change", "code", "form", "row", "column"), MISTAKES,
                         ids=[f"{m[1]}@{m[2]}.{m[4]}" for m in MISTAKES])
def test_planted_mistake_is_found_at_its_cell(change, code, form, row, column):
    columns = column if isinstance(column, tuple) else (column,)
    sub = planted(change)
    frames = validate(CAMPAIGN, [sub])
    assert sub.status == "rejected"
    errors = codes_at(sub, "error")
    assert errors == {(code, form, cell_of(CAMPAIGN, form, row, c)) for c in columns}
    finding = next(f for f in sub.findings if f.code == code)
    assert finding.column in columns and finding.row == row and finding.unit_code == "TX02"
    assert finding.message.startswith(f"{form}!{finding.cell} — ")
    assert all(frame.empty for frame in frames.values())


def test_rule_message_names_both_sides_with_numbers():
    sub = planted({("PL2", "-", "bt_thac_sy"): 2, ("PL2", "-", "bt_dai_hoc"): 2,
                   ("PL2", "-", "bt_cd_tc"): 1})
    validate(CAMPAIGN, [sub])
    (finding,) = [f for f in sub.findings if f.code == "rule_violation"]
    for part in ("Thạc sỹ 2", "Đại học 2", "Cao đẳng, Trung cấp 1", "= 5", "Số lượng (3)"):
        assert part in finding.message
    assert finding.value == "3"


def test_warning_rule_keeps_the_file_accepted():
    sub = planted({("PL3", "-", "cap_uy"): 9})  # more in cấp ủy than Bí thư + Phó Bí thư
    validate(CAMPAIGN, [sub])
    assert sub.status == "accepted"
    assert codes_at(sub) == {("rule_violation", "PL3", cell_of(CAMPAIGN, "PL3", "-", "cap_uy"))}
    assert sub.findings[0].severity == "warning"


def test_number_typed_as_text_is_converted_with_a_warning():
    sub = planted({("PL5", "-", "tap_hop_so_nguoi"): "1.234",
                   ("PL5", "-", "tap_hop_tong_so"): "1.500"})
    frames = validate(CAMPAIGN, [sub])
    assert sub.status == "accepted"
    assert {f.code for f in sub.findings} == {"number_as_text_converted"}
    assert {f.cell for f in sub.findings} == {cell_of(CAMPAIGN, "PL5", "-", "tap_hop_so_nguoi"),
                                              cell_of(CAMPAIGN, "PL5", "-", "tap_hop_tong_so")}
    assert frames["PL5"].loc[0, "tap_hop_so_nguoi"] == 1234.0
    assert frames["PL5"].loc[0, "tap_hop_tong_so"] == 1500.0


def test_a_formula_typed_into_a_text_cell_stays_text():
    text = '=HYPERLINK("http://example.invalid","Bấm vào đây")'
    sub = planted({("PL1", "1", "trich_yeu"): text})
    frames = validate(CAMPAIGN, [sub])
    assert sub.status == "accepted"
    assert frames["PL1"].loc[0, "trich_yeu"] == text


def test_one_finding_per_problem():
    # "-3" as text: negative only (no conversion warning, no rule over a rejected value)
    sub = planted({("PL2", "-", "btv_so_luong"): "-3", ("PL2", "-", "bt_thac_sy"): "ba"})
    validate(CAMPAIGN, [sub])
    assert codes_at(sub) == {
        ("negative", "PL2", cell_of(CAMPAIGN, "PL2", "-", "btv_so_luong")),
        ("not_a_number", "PL2", cell_of(CAMPAIGN, "PL2", "-", "bt_thac_sy")),
    }


def test_every_mistake_of_a_file_is_reported_at_once():
    sub = planted({k: v for m in MISTAKES[:8] for k, v in m[0].items()})
    validate(CAMPAIGN, [sub])
    assert {f.code for f in sub.findings if f.severity == "error"} >= {
        "not_a_number", "not_integer", "negative", "out_of_range", "not_in_choices",
        "bad_date", "required_missing"}


def test_ingest_findings_count_towards_the_status():
    from toolkit.spec.findings import make_finding

    sub = submission(CAMPAIGN, clean_values())
    sub.findings.append(make_finding("sheet_missing", file=sub.file, unit_code="TX01",
                                     sheet="PL6"))
    validate(CAMPAIGN, [sub])
    assert sub.status == "rejected"


def test_one_schema_validation_per_form_for_all_files(monkeypatch):
    calls = []
    original = pa.DataFrameSchema.validate

    def counting(self, frame, *args, **kwargs):
        calls.append((self.name, len(frame)))
        return original(self, frame, *args, **kwargs)

    monkeypatch.setattr(pa.DataFrameSchema, "validate", counting)
    subs = [submission(CAMPAIGN, clean_values(), unit_code=f"TX{i:02d}") for i in range(1, 31)]
    validate(CAMPAIGN, subs)
    assert sorted(name for name, _n in calls) == sorted(f.id for f in CAMPAIGN.forms)
    assert dict(calls)["PL4"] == 30 * 5
    assert dict(calls)["PL1"] == 30 * 2  # unused list rows never reach the frame


# --------------------------------------------------------------------------- the schema alone


def test_build_schema_is_generated_from_the_spec():
    form = CAMPAIGN.form("PL2")
    schema = build_schema(form)
    assert list(schema.columns) == ["file", "unit_code", "row",
                                    *(c.key for c in form.input_columns)]
    assert not schema.columns["bt_so_luong"].nullable
    assert schema.columns["bt_thac_sy"].nullable
    assert len(schema.checks) == len(form.rules)
    row = {c.key: float("nan") for c in form.input_columns}
    row.update(file="a.xlsx", unit_code="TX01", row="-", bt_so_luong=1.0, bt_thac_sy=2.0,
               btv_so_luong=1.0, bch_so_luong=1.0, bt_dai_hoc=1.5, bt_cd_tc=-1.0)
    with pytest.raises(pa.errors.SchemaErrors) as err:
        schema.validate(pd.DataFrame([row]), lazy=True)
    checks = set(err.value.failure_cases["check"])
    assert {"min", "integer", "rule:0"} <= checks


def test_validate_module_stays_small():
    import inspect

    assert len(inspect.getsource(validate_module).splitlines()) < 600
