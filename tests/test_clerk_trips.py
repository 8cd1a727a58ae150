"""What a clerk trips over (issue 18, items 9–17): each fix read back from the real files
the toolkit writes — the built-in targets campaign's deadline and header, the bundled
targets samples, received times and their source, counts typed with a thousands comma, the
phone-call list, the zip saved by hand, the messages of a wrong or empty run."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import load_workbook

from toolkit._infra.paths import samples_dir
from toolkit.pipeline import consolidate
from toolkit.report.outputs import write_outputs
from toolkit.spec.load import load_campaign
from toolkit.spec.units import load_units
from toolkit.write.templates import template_bytes

TARGETS = "giua-nhiem-ky-2017-2022"
UNITS = load_units(samples_dir() / "units.csv")


def _cells(book_bytes: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(book_bytes))
    return [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
            if c.value is not None]


def _rows(path: Path, sheet: str) -> list[tuple]:
    ws = load_workbook(path)[sheet]
    return [r for r in ws.iter_rows(values_only=True)]


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


# ------------------------------------------------------------------ item 10: the spec


def test_base_units_deadline_is_the_plans_sending_date() -> None:
    """Plan 40-KH/ĐTN: the appendices reach the Huyện đoàn «trước ngày 10/4/2020»; 15/4 is
    when the review ends. A base unit's template says 10/04/2020."""
    campaign = load_campaign(TARGETS)
    seed = next((Path("/work/shared/seeds")).glob("000_*.txt"), None)
    if seed is not None:  # the plan itself, when it is at hand
        assert "về Văn phòng Huyện đoàn trước ngày 10/4/2020" in seed.read_text(
            encoding="utf-8")
    unit = UNITS.get("TS01")
    text = " ".join(_cells(template_bytes(campaign, unit, UNITS.get("TS"))))
    assert "10/04/2020" in text and "15/04/2020" not in text


def test_programmes_header_is_one_cell_in_the_template() -> None:
    book = load_workbook(io.BytesIO(template_bytes(load_campaign(TARGETS), None, None)))
    ws = book["CTR"]
    values = [c.value for row in ws.iter_rows(max_row=20) for c in row if c.value]
    assert "Số đoàn viên, thanh niên tham gia, hưởng lợi" in values
    assert "thanh niên tham gia" not in values and "hưởng lợi" not in values


def test_targets_samples_look_like_real_units(tmp_path: Path) -> None:
    """The bundled samples land at 70–130 % of each unit's target (issue 18 item 18: they
    ran from 9 % to 633 %). Completion read back from the summary's per-unit table."""
    for campaign_id, office in ((TARGETS, "TS"), ("nq01-hoc-tap-2018", "TX")):
        campaign = load_campaign(campaign_id)
        result = consolidate(samples_dir() / campaign_id / "inbox", campaign, UNITS,
                             UNITS.get(office))
        out = tmp_path / campaign_id
        write_outputs(result, None, out)
        (form,) = [f for f in campaign.forms if f.kind == "targets"]
        rows = _rows(next(out.glob("tong-hop_*.xlsx")), form.id)
        start = next(i for i, r in enumerate(rows) if r[0] == "Đơn vị") + 1
        shares = [v for r in rows[start:] if r[0] for v in r[1:] if isinstance(v, float | int)]
        assert len(shares) >= 3 * len(form.indicators), campaign_id
        assert all(0.7 <= v <= 1.3 for v in shares), (campaign_id, min(shares), max(shares))
