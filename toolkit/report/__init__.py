"""What a consolidation gives back: totals over units (:mod:`.aggregate`, targets in
:mod:`.targets`), the summary workbook (:mod:`.summary`), the feedback workbook for each unit
(:mod:`.feedback`: the fast XML patch and the openpyxl path behind one entry point), every
output written as one set (:mod:`.outputs`) and the run rendered for the terminal
(:mod:`.terminal`). The Word report drafted from a consolidation belongs here too.

May import: :mod:`toolkit.write` (styles, the ``_meta`` writer), :mod:`toolkit.read`,
:mod:`toolkit.check`, :mod:`toolkit.spec`, :mod:`toolkit._infra`.
"""
