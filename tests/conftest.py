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
