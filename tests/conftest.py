"""Shared fixtures: the built-in campaign and the sample units file (loaded once)."""

from __future__ import annotations

import pytest

from toolkit._infra.paths import samples_dir
from toolkit.spec.campaign import Campaign
from toolkit.spec.load import load_campaign
from toolkit.spec.units import UnitRegistry, load_units


@pytest.fixture(scope="session")
def campaign() -> Campaign:
    """The built-in nq02-2020 campaign (seed 002, 161-KH/ĐTN)."""
    return load_campaign("nq02-2020")


@pytest.fixture(scope="session")
def units() -> UnitRegistry:
    """samples/units.csv: Tỉnh đoàn → 3 huyện đoàn → cơ sở."""
    return load_units(samples_dir() / "units.csv")


@pytest.fixture(autouse=True)
def sample_units_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands require a units file (issue 18 item 11); the tests' commands use the
    bundled sample list through ``TOOLKIT_UNITS``, as an office sets it once for its
    machine. Tests of the requirement itself remove it."""
    monkeypatch.setenv("TOOLKIT_UNITS", str(samples_dir() / "units.csv"))
    monkeypatch.delenv("TOOLKIT_OFFICE", raising=False)


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """Bytes parameters (generated workbooks) get their argument's name as id, never
    anything from their content: a workbook stamps the time it was made, which changes its
    content and even its compressed length, so such ids would differ between the
    pytest-xdist workers that collect the same tests, and xdist refuses that. (pytest
    numbers ids that come out the same.)"""
    if isinstance(val, (bytes, bytearray)):
        return argname
    return None
