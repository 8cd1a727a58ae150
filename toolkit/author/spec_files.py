"""A campaign's data as the text of its YAML files (``campaign.yaml`` and one file per form),
written to be reviewed in git: block style, Vietnamese as is (not ``\\u`` escapes), keys in
the order a person writes them, header paths as lists. Pure: the CLI writes the files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

CAMPAIGN_FILE = "campaign.yaml"


class _Dumper(yaml.SafeDumper):
    """Safe YAML whose lists are indented under their key (easier to read in a diff)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def to_yaml(data: Mapping[str, Any]) -> str:
    """One mapping as block-style YAML, Unicode kept, key order kept."""
    return yaml.dump(dict(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=100)


def campaign_files(campaign: Mapping[str, Any], forms: Sequence[Mapping[str, Any]], *,
                   note: str = "") -> dict[str, str]:
    """File name → YAML text for a campaign folder. ``campaign["forms"]`` names the form
    files (as :func:`toolkit.spec.data.campaign_to_data` gives them); ``note`` becomes a
    comment at the top of ``campaign.yaml`` (where the data came from)."""
    names = list(campaign.get("forms") or [])
    if len(names) != len(forms) or len(set(names)) != len(names) or CAMPAIGN_FILE in names:
        raise ValueError("campaign['forms'] must name one distinct file per form")
    head = "".join(f"# {line}\n" for line in note.splitlines()) if note else ""
    files = {CAMPAIGN_FILE: head + to_yaml(campaign)}
    for name, form in zip(names, forms, strict=True):
        files[str(name)] = to_yaml(form)
    return files
