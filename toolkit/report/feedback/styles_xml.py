"""Cell formats added to the unit's ``xl/styles.xml`` (parsed): fills, fonts, borders and
cell formats are appended, existing indices stay what they were."""

from __future__ import annotations

import copy
from typing import Any

from toolkit.report.feedback.lines import BODY_SIZE, FONT_NAME
from toolkit.report.feedback.ooxml import Unsupported, child, fragment, local, q

_BLOCKS = {"fonts": "font", "fills": "fill", "borders": "border", "cellXfs": "xf"}


class Styles:
    """Appends fills, fonts, borders and cell formats to a parsed ``xl/styles.xml``."""

    def __init__(self, root: Any) -> None:
        if root.tag != q("styleSheet"):
            raise Unsupported("styles.xml: unexpected root")
        self.root = root
        self.blocks = {}
        for block in (*_BLOCKS, "cellStyleXfs"):  # xfId="0" of the list's formats must exist
            el = child(root, block)
            if el is None:
                raise Unsupported(f"styles.xml has no {block}")
            self.blocks[block] = el
        self.xfs = self._items("cellXfs")
        self._cache: dict[tuple[str, str], int] = {}
        self.changed = False

    def _items(self, block: str) -> list[Any]:
        return [el for el in self.blocks[block] if local(el) == _BLOCKS[block]]

    def _add(self, block: str, xml: str) -> int:
        key = (block, xml)
        if key not in self._cache:
            self._cache[key] = self._append(block, fragment(xml))
        return self._cache[key]

    def _append(self, block: str, element: Any) -> int:
        parent = self.blocks[block]
        index = len(self._items(block))
        parent.append(element)
        parent.set("count", str(index + 1))
        self.changed = True
        return index

    def fill(self, rgb: str) -> int:
        return self._add("fills", f'<fill><patternFill patternType="solid"><fgColor '
                                  f'rgb="00{rgb}"/><bgColor rgb="00{rgb}"/></patternFill></fill>')

    def font(self, *, bold: bool = False, size: int | None = None, color: str | None = None,
             underline: bool = False) -> int:
        parts = ['<b val="1"/>' if bold else "", f'<color rgb="00{color}"/>' if color else "",
                 f'<sz val="{size or BODY_SIZE}"/>', '<u val="single"/>' if underline else "",
                 f'<name val="{FONT_NAME}"/>']
        return self._add("fonts", f"<font>{''.join(parts)}</font>")

    def border(self) -> int:
        sides = "".join(f'<{s} style="thin"><color auto="1"/></{s}>'
                        for s in ("left", "right", "top", "bottom"))
        return self._add("borders", f"<border>{sides}<diagonal/></border>")

    def xf(self, *, font: int = 0, fill: int = 0, border: int = 0, align: str = "") -> int:
        xml = (f'<xf numFmtId="0" fontId="{font}" fillId="{fill}" borderId="{border}" '
               f'xfId="0" applyFont="1" applyFill="1" applyBorder="1"'
               + (f' applyAlignment="1"><alignment {align}/></xf>' if align else "/>"))
        return self._add("cellXfs", xml)

    def marked(self, style: int, rgb: str) -> int:
        """A copy of cell format ``style`` with a solid ``rgb`` fill."""
        if not 0 <= style < len(self.xfs):
            raise Unsupported(f"cell format {style} out of range")
        fill = self.fill(rgb)
        key = ("marked", f"{style}:{fill}")
        if key not in self._cache:
            xf = copy.deepcopy(self.xfs[style])
            xf.set("fillId", str(fill))
            xf.set("applyFill", "1")
            self._cache[key] = self._append("cellXfs", xf)
        return self._cache[key]

