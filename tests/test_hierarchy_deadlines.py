"""A campaign's deadlines per level, for any of the five levels: campaign.yaml keys (the
canonical keys or the words a clerk types), the campaign workbook's «Hạn nộp …» rows (an old
workbook with three rows still reads), a plan's text, and the templates and reminders that
show them."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from toolkit.author.infer_campaign import choose_deadlines, find_deadlines
from toolkit.author.plan import Paragraph
from toolkit.author.workbook import read_workbook, workbook_bytes
from toolkit.mail.compose import reminder_message, sender_address
from toolkit.spec.data import campaign_to_data
from toolkit.spec.errors import SpecError
from toolkit.spec.load import campaign_from_data, load_campaign
from toolkit.spec.units import Unit

BASE = load_campaign("nq02-2020")
ALL_FIVE = {"chi_doan": dt.date(2021, 1, 10), "co_so": dt.date(2021, 1, 20),
            "huyen": dt.date(2021, 1, 30), "tinh": dt.date(2021, 2, 10),
            "trung_uong": dt.date(2021, 2, 20)}


def _with_deadlines(deadlines: dict[str, Any]) -> Any:
    campaign, forms = campaign_to_data(BASE)
    return campaign_from_data(dict(campaign, deadlines=deadlines), forms, "campaign.yaml")


def test_every_level_may_have_a_deadline() -> None:
    campaign = _with_deadlines({k: v.isoformat() for k, v in ALL_FIVE.items()})
    assert campaign.deadlines == ALL_FIVE
    for level, day in ALL_FIVE.items():
        assert campaign.deadline_for(level) == day


@pytest.mark.parametrize(("word", "level"), [
    ("Cơ sở", "co_so"), ("xã", "co_so"), ("Huyện", "huyen"), ("Đoàn Khối", "huyen"),
    ("Tỉnh", "tinh"), ("TW", "trung_uong"), ("Chi đoàn", "chi_doan")])
def test_deadline_keys_may_be_the_words_a_clerk_types(word: str, level: str) -> None:
    campaign = _with_deadlines({word: "2021-01-20"})
    assert campaign.deadlines == {level: dt.date(2021, 1, 20)}


def test_a_level_given_twice_is_refused() -> None:
    with pytest.raises(SpecError, match="hạn nộp cấp cơ sở ghi hai lần"):
        _with_deadlines({"co_so": "2021-01-20", "Xã": "2021-01-21"})


def _deadline_rows(data: bytes) -> dict[str, Any]:
    ws = load_workbook(io.BytesIO(data))["Chiến dịch"]
    return {str(r[0]): r[1] for r in ws.iter_rows(values_only=True)
            if r and isinstance(r[0], str) and r[0].startswith("Hạn nộp")}


def test_campaign_workbook_keeps_the_usual_three_rows() -> None:
    rows = _deadline_rows(workbook_bytes(*campaign_to_data(BASE)))
    assert list(rows) == ["Hạn nộp cấp cơ sở", "Hạn nộp cấp huyện", "Hạn nộp cấp tỉnh"]
    assert rows["Hạn nộp cấp cơ sở"].date() == dt.date(2021, 1, 20)
    assert rows["Hạn nộp cấp tỉnh"] is None


def test_campaign_workbook_round_trips_all_five_levels() -> None:
    campaign = _with_deadlines({k: v.isoformat() for k, v in ALL_FIVE.items()})
    data = workbook_bytes(*campaign_to_data(campaign))
    rows = _deadline_rows(data)
    assert {k: v.date() for k, v in rows.items()} == {
        "Hạn nộp cấp chi đoàn": ALL_FIVE["chi_doan"], "Hạn nộp cấp cơ sở": ALL_FIVE["co_so"],
        "Hạn nộp cấp huyện": ALL_FIVE["huyen"], "Hạn nộp cấp tỉnh": ALL_FIVE["tinh"],
        "Hạn nộp cấp trung ương": ALL_FIVE["trung_uong"]}
    again, _forms = read_workbook(data)
    assert again["deadlines"] == ALL_FIVE


def _paragraphs(*texts: str) -> list[Paragraph]:
    return [Paragraph(text) for text in texts]


def test_a_plans_deadlines_for_other_levels() -> None:
    found = find_deadlines(_paragraphs(
        "Cấp chi đoàn: hoàn thành và gửi báo cáo về Đoàn cơ sở trước ngày 05/01/2021.",
        "Cấp cơ sở: gửi báo cáo về Tỉnh đoàn trước ngày 15/01/2021.",
        "Cấp tỉnh: gửi báo cáo về Trung ương Đoàn trước ngày 10/02/2021.",
    ), 2021)
    assert choose_deadlines(found) == {"chi_doan": dt.date(2021, 1, 5),
                                       "co_so": dt.date(2021, 1, 15),
                                       "tinh": dt.date(2021, 2, 10)}


def test_reminder_of_a_commune_reporting_to_its_province() -> None:
    campaign = _with_deadlines({"co_so": "2021-01-20", "tinh": "2021-02-10"})
    office = Unit(code="TH", name="Tỉnh đoàn Thanh Hóa", level="tinh", parent="",
                  email="th@doan.vn")
    commune = Unit(code="TH01", name="Đoàn xã Xuân Hòa", level="co_so", parent="TH",
                   email="th01@doan.vn")
    msg = reminder_message(campaign, office, commune, sender_address(office.name, office.email),
                           status="missing", today=dt.date(2021, 1, 18))
    body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Hạn gửi báo cáo đối với cấp cơ sở: chậm nhất ngày 20/01/2021" in body


# the test's own words for the levels, top to bottom
NAMES = {"trung_uong": "cấp trung ương", "tinh": "cấp tỉnh", "huyen": "cấp huyện",
         "co_so": "cấp cơ sở", "chi_doan": "cấp chi đoàn"}


def _guide_deadline(data: bytes) -> str:
    ws = load_workbook(io.BytesIO(data))["Hướng dẫn"]
    for row in ws.iter_rows(values_only=True):
        cells = [c for c in row if c not in (None, "")]
        if cells and cells[0] == "Hạn nộp":
            return str(cells[1])
    raise AssertionError("no «Hạn nộp» line")


@pytest.mark.parametrize("seed", range(10))
def test_blank_template_deadlines_for_generated_mixes_of_levels(seed: int) -> None:
    """An office whose children are of some levels, a campaign with deadlines for some
    levels: the blank shows the one deadline of a single level, else each of the children's
    levels that has one, top to bottom."""
    import random

    from toolkit.write.templates import template_bytes

    rng = random.Random(seed)
    below = ["huyen", "co_so", "chi_doan"]
    levels = rng.sample(below, rng.randint(1, 3))
    dated = rng.sample(list(ALL_FIVE), rng.randint(1, 5))
    campaign = _with_deadlines({k: ALL_FIVE[k].isoformat() for k in dated})
    office = Unit(code="T", name="Tỉnh đoàn", level="tinh", parent="", email="")
    text = _guide_deadline(template_bytes(campaign, None, office, child_levels=levels))
    ordered = [lv for lv in NAMES if lv in levels]
    if len(ordered) == 1:
        lv = ordered[0]
        assert text == (f"Chậm nhất ngày {ALL_FIVE[lv]:%d/%m/%Y} ({NAMES[lv]})" if lv in dated
                        else "Theo kế hoạch (kế hoạch không nêu hạn cho cấp này)")
    else:
        parts = [f"{NAMES[lv]}: {ALL_FIVE[lv]:%d/%m/%Y}" for lv in ordered if lv in dated]
        assert text == ("Chậm nhất ngày — " + "; ".join(parts) if parts else "Theo kế hoạch")
