"""The page's guards, in front of every route.

- **Who may ask.** By default only this computer: the peer must be a loopback address and the
  ``Host`` header must name this computer (a web page elsewhere cannot reach the app through
  a DNS name pointing to 127.0.0.1). Serving other computers takes an explicit option and a
  password (HTTP Basic; any user name).
- **How much.** A request body over :data:`MAX_REQUEST_BYTES` is refused before it is read
  (by its ``Content-Length``, or counted as it streams when there is none).
- **Forms.** Every POST carries the server's random token (a hidden field, or the
  ``X-CSRF-Token`` header for the upload script): a page of another site cannot read it, so
  it cannot submit a form here.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_REQUEST_BYTES = 200 * 1024 * 1024  # one drop of many files (each ≤ 20 MB)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass
class Guard:
    """The settings the guards need; one per running app."""

    allow_remote: bool = False
    password: str | None = None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def token_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given), self.token)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(raw: str) -> str:
    if raw.startswith("["):
        return raw[: raw.find("]") + 1]
    return raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _password_ok(scope: Scope, password: str) -> bool:
    auth = _header(scope, b"authorization") or ""
    if not auth.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    given = decoded.split(":", 1)[1] if ":" in decoded else ""
    return hmac.compare_digest(given.encode(), password.encode())


async def _plain(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]]
                 | None = None) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class TooLarge(Exception):
    """The request body grew past the cap while it was read."""


class GuardMiddleware:
    """Applies :class:`Guard` to every HTTP request before the app sees it."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app, self.guard = app, guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        local = is_loopback(client[0] if client else None)
        if not local and not self.guard.allow_remote:
            await _plain(send, 403, "Trang này chỉ mở được trên chính máy đang chạy toolkit.")
            return
        host = _host_name(_header(scope, b"host") or "")
        if not self.guard.allow_remote and host.lower() not in LOCAL_HOSTS:
            await _plain(send, 403, "Địa chỉ trang không hợp lệ: hãy mở http://127.0.0.1:…")
            return
        if not local and self.guard.password is not None and not _password_ok(
                scope, self.guard.password):
            await _plain(send, 401, "Cần mật khẩu để mở trang này.",
                         [(b"www-authenticate", b'Basic realm="toolkit", charset="UTF-8"')])
            return
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > MAX_REQUEST_BYTES:
            await _plain(send, 413, f"Dữ liệu gửi lên quá lớn (tối đa "
                                    f"{MAX_REQUEST_BYTES // (1024 * 1024)} MB mỗi lần).")
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > MAX_REQUEST_BYTES:
                    raise TooLarge
            return message

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except TooLarge:
            if not started:
                await _plain(send, 413, "Dữ liệu gửi lên quá lớn.")
