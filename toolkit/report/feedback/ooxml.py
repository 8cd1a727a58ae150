"""The unit's xlsx as a package of parts, each XML part parsed (never pattern-matched).

Why parsing: a valid workbook may declare its namespaces on the root or on any element, under
any prefix (openpyxl with lxml declares ``r:`` on each ``<sheet>``; Excel-like writers use
``x:`` for the main namespace and add ``mc:Ignorable`` extensions). lxml reads every such
form and, on writing, declares whatever a new element needs, so the patched workbook is
well-formed whichever way the unit's program wrote it.

Every part is untrusted. Parts were size-checked and DTD-checked by the ingest guard before
(:func:`toolkit.report.feedback.source.original_bytes`); here again the parser resolves no
entity, loads no DTD, reads nothing from the network, and a part with a document type
declaration, or larger than :data:`MAX_PART_BYTES`, is declined (the caller falls back).
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from typing import Any

from lxml import etree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MAX_PART_BYTES = 50 * 1024 * 1024  # one XML part parsed here (a filled template: < 100 KB)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          dtd_validation=False, huge_tree=False, remove_blank_text=False)


class Unsupported(Exception):
    """This file needs the openpyxl path."""


def q(name: str, ns: str = MAIN) -> str:
    """Clark notation ``{ns}name``."""
    return f"{{{ns}}}{name}"


def local(el: Any) -> str:
    """The local name of an element ("" for comments and processing instructions)."""
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def parse(data: bytes, name: str = "") -> Any:
    """The root element of one XML part, parsed without entities, DTDs or network."""
    if len(data) > MAX_PART_BYTES:
        raise Unsupported(f"{name} too large to patch")
    try:
        tree = etree.parse(io.BytesIO(data), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise Unsupported(f"{name}: {exc}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise Unsupported(f"{name} has a DTD")
    return tree.getroot()


_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def serialise(root: Any) -> bytes:
    """A part's bytes: UTF-8, with the XML declaration exactly as Office writes it."""
    return _DECLARATION + etree.tostring(root.getroottree(), xml_declaration=False,
                                         encoding="UTF-8")


def child(parent: Any, name: str, ns: str = MAIN) -> Any | None:
    return parent.find(q(name, ns))


def children(parent: Any, name: str, ns: str = MAIN) -> list[Any]:
    return parent.findall(q(name, ns))


def insert_before(parent: Any, element: Any, names: tuple[str, ...]) -> None:
    """Insert ``element`` before the first child named one of ``names`` (schema order),
    or at the end."""
    for i, each in enumerate(parent):
        if local(each) in names and etree.QName(each.tag).namespace == MAIN:
            parent.insert(i, element)
            return
    parent.append(element)


def set_ns_attr(el: Any, ns: str, name: str, value: str) -> None:
    """Set ``{ns}name`` on ``el``; lxml declares the namespace on ``el`` if it is not in
    scope (wherever the document declared it, or not at all)."""
    el.set(q(name, ns), value)


def new_element(parent: Any, name: str, attrs: dict[str, str] | None = None, *,
                rel_id: str | None = None, index: int | None = None) -> Any:
    """A new element in the main namespace under ``parent``; ``rel_id`` sets ``r:id``,
    declaring the relationships namespace as ``r`` on the new element when the document
    has it nowhere in scope."""
    nsmap = None
    if rel_id is not None and REL_NS not in parent.nsmap.values():
        prefix = "r" if "r" not in parent.nsmap else "rel"
        nsmap = {prefix: REL_NS}
    el = etree.Element(q(name), nsmap=nsmap)
    for key, value in (attrs or {}).items():
        el.set(key, value)
    if rel_id is not None:
        set_ns_attr(el, REL_NS, "id", rel_id)
    if index is None:
        parent.append(el)
    else:
        parent.insert(index, el)
    return el


def sub_element(parent: Any, tag: str, attrs: dict[str, str]) -> Any:
    """A new child ``tag`` (Clark notation) of ``parent`` with plain attributes."""
    el = etree.SubElement(parent, tag)
    for key, value in attrs.items():
        el.set(key, value)
    return el


