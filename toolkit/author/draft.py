"""From a plan file to what the clerk checks: the proposed campaign as a campaign workbook
(with the questions on «Câu hỏi»), and a preview of the templates it would make, as a
workbook and, where LibreOffice is installed, as a PDF. Pure apart from LibreOffice: bytes
in, bytes out; the CLI and the web page write the files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from toolkit._infra import soffice
from toolkit.author.plan import read_plan
from toolkit.author.propose import Proposal, propose
from toolkit.author.workbook import workbook_bytes
from toolkit.spec.campaign import Campaign
from toolkit.write.templates import template_bytes


@dataclass(frozen=True)
class Draft:
    """A proposal and the files made from it."""

    proposal: Proposal
    campaign: Campaign  # the proposal loaded, as make-templates would see it
    workbook: bytes  # the campaign workbook the clerk corrects, then loads
    preview: bytes  # the blank template every unit would receive


def draft_from_plan(data: bytes, filename: str) -> Draft:
    """Read the plan, propose a campaign, and make the workbook and the preview. A plan
    that cannot be read is a :class:`~toolkit.author.plan.PlanError`."""
    proposal = propose(read_plan(data, filename))
    campaign = proposal.to_campaign()
    workbook = workbook_bytes(proposal.campaign, proposal.forms,
                              questions=proposal.question_rows())
    when = dt.datetime.combine(campaign.document_date, dt.time(8, 0))
    preview = template_bytes(campaign, None, None, generated_at=when)
    return Draft(proposal, campaign, workbook, preview)


def preview_pdf(preview: bytes) -> bytes | None:
    """The preview printed by LibreOffice, every form on its pages; None when LibreOffice is
    not installed or cannot print it (the workbook preview is still there)."""
    try:
        return soffice.convert(preview, "xlsx", "pdf", seconds=120.0)
    except soffice.ConversionError:
        return None
