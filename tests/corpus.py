"""Generators of bad and messy inbox files, built by code from contract-correct workbooks.

Nothing here is a hand-edited binary: each case starts from :func:`builders.workbook_bytes`
(or from nothing) and breaks one thing on purpose, so a reader can see what the file is.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping

from builders import workbook_bytes

from toolkit.spec.campaign import Campaign

BILLION_LAUGHS = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) if i > 1 else
                                                        b"&lol;" for _ in range(10)))
               for i in range(1, 10))
    + b"]>\n")
EXTERNAL_ENTITY = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                   b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n')
_DECL = re.compile(rb"^<\?xml[^>]*\?>\s*")


def members(data: bytes) -> dict[str, bytes]:
    """Every member of a zip, in order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rezip(data: bytes, replace: Mapping[str, bytes | Callable[[bytes], bytes] | None]
          ) -> bytes:
    """``data`` with members replaced (bytes), transformed (callable), added or dropped
    (``None``)."""
    parts = members(data)
    for name, new in replace.items():
        if new is None:
            parts.pop(name, None)
        else:
            parts[name] = new(parts[name]) if callable(new) else new
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return out.getvalue()


def sheet_member(data: bytes, sheet: str) -> str:
    """The zip member holding sheet ``sheet`` (xlsxwriter numbers sheets in order)."""
    book = members(data)["xl/workbook.xml"].decode()
    names = re.findall(r'<sheet name="([^"]+)"', book)
    return f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"


def with_dtd(prolog: bytes, entity_ref: bytes = b"&lol9;") -> Callable[[bytes], bytes]:
    """A transform putting ``prolog`` (a DOCTYPE) before an XML part and one entity
    reference into its first text."""
    def apply(xml: bytes) -> bytes:
        body = _DECL.sub(b"", xml, count=1)
        body = re.sub(rb"<t>", b"<t>" + entity_ref, body, count=1)
        return prolog + body
    return apply


def _deflate_rows(size: int) -> bytes:
    """Raw deflate of ``size`` bytes of ``<row/>`` repeated, made fast: each 384 KB block
    is compressed after a full flush, so every block compresses to the same bytes."""
    chunk = b"<row/>" * (1 << 16)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(size, len(chunk))
    tail = packer.compress(chunk[:rest]) + packer.flush()
    return block * whole + tail


def zip_bomb(campaign: Campaign, inflated: int = 2 << 30, *, declared: int | None = None
             ) -> bytes:
    """A filled workbook whose PL2 sheet inflates to ``inflated`` bytes. ``declared`` (if
    given) is the size its zip headers claim, a lie a hostile file tells to pass checks."""
    base = workbook_bytes(campaign)
    target = sheet_member(base, "PL2")
    parts = members(base)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            if name != target:
                zf.writestr(name, body)
    raw, crc = _deflate_rows(inflated), 0  # no CRC: no reader may get that far
    size = inflated if declared is None else declared
    name = target.encode()
    head = out.getvalue()
    eocd = head.rindex(b"PK\x05\x06")
    _cd_size, cd_offset = struct.unpack("<LL", head[eocd + 12:eocd + 20])
    entries, central = head[:cd_offset], head[cd_offset:eocd]
    count = struct.unpack("<H", head[eocd + 10:eocd + 12])[0]
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(raw), size,
                        len(name), 0) + name
    offset = len(entries)
    record = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(raw),
                         size, len(name), 0, 0, 0, 0, 0, offset) + name
    body = entries + local + raw
    central = central + record
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count + 1, count + 1, len(central),
                      len(body), 0)
    return body + central + end


def many_cells(campaign: Campaign, rows: int = 2000, cols: int = 1000) -> bytes:
    """A workbook whose PL4 sheet really holds ``rows`` × ``cols`` numbers (2 million)."""
    base = workbook_bytes(campaign)
    target = sheet_member(base, "PL4")

    def col(n: int) -> str:
        name = ""
        while n:
            n, rem = divmod(n - 1, 26)
            name = chr(65 + rem) + name
        return name

    letters = [col(c + 1) for c in range(cols)]
    out = [b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
           b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
    for r in range(1, rows + 1):
        cells = "".join(f'<c r="{x}{r}"><v>1</v></c>' for x in letters)
        out.append(f'<row r="{r}">{cells}</row>'.encode())
    out.append(b"</sheetData></worksheet>")
    return rezip(base, {target: b"".join(out)})


def encrypted_container(payload: bytes = b"\x00" * 64) -> bytes:
    """A minimal OLE compound file holding the two streams of an encrypted OOXML package
    (``EncryptionInfo``, ``EncryptedPackage``), as Excel writes for "Encrypt with
    password". The streams hold junk: no reader may get further than "encrypted"."""
    sector = 512
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD

    def entry(name: str, kind: int, start: int, size: int, child: int = free,
              right: int = free) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return (raw.ljust(64, b"\0") + struct.pack("<HBB3L", len(raw), kind, 1, free, right,
                                                   child)
                + b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<LLL", start, size, 0))

    # sectors: 0 FAT, 1 directory, 2-9 EncryptionInfo (4096 B), 10.. EncryptedPackage
    info = b"\x04\x00\x04\x00\x40\x00\x00\x00".ljust(4096, b"\0")
    package = struct.pack("<Q", len(payload)) + payload
    package = package.ljust(max(4096, -(-len(package) // sector) * sector), b"\0")
    n_info, n_pkg = len(info) // sector, len(package) // sector
    fat = [fat_sector, end]
    fat += [*range(3, 2 + n_info), end]
    fat += [*range(3 + n_info, 2 + n_info + n_pkg), end]
    fat_bytes = struct.pack(f"<{len(fat)}L", *fat).ljust(sector, b"\xff")
    directory = (entry("Root Entry", 5, end, 0, child=1)
                 + entry("EncryptionInfo", 2, 2, len(info), right=2)
                 + entry("EncryptedPackage", 2, 2 + n_info, len(package))
                 ).ljust(sector, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<LLLLLLLL", 0, 1, 1, 0, 0x1000, end, 0, end) + struct.pack(
                  "<L", 0)
              + struct.pack("<109L", 0, *([free] * 108)))
    return header.ljust(sector, b"\0") + fat_bytes + directory + info + package


def xlsm(campaign: Campaign, **kwargs: object) -> bytes:
    """A filled workbook carrying a VBA project (an auto-run macro a reader must ignore)."""
    base = workbook_bytes(campaign, **kwargs)  # type: ignore[arg-type]

    def types(xml: bytes) -> bytes:
        xml = xml.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml."
                          b"sheet.main+xml",
                          b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
        return xml.replace(b"</Types>", b'<Default Extension="bin" ContentType='
                           b'"application/vnd.ms-office.vbaProject"/></Types>')

    macro = b"Attribute VB_Name = \"Auto_Open\"\nSub Auto_Open()\nShell \"calc.exe\"\nEnd Sub\n"
    return rezip(base, {"[Content_Types].xml": types, "xl/vbaProject.bin": macro})
