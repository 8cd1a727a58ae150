"""IMAP for ``mail fetch``: connecting and logging in with one clear Vietnamese message per
failure, folder names and dates as IMAP wants them, and reading a message from the server."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import imaplib
import itertools
import re
from email import policy
from email.parser import BytesParser

from toolkit.mail.attachments import Leaf, Spool
from toolkit.mail.settings import (
    MailError,
    ServerSettings,
    connection_error,
    printable,
    tls_context,
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def imap_mailbox(name: str) -> str:
    """A folder name for IMAP commands: modified UTF-7 (RFC 3501), quoted."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    text = "".join(out).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def imap_date(day: dt.date) -> str:
    """``05-Jan-2021`` (IMAP dates use English month names whatever the locale)."""
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"


def server_text(data: list) -> str:
    """A server response line, readable (Dovecot answers in UTF-8), without timings."""
    text = " ".join(d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d)
                    for d in data or [])
    return printable(re.sub(r"\s*\(\d[\d.]* \+ [^)]*secs\)\.?", "", text).strip())


def _imap_text(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return text


def open_imap(settings: ServerSettings, password: str | None) -> imaplib.IMAP4:
    """Connect (SSL, STARTTLS or — loopback only — plain) and log in."""
    if not settings.user:
        raise MailError("Chưa có tài khoản IMAP: dùng --imap-user hoặc TOOLKIT_IMAP_USER")
    if password is None:
        raise MailError(f"Chưa có mật khẩu IMAP cho {settings.user}: đặt biến môi trường "
                        f"TOOLKIT_IMAP_PASSWORD hoặc nhập khi được hỏi")
    try:
        if settings.security == "ssl":
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(settings.host, settings.port,
                                                    ssl_context=tls_context(settings),
                                                    timeout=settings.timeout)
        else:
            imap = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise imap_error(settings, exc) from None
    try:
        if settings.security == "starttls":
            if "STARTTLS" not in imap.capabilities:
                raise MailError(f"Máy chủ {settings.where} không hỗ trợ STARTTLS (không mã hóa "
                                f"được kết nối); dùng --imap-security ssl với cổng SSL (thường "
                                f"là 993) hoặc kiểm tra lại cổng")
            imap.starttls(ssl_context=tls_context(settings))
        try:
            imap.login(settings.user, password)
        except UnicodeEncodeError:  # imaplib sends ASCII only: AUTHENTICATE PLAIN in UTF-8
            secret = f"\0{settings.user}\0{password}".encode()
            imap.authenticate("PLAIN", lambda _challenge: secret)
    except MailError:
        logout(imap)
        raise
    except (OSError, imaplib.IMAP4.error) as exc:
        logout(imap)
        raise imap_error(settings, exc) from None
    return imap


def imap_error(settings: ServerSettings, exc: BaseException) -> MailError:
    if isinstance(exc, imaplib.IMAP4.abort) or not isinstance(exc, imaplib.IMAP4.error):
        if isinstance(exc, imaplib.IMAP4.abort):
            return MailError(f"Máy chủ {settings.where} đã ngắt kết nối giữa chừng; có thể sai "
                             f"kiểu bảo mật (starttls/ssl) hoặc sai cổng")
        return connection_error(settings, exc)
    text = _imap_text(exc)
    upper = text.upper()
    if "AUTHENTICATIONFAILED" in upper or "AUTHENTICATE" in upper or "LOGIN" in upper:
        if "PLAINTEXT" in upper or "PRIVACYREQUIRED" in upper or "LOGINDISABLED" in upper:
            return MailError(f"Máy chủ {settings.where} không cho đăng nhập khi kết nối chưa "
                             f"mã hóa; dùng --imap-security starttls hoặc ssl")
        return MailError(f"Máy chủ {settings.where} từ chối đăng nhập của {settings.user}: sai "
                         f"tên đăng nhập hoặc mật khẩu (TOOLKIT_IMAP_PASSWORD)")
    return MailError(f"Máy chủ {settings.where} báo lỗi: {text}")


def logout(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (OSError, imaplib.IMAP4.error):
        with contextlib.suppress(OSError):
            imap.shutdown()


_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def fetch_parts(data: list) -> tuple[bytes | None, dt.datetime | None]:
    raw: bytes | None = None
    received: dt.datetime | None = None
    for item in data:
        heads = [item[0]] if isinstance(item, tuple) else [item]
        if isinstance(item, tuple) and raw is None:
            raw = item[1]
        for head in heads:
            match = _INTERNALDATE.search(head) if isinstance(head, bytes) else None
            if match:
                with contextlib.suppress(ValueError):
                    received = dt.datetime.strptime(match.group(1).decode().strip(),
                                                    "%d-%b-%Y %H:%M:%S %z")
    return raw, received



# --------------------------------------------------------------------------- large messages

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_LITERAL = re.compile(rb"\{(\d+)\}$")
_TOKEN = re.compile(rb'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([^\s()"]+))', re.S)
PART_CHUNK = 1 << 20  # bytes asked for at a time when a part is streamed
MAX_HEADER_BYTES = 256 * 1024


def message_size(imap: imaplib.IMAP4, uid: str) -> int | None:
    """RFC822.SIZE of message ``uid``: what reading it whole would cost."""
    typ, data = imap.uid("FETCH", uid, "(RFC822.SIZE)")
    for item in data or [] if typ == "OK" else []:
        head = item[0] if isinstance(item, tuple) else item
        match = _SIZE.search(head) if isinstance(head, bytes) else None
        if match:
            return int(match.group(1))
    return None


def message_header(imap: imaplib.IMAP4, uid: str
                   ) -> tuple[bytes | None, dt.datetime | None]:
    """The header of message ``uid`` (at most 256 KB) and its arrival time."""
    typ, data = imap.uid("FETCH", uid,
                         f"(INTERNALDATE BODY.PEEK[HEADER]<0.{MAX_HEADER_BYTES}>)")
    return fetch_parts(data) if typ == "OK" else (None, None)


def _tokens(data: list) -> list:
    """A FETCH response as nested lists of strings (quoted strings and literals as
    ``str``, NIL as None), as imaplib splits it into lines and literals."""
    stack: list[list] = [[]]
    for item in data or []:
        pieces = [(item[0], False), (item[1], True)] if isinstance(item, tuple) else \
            [(item, False)]
        for piece, literal in pieces:
            if not isinstance(piece, bytes):
                continue
            if literal:
                stack[-1].append(piece.decode("utf-8", "surrogateescape"))
                continue
            piece = _LITERAL.sub(b"", piece.rstrip())
            for opening, closing, quoted, atom in _TOKEN.findall(piece):
                if opening:
                    stack.append([])
                elif closing and len(stack) > 1:
                    done = stack.pop()
                    stack[-1].append(done)
                elif quoted or (not atom and not closing):
                    text = re.sub(rb"\\(.)", rb"\1", quoted)
                    stack[-1].append(text.decode("utf-8", "surrogateescape"))
                elif atom:
                    stack[-1].append(None if atom.upper() == b"NIL"
                                     else atom.decode("ascii", "replace"))
    while len(stack) > 1:  # unbalanced: what was read still counts
        done = stack.pop()
        stack[-1].append(done)
    return stack[0]


def _find_structure(tokens: list) -> list | None:
    """The list after ``BODYSTRUCTURE`` in ``* n FETCH (UID u BODYSTRUCTURE (...))``."""
    for item in tokens:
        if isinstance(item, list):
            for key, value in itertools.pairwise(item):
                if isinstance(key, str) and key.upper() == "BODYSTRUCTURE":
                    return value if isinstance(value, list) else None
    return None


def _params(value: object) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return []
    items = [v if isinstance(v, str) else "" for v in value]
    return list(zip(items[::2], items[1::2], strict=False))


def _header_value(main: str, params: list[tuple[str, str]]) -> str:
    out = [main]
    for key, value in params:
        if not re.fullmatch(r"[A-Za-z0-9*_.-]+", key or ""):
            continue
        if key.endswith("*"):  # RFC 2231 extended value, as written
            out.append(f"{key}={value}")
        else:
            out.append('{}="{}"'.format(key, value.replace("\\", "\\\\").replace('"', '\\"')))
    return "; ".join(out)


def _leaf(body: list, section: str) -> Leaf:
    def text(i: int) -> str:
        value = body[i] if len(body) > i else None
        return value if isinstance(value, str) else ""

    kind, sub = text(0).lower() or "application", text(1).lower() or "octet-stream"
    params = _params(body[2] if len(body) > 2 else None)
    lines = [f"Content-Type: {_header_value(f'{kind}/{sub}', params)}"]
    at = 9 if kind == "text" else 8
    disposition = body[at] if len(body) > at else None
    if isinstance(disposition, list) and disposition and isinstance(disposition[0], str):
        value = _header_value(disposition[0], _params(
            disposition[1] if len(disposition) > 1 else None))
        lines.append(f"Content-Disposition: {value}")
    raw = ("\r\n".join(re.sub(r"[\r\n]", " ", line) for line in lines) + "\r\n\r\n")
    headers = BytesParser(policy=policy.default).parsebytes(
        raw.encode("utf-8", "surrogateescape"))
    try:
        size = int(text(6) or 0)
    except ValueError:
        size = 0
    return Leaf(section, headers, text(5) or "7bit", size)


def _walk(body: list, section: str, out: list[Leaf], depth: int = 0) -> None:
    if depth > 50 or not body:
        return
    if isinstance(body[0], list):  # multipart: the parts, then the subtype
        parts = itertools.takewhile(lambda p: isinstance(p, list), body)
        for k, part in enumerate(parts, start=1):
            _walk(part, f"{section}.{k}" if section else str(k), out, depth + 1)
        return
    here = section or "1"
    kind = body[0].lower() if isinstance(body[0], str) else ""
    sub = body[1].lower() if len(body) > 1 and isinstance(body[1], str) else ""
    if kind == "message" and sub in ("rfc822", "global") and len(body) > 8 and isinstance(
            body[8], list):
        inner = body[8]
        _walk(inner, here if inner and isinstance(inner[0], list) else f"{here}.1", out,
              depth + 1)
        return
    out.append(_leaf(body, here))


def message_parts(imap: imaplib.IMAP4, uid: str) -> list[Leaf] | None:
    """Every leaf part of message ``uid`` from its BODYSTRUCTURE, None if unreadable."""
    typ, data = imap.uid("FETCH", uid, "(BODYSTRUCTURE)")
    return parse_parts(data) if typ == "OK" else None


def parse_parts(data: list) -> list[Leaf] | None:
    """The leaf parts of a FETCH BODYSTRUCTURE response as imaplib returns it."""
    structure = _find_structure(_tokens(data))
    if structure is None:
        return None
    out: list[Leaf] = []
    _walk(structure, "", out)
    return out


def read_part(imap: imaplib.IMAP4, uid: str, section: str, spool: Spool) -> None:
    """Stream part ``section`` of message ``uid`` into ``spool``, a chunk at a time, until
    it ends or the spool is over its cap."""
    offset = 0
    while True:
        typ, data = imap.uid("FETCH", uid,
                             f"(BODY.PEEK[{section}]<{offset}.{PART_CHUNK}>)")
        chunk, _ = fetch_parts(data) if typ == "OK" else (None, None)
        if not chunk:
            return
        if not spool.feed(chunk) or len(chunk) < PART_CHUNK:
            return
        offset += len(chunk)
