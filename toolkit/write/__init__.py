"""Workbooks the office sends out: one template per unit (:mod:`.templates`), the shared
cell styles and print setup (:mod:`.styles`), the rows of a targets form
(:mod:`.targets_sheets`) and the office's allocation workbook of targets
(:mod:`.allocation`).

May import: :mod:`toolkit.check`, :mod:`toolkit.spec`, :mod:`toolkit._infra`; never
:mod:`toolkit.read`.
"""
