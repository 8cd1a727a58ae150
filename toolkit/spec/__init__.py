"""What a campaign is, as data: campaign and form specs loaded from YAML (:mod:`.campaign`),
the targets columns and completion rule (:mod:`.targets`), cell positions shared by writers
and readers (:mod:`.layout`), the ``_meta`` contract (:mod:`.meta`), units (:mod:`.units`),
the levels of the hierarchy as one table (:mod:`.levels`), finding codes with their
Vietnamese messages (:mod:`.findings`), the result models every stage passes on
(:mod:`.models`) and the run's exceptions (:mod:`.errors`).

May import: :mod:`toolkit._infra`. Every stage imports it; it imports no stage.
"""
