"""sender_mismatches: a file whose sender is not its unit's registered address."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from toolkit.read.manifest import Arrival, read_manifest
from toolkit.read.provenance import SenderMismatch, addresses, sender_mismatches
from toolkit.spec.units import load_units

UNITS_CSV = """code,name,level,parent,email
HD,Huyện đoàn,huyen,,vanphong@hd.example
X1,Đoàn xã Một,co_so,HD,xa1@hd.example
X2,Đoàn xã Hai,co_so,HD,"BiThu.Xa2@HD.example; xa2@hd.example"
X3,Đoàn xã Ba,co_so,HD,
"""
WHEN = dt.datetime(2021, 1, 15, 9, 0, tzinfo=dt.UTC)


@pytest.fixture()
def units(tmp_path: Path):
    path = tmp_path / "units.csv"
    path.write_text(UNITS_CSV, encoding="utf-8")
    return load_units(path)


def arrival(file: str, sender: str) -> Arrival:
    return Arrival(file=file, sender=sender, date=WHEN, message_id="<m@x>", subject="s")


def sub(file: str, unit_code: str) -> SimpleNamespace:
    return SimpleNamespace(file=file, unit_code=unit_code)


def test_sender_mismatches(units) -> None:
    arrivals = {a.file: a for a in [
        arrival("x1.xlsx", "XA1@hd.example"),                    # same address, other case
        arrival("x1-nho.xlsx", "ban.than@gmail.example"),        # a personal address
        arrival("x2.xlsx", "Bí thư Xã Hai <bithu.xa2@hd.example>"),  # second address, name
        arrival("x3.xlsx", "ai-do@hd.example"),                   # unit without an address
        arrival("la.xlsx", "la@hd.example"),                      # unit not in the file
        arrival("x2-khac.xlsx", ""),                              # manifest without sender
    ]}
    submissions = [sub("x1.xlsx", "X1"), sub("x1-nho.xlsx", "X1"), sub("x2.xlsx", "X2"),
                   sub("x3.xlsx", "X3"), sub("la.xlsx", "ZZ"), sub("x2-khac.xlsx", "X2"),
                   sub("khong-qua-thu.xlsx", "X2"), sub("x1-nho.xlsx", "")]
    found = sender_mismatches(arrivals, submissions, units)
    assert found == [("x1-nho.xlsx", "X1", "ban.than@gmail.example", "xa1@hd.example")]
    assert isinstance(found[0], SenderMismatch) and found[0].expected == "xa1@hd.example"
    # an iterable of arrivals works as well as read_manifest's mapping
    assert sender_mismatches(list(arrivals.values()), submissions, units) == found


def test_with_a_real_manifest_and_nfd_names(tmp_path: Path, units) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "manifest.csv").write_text(
        "\ufefffile,sender,date,message_id,subject\r\n"
        "Xã Hai/báo cáo.xlsx,nguoi.la@example.org,2021-01-15T09:00:00+07:00,<a@x>,Báo cáo\r\n",
        encoding="utf-8")
    nfd = "Xa\u0303 Hai/ba\u0301o ca\u0301o.xlsx"
    found = sender_mismatches(read_manifest(inbox), [sub(nfd, "X2")], units)
    assert found == [(nfd, "X2", "nguoi.la@example.org",
                      "BiThu.Xa2@HD.example; xa2@hd.example")]


def test_addresses() -> None:
    assert addresses("A@B.example; c@d.example, e@f.example") == {
        "a@b.example", "c@d.example", "e@f.example"}
    assert addresses('"Nguyễn, Văn A" <nva@x.example>') == {"nva@x.example"}
    assert addresses("") == set() and addresses("không có") == set()
