"""The consolidation pipeline: ingest → select → validate → aggregate.

Pure library: takes an inbox folder and the campaign, returns a
:class:`~toolkit.models.ConsolidationResult`; writing files is :mod:`toolkit.outputs`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from toolkit.aggregate import aggregate
from toolkit.errors import InboxError
from toolkit.ingest import ingest, select
from toolkit.manifest import read_manifest
from toolkit.models import ConsolidationResult
from toolkit.spec import Campaign
from toolkit.units import Unit, UnitRegistry
from toolkit.validate import validate


def consolidate(
    inbox: Path,
    campaign: Campaign,
    units: UnitRegistry,
    office: Unit,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> ConsolidationResult:
    """Read every file of ``inbox``, validate it, and aggregate the accepted ones for
    ``office``. One bad file never stops the run: it becomes a status and findings."""
    inbox = Path(inbox)
    if not inbox.exists():
        raise InboxError(f"Không tìm thấy thư mục hộp thư: {inbox}")
    if not inbox.is_dir():
        raise InboxError(f"{inbox} không phải là thư mục")
    ingested = ingest(inbox, campaign, progress=progress)
    arrivals = read_manifest(inbox)
    for sub in ingested.submissions:
        arrival = arrivals.get(sub.file)
        if arrival is not None and arrival.date is not None:
            sub.received_at = arrival.date
    select(ingested.submissions, units, office, campaign)
    frames = validate(campaign, ingested.submissions)
    expected = units.children(office.code)
    accepted_codes = {s.unit_code for s in ingested.submissions if s.status == "accepted"}
    accepted_units = [u for u in expected if u.code in accepted_codes]
    forms = aggregate(campaign, frames, accepted_units)
    generated_at = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    return ConsolidationResult(
        campaign=campaign,
        office=office,
        office_parent=units.parent_of(office),
        submissions=ingested.submissions,
        expected=expected,
        forms=forms,
        generated_at=generated_at,
        skipped=list(ingested.skipped),
        frames=frames,
    )
