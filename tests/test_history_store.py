"""The history store on its own: schema and refusal of foreign files, superseded files kept
and marked, the earlier period chosen, merged units' figures added up under their successor,
column mappings of ``compare_with``; and ``compare_with`` in a campaign spec."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest
import yaml

from toolkit.history.compare import choose_period, previous_values
from toolkit.history.store import SCHEMA_VERSION, FileValues, HistoryError, HistoryStore
from toolkit.spec.campaign import Campaign, CompareTarget
from toolkit.spec.data import campaign_to_data
from toolkit.spec.errors import SpecError
from toolkit.spec.load import campaign_from_data, load_campaign
from toolkit.spec.units import Unit, UnitRegistry

CAMPAIGN = load_campaign("nq02-2020")


def _registry(merges: dict[str, str] | None = None) -> UnitRegistry:
    units = {"TX": Unit(code="TX", name="Huyện đoàn Thọ Xuân", level="huyen", parent="",
                        email="")}
    for code in ("A", "B", "C", "D"):
        units[code] = Unit(code=code, name=f"Đoàn xã {code}", level="co_so", parent="TX",
                           email="", successor=(merges or {}).get(code, ""))
    return UnitRegistry(units=units, source="test")


def _record(store: HistoryStore, campaign: str, period: str, values: dict[str, float],
            *, sha: str = "s1", digest: str = "d1", superseded: bool = False,
            column: str = "bch_so_luong") -> None:
    store.record(campaign=campaign, period=period, office="TX", generated_at="",
                 spec_sha256="", inbox_digest=digest, source="test",
                 files=[FileValues(unit, f"{sha}-{unit}", f"{unit}.xlsx",
                                   [("PL2", "-", column, value)], superseded=superseded)
                        for unit, value in values.items()])


def _as(campaign_id: str, period: str, *targets: CompareTarget) -> Campaign:
    return dataclasses.replace(CAMPAIGN, id=campaign_id, period=period, compare_with=targets)


def test_schema_version_and_wal(tmp_path):
    path = tmp_path / "h.sqlite"
    HistoryStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
        SCHEMA_VERSION,)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.execute("UPDATE meta SET value='99'")
    db.commit()
    db.close()
    with pytest.raises(HistoryError, match="phiên bản 99"):
        HistoryStore(path)


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b""])
def test_a_file_that_is_not_a_history_is_refused_in_vietnamese(tmp_path, content):
    path = tmp_path / "h.sqlite"
    if content:
        path.write_bytes(content)
    else:  # an SQLite file of something else
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE other (x)")
        db.close()
    with pytest.raises(HistoryError, match="không phải tệp lịch sử"):
        HistoryStore(path)


def test_a_newer_file_supersedes_the_older_one_which_is_kept(tmp_path):
    with HistoryStore(tmp_path / "h.sqlite") as store:
        _record(store, "c", "2020", {"A": 10, "B": 20})
        _record(store, "c", "2020", {"A": 11, "B": 20}, sha="s2", digest="d2")
        current = {(u, v) for u, _f, _r, _c, v in store.values("c", "2020")}
        old = {(u, v) for u, _f, _r, _c, v in store.values("c", "2020", superseded=True)}
    assert current == {("A", 11), ("B", 20)}
    assert old == {("A", 10), ("B", 20)}  # B's second "file" has another sha: both kept
    # the history_values view shows every value with its flag
    db = sqlite3.connect(tmp_path / "h.sqlite")
    flags = dict(db.execute("SELECT value, superseded FROM history_values WHERE unit_code='A'"))
    assert flags == {10.0: 1, 11.0: 0}


def test_a_superseded_file_of_the_run_is_kept_marked(tmp_path):
    with HistoryStore(tmp_path / "h.sqlite") as store:
        _record(store, "c", "2020", {"A": 10})
        _record(store, "c", "2020", {"A": 99}, sha="old", digest="d2", superseded=True)
        assert [v for *_k, v in store.values("c", "2020")] == [10]
        assert [v for *_k, v in store.values("c", "2020", superseded=True)] == [99]


def test_the_most_recent_earlier_period_is_chosen(tmp_path):
    this = _as("bc", "2024")
    with HistoryStore(tmp_path / "h.sqlite") as store:
        assert choose_period(store, this) is None
        for period in ("2021", "2023", "2025"):
            _record(store, "bc", period, {"A": 1}, digest=period)
        _record(store, "bc", "2024", {"A": 1}, digest="this")  # this run's own period
        target, period = choose_period(store, this)
        assert (target.campaign, period) == ("bc", "2023")
        named = _as("bc", "2024", CompareTarget("bc", period="2021"))
        assert choose_period(store, named)[1] == "2021"
        other = _as("bc", "2024", CompareTarget("khong-co"), CompareTarget("bc"))
        assert choose_period(store, other)[1] == "2023"  # the first target with figures wins


def test_merged_units_add_up_under_their_successor(tmp_path):
    this = _as("bc", "2021 - 2025", CompareTarget("nq", period="2016 - 2020"))
    with HistoryStore(tmp_path / "h.sqlite") as store:
        _record(store, "nq", "2016 - 2020", {"A": 5, "B": 7, "C": 11, "D": 13, "Z": 100})
        prev = previous_values(store, this, "TX", _registry({"C": "B", "D": "C"}))
    key = ("PL2", "-", "bch_so_luong")
    assert prev == {("A", *key): 5, ("B", *key): 7 + 11 + 13}  # D → C → B; Z is not TX's


def test_columns_follow_the_mapping(tmp_path):
    this = _as("bc", "2025", CompareTarget("old", columns=(("PL2.bch_so_luong",
                                                             "PL2.bch_cu"),)))
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.record(campaign="old", period="2020", office="TX", generated_at="",
                     spec_sha256="", inbox_digest="d", source="test", files=[FileValues(
                         "A", "s", "A.xlsx", [("PL2", "-", "bch_cu", 3),
                                              ("PL2", "-", "bch_so_luong", 4)])])
        prev = previous_values(store, this, "TX", _registry())
    assert prev == {("A", "PL2", "-", "bch_so_luong"): 3}


def _builtin_yaml() -> tuple[dict, list[dict]]:
    folder = Path(CAMPAIGN.source).parent
    data = yaml.safe_load((folder / "campaign.yaml").read_text(encoding="utf-8"))
    forms = [yaml.safe_load((folder / n).read_text(encoding="utf-8")) for n in data["forms"]]
    return data, forms


@pytest.mark.parametrize(("value", "where"), [
    ({"period": "2015"}, "compare_with[0].campaign"),
    ({"campaign": "x", "nam": 1}, "compare_with[0].nam"),
    ({"campaign": "x", "columns": {"PL9.a": "PL2.b"}}, "compare_with[0].columns.PL9.a"),
    ({"campaign": "x", "columns": {"PL2.bch": "PL2.b"}}, "compare_with[0].columns.PL2.bch"),
    ({"campaign": "x", "columns": {"PL2": "PL2.b"}}, "compare_with[0].columns.PL2"),
    ({"campaign": "x", "columns": ["PL2.a"]}, "compare_with[0].columns"),
])
def test_compare_with_mistakes_name_the_key(value, where):
    data, forms = _builtin_yaml()
    data["compare_with"] = [value]
    with pytest.raises(SpecError) as err:
        campaign_from_data(data, forms, CAMPAIGN.source)
    assert where in str(err.value)


def test_compare_with_round_trips_and_stays_out_of_the_hash():
    data, forms = _builtin_yaml()
    data["compare_with"] = ["nq02-2015", {"campaign": "nq02-2010", "period": "2006 - 2010",
                                          "columns": {"PL2.bch_so_luong": "PL2.bch"}}]
    campaign = campaign_from_data(data, forms, CAMPAIGN.source)
    assert campaign.spec_sha256 == CAMPAIGN.spec_sha256
    assert campaign.compare_with == (
        CompareTarget("nq02-2015"),
        CompareTarget("nq02-2010", "2006 - 2010", (("PL2.bch_so_luong", "PL2.bch"),)))
    again, again_forms = campaign_to_data(campaign)
    assert campaign_from_data(again, again_forms, "x/campaign.yaml").compare_with == \
        campaign.compare_with


def test_consolidate_records_once_and_a_workspace_keeps_one_history(tmp_path):
    import shutil

    from click.testing import CliRunner

    from toolkit._infra.paths import samples_dir
    from toolkit.cli import cli
    from toolkit.history.store import HISTORY_NAME
    from toolkit.workspace import init_workspace
    from toolkit.workspace.board import consolidate_campaign, history_file

    out = tmp_path / "ket-qua"
    args = ["consolidate", str(samples_dir() / "inbox"), "--office", "TX", "--out", str(out)]
    first = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "đã ghi lần tổng hợp này" in first.output
    again = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert "đã có, không ghi lại" in again.output
    with HistoryStore(tmp_path / HISTORY_NAME) as store:
        assert len(store.runs()) == 1
        assert [p.period for p in store.periods("nq02-2020")] == ["2016 - 2020"]
        kept = {u for u, *_rest in store.values("nq02-2020", "2016 - 2020", superseded=True)}
    import csv

    with open(out / "submissions.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    accepted = {r["unit_code"]: r["sha256"] for r in rows if r["status"] == "accepted"}
    # a replaced file's values stay, marked (an identical copy is the same file: kept once)
    superseded = {r["unit_code"] for r in rows if r["status"] == "superseded"
                  and r["sha256"] != accepted.get(r["unit_code"])}
    assert superseded and kept == superseded

    ws = init_workspace(tmp_path / "vp", units=samples_dir() / "units.csv", office="TX")
    ws.add_campaign("nq02-2020")
    for place in ("thị trấn Lam Sơn", "thị trấn Thọ Xuân"):
        name = f"Phụ lục NQ02 - {place}.xlsx"
        shutil.copy(samples_dir() / "inbox" / name, ws.inbox("nq02-2020") / name)
    assert history_file(ws.results("nq02-2020")) == ws.root / HISTORY_NAME
    consolidate_campaign(ws, "nq02-2020")
    with HistoryStore(ws.root / HISTORY_NAME) as store:
        assert [r["campaign"] for r in store.runs()] == ["nq02-2020"]


def test_the_board_shows_the_largest_changes_against_the_earlier_period(tmp_path):
    import shutil

    from starlette.testclient import TestClient

    from toolkit._infra.paths import samples_dir
    from toolkit.history.store import HISTORY_NAME
    from toolkit.web.app import create_app
    from toolkit.workspace import init_workspace

    ws = init_workspace(tmp_path / "vp", units=samples_dir() / "units.csv", office="TX")
    ws.add_campaign("nq02-2020")
    name = "Phụ lục NQ02 - thị trấn Lam Sơn.xlsx"
    shutil.copy(samples_dir() / "inbox" / name, ws.inbox("nq02-2020") / name)
    with HistoryStore(ws.root / HISTORY_NAME) as store:  # an earlier period: TX's own total
        store.record(campaign="nq02-2020", period="2011 - 2015", office="TDTH",
                     generated_at="", spec_sha256="", inbox_digest="x", source="test",
                     files=[FileValues("TX", "s", "tong-hop.xlsx",
                                       [("PL2", "-", "bch_so_luong", 4)])])
    app = create_app(ws.root)

    async def local(scope, receive, send):  # the page answers this computer only
        if scope["type"] == "http":
            scope = dict(scope, client=("127.0.0.1", 40000))
        await app(scope, receive, send)

    client = TestClient(local, base_url="http://127.0.0.1:8000")
    page = client.get("/chien-dich/nq02-2020").text
    assert "So với kỳ trước (2011 - 2015)" in page
    broken = tmp_path / "vp2"
    ws2 = init_workspace(broken, units=samples_dir() / "units.csv", office="TX")
    ws2.add_campaign("nq02-2020")
    (broken / HISTORY_NAME).write_bytes(b"not a history" * 100)
    other = create_app(broken)

    async def local2(scope, receive, send):
        if scope["type"] == "http":
            scope = dict(scope, client=("127.0.0.1", 40000))
        await other(scope, receive, send)

    said = TestClient(local2, base_url="http://127.0.0.1:8000").get("/chien-dich/nq02-2020")
    assert "không phải tệp lịch sử" in said.text and "Traceback" not in said.text
    from openpyxl import load_workbook

    from toolkit.spec.meta import META_SHEET, parse_meta

    book = load_workbook(samples_dir() / "inbox" / name, data_only=True)
    meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    cell = next(c for c in meta.cells if c.column == "bch_so_luong")
    now = book[cell.sheet][cell.cell].value
    pct = round(100 * (now - 4) / 4, 1)
    shown = f"+{pct:g}%".replace(".", ",") if pct > 0 else f"{pct:g}%".replace(".", ",")
    assert f"<td class=\"n\">{now}</td><td class=\"n\">4</td><td class=\"n\">{shown}</td>" in page


def test_a_large_office_lists_each_figures_largest_rises_and_falls(tmp_path):
    import datetime as dt
    import io

    import xlsxwriter
    from openpyxl import load_workbook

    from toolkit.report.compare_sheet import COMPARE_SHEET, EACH_WAY, write_compare_sheet
    from toolkit.spec.compare import Change, Comparison, IndicatorChange
    from toolkit.spec.models import ConsolidationResult
    from toolkit.write.styles import Styles

    office = Unit(code="TD", name="Tỉnh đoàn", level="tinh", parent="", email="")
    codes = tuple(f"C{i:03d}" for i in range(300))
    rng = __import__("random").Random(5)
    now = {c: float(rng.randint(0, 500)) for c in codes}
    before = {c: float(rng.randint(0, 500)) for c in codes}
    ind = IndicatorChange("PL2", "-", "bch_so_luong", "Ban Chấp hành › Số lượng",
                          Change(sum(now.values()), sum(before.values())), now, before, codes)
    expected = [Unit(code=c, name=f"Đoàn xã {c}", level="co_so", parent="TD", email="")
                for c in codes]
    result = ConsolidationResult(campaign=CAMPAIGN, office=office, submissions=[],
                                 expected=expected, forms=[], generated_at=dt.datetime(2021, 1, 1),
                                 comparison=Comparison("2016 - 2020", "nq", "2011 - 2015",
                                                       (ind,)))
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    write_compare_sheet(wb, Styles(wb), result)
    wb.close()
    rows = list(load_workbook(buffer)[COMPARE_SHEET].iter_rows(values_only=True))
    part2 = rows[next(i for i, r in enumerate(rows) if r[0] == "II. THEO ĐƠN VỊ"):]
    listed = {r[1]: r[3:5] for r in part2 if isinstance(r[0], int)}
    ranked = sorted(codes, key=lambda c: now[c] - before[c])
    assert set(listed) == set(ranked[:EACH_WAY]) | set(ranked[-EACH_WAY:])
    assert all(listed[c] == (now[c], before[c]) for c in listed)
    total = next(r for r in rows if r[1] == "PL2")
    assert total[3:5] == (sum(now.values()), sum(before.values()))


def test_a_targets_campaign_compares_each_indicator(tmp_path):
    import math

    from openpyxl import load_workbook

    from toolkit._infra.paths import samples_dir
    from toolkit.pipeline import consolidate
    from toolkit.report.outputs import write_outputs
    from toolkit.spec.meta import META_SHEET, parse_meta
    from toolkit.spec.units import load_units

    campaign = load_campaign("giua-nhiem-ky-2017-2022")
    units = load_units(samples_dir() / "units.csv")
    inbox = samples_dir() / "giua-nhiem-ky-2017-2022" / "inbox"
    history = tmp_path / "h.sqlite"
    first = consolidate(inbox, campaign, units, units.get("TS"), history=history)
    from toolkit.history.record import record_result

    record_result(history, first)
    later = dataclasses.replace(campaign, period="2022 - 2027")
    result = consolidate(inbox, later, units, units.get("TS"), history=history)
    summary = write_outputs(result, result.frames, tmp_path / "out").summary
    # each accepted file's own result cells, read through its map
    accepted = {s.file for s in result.submissions if s.status == "accepted"}
    sums: dict[str, float] = {}
    for name in accepted:
        book = load_workbook(inbox / name, data_only=True)
        meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
        for ref in meta.cells:
            value = book[ref.sheet][ref.cell].value
            if ref.column == "ket_qua" and isinstance(value, (int, float)):
                sums[ref.row] = sums.get(ref.row, 0.0) + value
    assert len(sums) >= 3
    rows = list(load_workbook(summary)["So sánh"].iter_rows(values_only=True))
    form = campaign.forms[0]
    assert form.kind == "targets"
    for indicator, total in sums.items():
        label = f"{form.indicator(indicator).name} › {form.column('ket_qua').label}"
        line = next(r for r in rows if r[2] == label)
        assert math.isclose(line[3], total) and math.isclose(line[4], total)
        assert line[5] == 0
