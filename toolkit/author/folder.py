"""A campaign folder (``campaign.yaml`` and one YAML file per form) written at once: into a
temporary folder, read back and compared with the campaign it must hold, then switched into
place. Shared by ``toolkit campaign load`` and any other front end."""

from __future__ import annotations

from pathlib import Path

from toolkit._infra.atomic import OutputError, atomic_folder
from toolkit.author.spec_files import CAMPAIGN_FILE
from toolkit.spec.campaign import Campaign
from toolkit.spec.data import same_campaign
from toolkit.spec.load import load_campaign

SPEC_SUFFIXES = (".yaml", ".yml")


def write_campaign_folder(out: Path, files: dict[str, str], expected: Campaign, *,
                          force: bool) -> Campaign:
    """Write ``files`` as the folder ``out`` all at once: into a temporary folder beside
    it, loaded back and compared with ``expected``, then renamed into place (an existing
    campaign folder only with ``force``). A failure leaves ``out`` as it was."""
    if out.exists() and not force:
        raise OutputError(f"Thư mục {out} đã có; thêm --force để ghi đè")
    if out.exists():
        _check_replaceable(out)
    with atomic_folder(out) as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        campaign = load_campaign(tmp)
        if not same_campaign(campaign, expected):  # the YAML must say what the workbook said
            raise OutputError(f"Các tệp YAML ghi ra không đọc lại đúng sổ khai báo; không "
                              f"ghi vào {out} (lỗi của toolkit, xin báo lại)")
    return load_campaign(out)


def _check_replaceable(out: Path) -> None:
    """Only a campaign folder (YAML files and campaign.yaml) is replaced, never a folder
    that happens to have the name (``--out .`` with ``--force`` must not empty a project)."""
    if not out.is_dir():
        raise OutputError(f"{out} là một tệp, không phải thư mục chiến dịch")
    entries = list(out.iterdir())
    foreign = [p.name for p in entries if p.is_dir() or p.suffix.lower() not in SPEC_SUFFIXES]
    if entries and (foreign or not (out / CAMPAIGN_FILE).exists()):
        what = f"có {foreign[0]}" if foreign else f"không có {CAMPAIGN_FILE}"
        raise OutputError(f"Không ghi đè {out}: đó không phải thư mục chiến dịch ({what})")