def fragment(xml: str) -> Any:
    """An element of our own, written as text in the main namespace (default prefix)."""
    root = etree.fromstring(f'<w xmlns="{MAIN}" xmlns:r="{REL_NS}">{xml}</w>', _PARSER)
    return root[0]


# --------------------------------------------------------------------------- package


class Package:
    """The zip members in order, edited in memory. Parsed XML parts are kept and written
    back only when :meth:`touch` marked them changed; every other part is copied byte for
    byte."""

    def __init__(self, data: bytes) -> None:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                self.names = [i.filename for i in zf.infolist()]
                self.parts: dict[str, bytes] = {i.filename: zf.read(i)
                                                for i in zf.infolist()}
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise Unsupported(f"zip: {exc}") from None
        self._trees: dict[str, Any] = {}
        self._changed: set[str] = set()

    def has(self, name: str) -> bool:
        return name in self.parts or name in self._trees

    def xml(self, name: str) -> Any:
        """The parsed root of part ``name`` (parsed once)."""
        if name not in self._trees:
            if name not in self.parts:
                raise Unsupported(f"missing part {name}")
            self._trees[name] = parse(self.parts[name], name)
        return self._trees[name]

    def touch(self, name: str) -> None:
        """Part ``name`` (parsed with :meth:`xml`) was changed: serialise it on output."""
        self._changed.add(name)

    def put_xml(self, name: str, root: Any) -> None:
        if name not in self.parts:
            self.names.append(name)
            self.parts[name] = b""
        self._trees[name] = root
        self._changed.add(name)

    def put(self, name: str, data: str | bytes) -> None:
        if name not in self.parts:
            self.names.append(name)
        self.parts[name] = data.encode("utf-8") if isinstance(data, str) else data
        self._trees.pop(name, None)
        self._changed.discard(name)

    def remove(self, name: str) -> None:
        if name in self.parts:
            self.names.remove(name)
            del self.parts[name]
        self._trees.pop(name, None)
        self._changed.discard(name)

    def rename(self, old: str, new: str) -> None:
        self.names[self.names.index(old)] = new
        self.parts[new] = self.parts.pop(old)
        if old in self._trees:
            self._trees[new] = self._trees.pop(old)
        if old in self._changed:
            self._changed.discard(old)
            self._changed.add(new)

    def free(self, pattern: str) -> str:
        """The first ``pattern.format(k)`` (k = 1, 2…) that is not a part."""
        k = 1
        while pattern.format(k) in self.parts:
            k += 1
        return pattern.format(k)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name in self.names:
                body = serialise(self._trees[name]) if name in self._changed else \
                    self.parts[name]
                entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o600 << 16
                zf.writestr(entry, body)
        return out.getvalue()


# --------------------------------------------------------------------------- relationships


def rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve(base: str, target: str) -> str:
    """The part a relationship of ``base`` points at."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def relationships(pkg: Package, part: str) -> Any:
    """The parsed rels of ``part``, a new empty one if it has none."""
    name = rels_name(part)
    if not pkg.has(name):
        pkg.put_xml(name, etree.Element(q("Relationships", PKG_REL), nsmap={None: PKG_REL}))
    root = pkg.xml(name)
    if root.tag != q("Relationships", PKG_REL):
        raise Unsupported(f"{name}: unexpected root")
    return root


def add_rels(pkg: Package, part: str, new: list[tuple[str, str]]) -> list[str]:
    """Add relationships (type, target) to ``part``'s rels; return their ids."""
    root = relationships(pkg, part)
    used = {r.get("Id") for r in root}
    ids = []
    k = 1
    for rel_type, target in new:
        while f"rIdTk{k}" in used:
            k += 1
        used.add(f"rIdTk{k}")
        ids.append(f"rIdTk{k}")
        sub_element(root, q("Relationship", PKG_REL),
                    {"Id": f"rIdTk{k}", "Type": f"{REL_NS}/{rel_type}", "Target": target})
    pkg.touch(rels_name(part))
    return ids
