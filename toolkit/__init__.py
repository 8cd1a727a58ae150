"""toolkit: Excel-by-email reporting for the Youth Union (Đoàn TNCS Hồ Chí Minh).

Library first: each stage is a function that takes data and returns a result object; the
click CLI (:mod:`toolkit.cli`) and any other front end only parse, call and render. This
module is the public API::

    import toolkit
    campaign = toolkit.load_campaign("nq02-2020")
    units = toolkit.load_units("samples/units.csv")
    result = toolkit.consolidate("samples/inbox", campaign, units, units.office("TX"))
    toolkit.write_outputs(result, None, "out")

The stages, lowest first (imports only go down): ``_infra`` → ``spec`` → ``check`` →
``read`` / ``write`` → ``report`` → ``mail`` → :mod:`toolkit.pipeline` → ``cli``. Names are
loaded on first use, so ``import toolkit`` stays cheap for worker processes.

May import: everything below it; nothing in the package imports it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name → module that defines it
_EXPORTS = {
    "load_campaign": "toolkit.spec.load",
    "load_units": "toolkit.spec.units",
    "make_templates": "toolkit.write.templates",
    "consolidate": "toolkit.pipeline",
    "write_outputs": "toolkit.report.outputs",
    "Campaign": "toolkit.spec.campaign",
    "Form": "toolkit.spec.campaign",
    "Column": "toolkit.spec.campaign",
    "Unit": "toolkit.spec.units",
    "UnitRegistry": "toolkit.spec.units",
    "ConsolidationResult": "toolkit.spec.models",
    "Submission": "toolkit.spec.models",
    "Finding": "toolkit.spec.models",
    "FormSummary": "toolkit.spec.models",
    "SummaryRow": "toolkit.spec.models",
    "TemplatesResult": "toolkit.write.templates",
    "OutputPaths": "toolkit.report.outputs",
    "SpecError": "toolkit.spec.errors",
    "InboxError": "toolkit.spec.errors",
    "UnitsError": "toolkit.spec.units",
}
__all__ = [
    "Campaign", "Column", "ConsolidationResult", "Finding", "Form", "FormSummary",
    "InboxError", "OutputPaths", "SpecError", "Submission", "SummaryRow", "TemplatesResult",
    "Unit", "UnitRegistry", "UnitsError", "consolidate", "load_campaign", "load_units",
    "make_templates", "write_outputs",
]

if TYPE_CHECKING:
    from toolkit.pipeline import consolidate
    from toolkit.report.outputs import OutputPaths, write_outputs
    from toolkit.spec.campaign import Campaign, Column, Form
    from toolkit.spec.errors import InboxError, SpecError
    from toolkit.spec.load import load_campaign
    from toolkit.spec.models import (
        ConsolidationResult,
        Finding,
        FormSummary,
        Submission,
        SummaryRow,
    )
    from toolkit.spec.units import Unit, UnitRegistry, UnitsError, load_units
    from toolkit.write.templates import TemplatesResult, make_templates


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
