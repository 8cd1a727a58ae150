"""Infrastructure with no knowledge of campaigns: atomic writes (:mod:`.atomic`), a folder
of outputs switched into place as one set (:mod:`.setswap`), the zip
guard that inflates a mailed archive within limits (:mod:`.zipguard`), worker processes with
a time limit (:mod:`.workers`), where the bundled data lives (:mod:`.paths`).

May import: the standard library and third-party packages only, never another part of
``toolkit``. Everything above may import it.
"""
