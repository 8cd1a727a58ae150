"""Messy values as units type them, read through real workbooks; legacy TCVN3/VNI text."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from builders import cell_of, write_workbook

from toolkit._infra.paths import samples_dir
from toolkit.check.legacy_vn import TCVN3, VNI, detect, from_legacy
from toolkit.check.validate import validate
from toolkit.check.values import parse_value
from toolkit.read.ingest import ingest
from toolkit.read.selection import select
from toolkit.spec.load import load_campaign
from toolkit.spec.units import load_units

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")
TEXT = CAMPAIGN.form("PL4").column("ghi_chu")
CHOICE = CAMPAIGN.form("PL1").column("loai_van_ban")

# TCVN 5712 (VN1) 0xA1–0xFE as published in X11's TCVNtoUCS2.c; 0xB0–0xB4 are VN1's
# combining marks, which TCVN3 fonts do not use.
VN1_A1_FE = [
    0x0102, 0x00C2, 0x00CA, 0x00D4, 0x01A0, 0x01AF, 0x0110,
    0x0103, 0x00E2, 0x00EA, 0x00F4, 0x01A1, 0x01B0, 0x0111, 0x1EB0,
    0x0300, 0x0309, 0x0303, 0x0301, 0x0323, 0x00E0, 0x1EA3, 0x00E3,
    0x00E1, 0x1EA1, 0x1EB2, 0x1EB1, 0x1EB3, 0x1EB5, 0x1EAF, 0x1EB4,
    0x1EAE, 0x1EA6, 0x1EA8, 0x1EAA, 0x1EA4, 0x1EC0, 0x1EB7, 0x1EA7,
    0x1EA9, 0x1EAB, 0x1EA5, 0x1EAD, 0x00E8, 0x1EC2, 0x1EBB, 0x1EBD,
    0x00E9, 0x1EB9, 0x1EC1, 0x1EC3, 0x1EC5, 0x1EBF, 0x1EC7, 0x00EC,
    0x1EC9, 0x1EC4, 0x1EBE, 0x1ED2, 0x0129, 0x00ED, 0x1ECB, 0x00F2,
    0x1ED4, 0x1ECF, 0x00F5, 0x00F3, 0x1ECD, 0x1ED3, 0x1ED5, 0x1ED7,
    0x1ED1, 0x1ED9, 0x1EDD, 0x1EDF, 0x1EE1, 0x1EDB, 0x1EE3, 0x00F9,
    0x1ED6, 0x1EE7, 0x0169, 0x00FA, 0x1EE5, 0x1EEB, 0x1EED, 0x1EEF,
    0x1EE9, 0x1EF1, 0x1EF3, 0x1EF7, 0x1EF9, 0x00FD, 0x1EF5,
]
# xvnkb vni.h, lowercase half, in utf.h order: plain, sắc, huyền, hỏi, ngã, nặng
VNI_REFERENCE = {
    "aù": "á", "aø": "à", "aû": "ả", "aõ": "ã", "aï": "ạ", "aâ": "â", "aá": "ấ", "aà": "ầ",
    "aå": "ẩ", "aã": "ẫ", "aä": "ậ", "aê": "ă", "aé": "ắ", "aè": "ằ", "aú": "ẳ", "aü": "ẵ",
    "aë": "ặ", "eù": "é", "eø": "è", "eû": "ẻ", "eõ": "ẽ", "eï": "ẹ", "eâ": "ê", "eá": "ế",
    "eà": "ề", "eå": "ể", "eã": "ễ", "eä": "ệ", "où": "ó", "oø": "ò", "oû": "ỏ", "oõ": "õ",
    "oï": "ọ", "oâ": "ô", "oá": "ố", "oà": "ồ", "oå": "ổ", "oã": "ỗ", "oä": "ộ", "ô": "ơ",
    "ôù": "ớ", "ôø": "ờ", "ôû": "ở", "ôõ": "ỡ", "ôï": "ợ", "uù": "ú", "uø": "ù", "uû": "ủ",
    "uõ": "ũ", "uï": "ụ", "ö": "ư", "öù": "ứ", "öø": "ừ", "öû": "ử", "öõ": "ữ", "öï": "ự",
    "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "yù": "ý", "yø": "ỳ", "yû": "ỷ",
    "yõ": "ỹ", "î": "ỵ", "ñ": "đ",
}


def test_tcvn3_table_matches_the_published_vn1_table():
    expected = {chr(b): chr(u) for b, u in zip(range(0xA1, 0xFF), VN1_A1_FE, strict=True)
                if not 0xB0 <= b <= 0xB4}
    assert expected == TCVN3


def test_vni_table_matches_the_published_vni_table():
    for seq, letter in VNI_REFERENCE.items():
        assert VNI[seq] == letter, seq
        assert VNI[seq.upper()] == letter.upper(), seq


@pytest.mark.parametrize(("typed", "unicode", "encoding"), [
    ("§oµn x· Xu©n Hßa", "Đoàn xã Xuân Hòa", "TCVN3"),
    ("B¸O C¸O KÕT QU¶", "BÁO CÁO KẾT QUẢ", "TCVN3"),
    ("Tr\u00adêng THPT Lª Lîi", "Trường THPT Lê Lợi", "TCVN3"),
    ("Ñoaøn xaõ Xuaân Hoàng", "Đoàn xã Xuân Hồng", "VNI"),
    ("ÑOAØN THANH NIEÂN", "ĐOÀN THANH NIÊN", "VNI"),
    ("Hoäi nghò tuyeân truyeàn", "Hội nghị tuyên truyền", "VNI"),
])
def test_legacy_text_is_converted(typed, unicode, encoding):
    assert from_legacy(typed) == (unicode, encoding)


@pytest.mark.parametrize("text", [
    "Đoàn xã Xuân Hòa", "«Tháng thanh niên»", "Café ©2020", "Søren Müller", "Ghi chú: 45%",
    unicodedata.normalize("NFD", "Hội nghị"), "", "Plain ASCII text", "Tiếng Việt có dấu",
])
def test_good_text_is_never_converted(text):
    assert detect(text) is None


def test_parse_value_converts_legacy_text_and_choices_with_a_warning():
    parsed = parse_value("Tæ chøc 3 líp c¶m t×nh §oµn", TEXT)
    assert parsed == ("Tổ chức 3 lớp cảm tình Đoàn", None, "legacy_encoding_converted")
    assert parse_value("KÕ ho¹ch", CHOICE).value in (None, "Kế hoạch")
    assert parse_value("Keá hoaïch", CHOICE) == ("Kế hoạch", None, "legacy_encoding_converted")


MESSY = [  # (form, row, column, typed, read as, warning code or None)
    ("PL2", "-", "bt_so_luong", "'12", 12.0, "number_as_text_converted"),
    ("PL2", "-", "btv_so_luong", "1.234", 1234.0, "number_as_text_converted"),
    ("PL2", "-", "bch_so_luong", "\u00a02\u00a0000 ", 2000.0, "number_as_text_converted"),
    ("PL2", "-", "bt_dai_hoc", "１２", 12.0, "number_as_text_converted"),
    ("PL5", "-", "tap_hop_chi_tieu", "45%", 45.0, "number_as_text_converted"),
    ("PL5", "-", "lam_nha_so_tien", "1.234,5", 1234.5, "number_as_text_converted"),
    ("PL5", "-", "bhyt_so_nguoi", "0,45", None, "not_integer"),
    ("PL1", "1", "ngay_ban_hanh", "20/01/2021", dt.date(2021, 1, 20), None),
    ("PL1", "1", "trich_yeu", unicodedata.normalize("NFD", "Triển khai Nghị quyết"),
     "Triển khai Nghị quyết", None),
    ("PL1", "1", "loai_van_ban", "ke hoach", "Kế hoạch", "text_normalised"),
    ("PL4", "2016", "ghi_chu", "Líp c¶m t×nh §oµn", "Lớp cảm tình Đoàn",
     "legacy_encoding_converted"),
    ("PL6", "2018", "ghi_chu", "Giaùm saùt chuyeân ñeà", "Giám sát chuyên đề",
     "legacy_encoding_converted"),
]


def test_messy_values_in_a_real_workbook_are_read_as_meant(tmp_path):
    values: dict = {}
    for form, row, col, typed, _read, _code in MESSY:
        values.setdefault(form, {}).setdefault(row, {})[col] = typed
    write_workbook(tmp_path / "TX01.xlsx", CAMPAIGN, values=values)
    result = ingest(tmp_path, CAMPAIGN)
    select(result.submissions, UNITS, UNITS.get("TX"), CAMPAIGN)
    frames = validate(CAMPAIGN, result.submissions)
    (sub,) = result.submissions
    found = {(f.form, f.cell): f.code for f in sub.findings}
    for form, row, col, typed, read, code in MESSY:
        cell = cell_of(CAMPAIGN, form, row, col)
        assert found.get((form, cell)) == code, (form, cell, typed)
        if read is None:
            continue
        frame = frames[form]
        got = frame.loc[frame["row"] == row, col]
        if sub.status == "accepted":
            assert list(got) == [read], (form, col)
    assert sub.status == "rejected"  # the 0,45 people is an error, everything else reads
