"""The committed blank templates in ``workbook_templates/`` are golden files: regenerating
them must give identical bytes. On a mismatch the test unzips both and shows the first
differing lines of the first differing part, so a reviewer sees *what* changed.

To accept an intended change: ``python -m toolkit.write.templates --regenerate-golden`` (or run
the tests with ``TOOLKIT_REGENERATE_GOLDEN=1``), then review and commit the new files.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import os
import re
import zipfile

import pytest
from openpyxl import load_workbook

from toolkit.spec.load import list_builtin_campaigns, load_campaign
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.write.templates import (
    GOLDEN_ENV,
    golden_bytes,
    golden_path,
    regenerate_golden,
    template_bytes,
)

CAMPAIGNS = list_builtin_campaigns()


def _parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name).decode("utf-8", "replace") for name in sorted(z.namelist())}


def _pretty(xml: str) -> list[str]:
    """One tag per line: enough to make an XML diff readable without reformatting values."""
    return re.sub(r">\s*<", ">\n<", xml).splitlines()


def xlsx_diff(expected: bytes, actual: bytes, context: int = 3, limit: int = 40) -> str:
    """Readable difference of two xlsx files, part by part (empty when equal)."""
    old, new = _parts(expected), _parts(actual)
    out: list[str] = []
    for name in sorted(set(old) - set(new)):
        out.append(f"part only in golden file: {name}")
    for name in sorted(set(new) - set(old)):
        out.append(f"part only in regenerated file: {name}")
    for name in sorted(set(old) & set(new)):
        if old[name] == new[name]:
            continue
        diff = list(difflib.unified_diff(_pretty(old[name]), _pretty(new[name]),
                                         f"golden/{name}", f"regenerated/{name}",
                                         n=context, lineterm=""))
        out.append("\n".join(diff[:limit]) + ("\n…" if len(diff) > limit else ""))
    if not out and expected != actual:
        out.append("same parts, different zip container (order, compression or timestamps)")
    return "\n".join(out)


@pytest.mark.parametrize("campaign_id", CAMPAIGNS)
def test_golden_template_is_up_to_date(campaign_id: str) -> None:
    if os.environ.get(GOLDEN_ENV):
        regenerate_golden([campaign_id])
    path = golden_path(campaign_id)
    assert path.exists(), (f"{path} missing: run python -m toolkit.templates "
                           "--regenerate-golden and commit it")
    expected = path.read_bytes()
    actual = golden_bytes(load_campaign(campaign_id))
    if expected != actual:
        pytest.fail(f"{path.name} differs from a regenerated template "
                    f"(regenerate with {GOLDEN_ENV}=1 if intended):\n"
                    + xlsx_diff(expected, actual))


@pytest.mark.parametrize("campaign_id", CAMPAIGNS)
def test_golden_template_is_a_blank_template(campaign_id: str) -> None:
    campaign = load_campaign(campaign_id)
    wb = load_workbook(golden_path(campaign_id))
    meta = parse_meta(list(wb[META_SHEET].iter_rows(values_only=True)))
    assert meta.identity["campaign"] == campaign.id
    assert meta.identity["kind"] == "template"
    assert meta.identity["unit_code"] == "" and meta.identity["unit_name"] == ""
    assert meta.identity["spec_sha256"] == campaign.spec_sha256
    assert [s for s in wb.sheetnames if s != META_SHEET][1:] == [f.sheet for f in campaign.forms]


def test_diff_names_the_changed_part() -> None:
    campaign = load_campaign(CAMPAIGNS[0])
    a = template_bytes(campaign, None, None)
    b = template_bytes(campaign, None, None, generated_at=dt.datetime(2022, 2, 2))
    text = xlsx_diff(a, b)
    assert "docProps/core.xml" in text and "2022-02-02" in text
    assert xlsx_diff(a, a) == ""
