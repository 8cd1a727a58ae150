"""toolkit: Excel-by-email reporting for the Youth Union (Đoàn TNCS Hồ Chí Minh).

Library first: each stage is a function that takes data and returns a result object; the
click CLI in :mod:`toolkit.cli` only parses, calls and renders.
"""

__version__ = "0.1.0"
