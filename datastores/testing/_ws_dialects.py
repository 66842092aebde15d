"""Exchange WebSocket dialects for :class:`~datastores.testing.WsTestServer`.

A dialect is the server's side of one exchange's WebSocket protocol: the
greeting it sends, how it checks a login (re-implementing the exchange's
documented signature rule from the server's point of view: find the secret by
the presented key, recompute, check the time window), how it answers pings,
and how it encodes frames. Nothing here imports the client's
``datastores.exchanges.*.wsproto`` code, so a client login accepted by its
dialect is evidence that both read the documentation the same way.

Rules and reply shapes, per exchange, with the documentation they come from,
are listed in ``docs/websocket.md``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from ._verify import FakeKey

__all__ = ["DIALECTS", "Dialect", "LoginCheck"]


def _hex(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _b64(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


@dataclass
class LoginCheck:
    """The outcome of a login attempt as the fake server judged it."""

    ok: bool
    reason: str = ""
    key: str | None = None
    reply: Any = None
    close_after: bool = False


class _Refused(Exception):
    pass


def _key(keys: Mapping[str, FakeKey], key: object) -> FakeKey:
    if not isinstance(key, str) or key not in keys:
        raise _Refused("unknown API key")
    return keys[key]


def _check(expected: str, given: object) -> None:
    if not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise _Refused("signature mismatch")


def _window(seconds: float, now: float, *, past: float, future: float) -> None:
    if not (now - past <= seconds <= now + future):
        raise _Refused(f"timestamp outside the window ({seconds - now:+.1f} s)")


@dataclass
class Dialect:
    """The server side of one exchange's WebSocket protocol.

    Subclasses override what their exchange does; the base class is a plain
    server (no greeting, no login, no application pings).
    """

    name: str = "plain"
    state: dict[Any, Any] = field(default_factory=dict)

    def greeting(self, path: str, query: Mapping[str, str]) -> list[str]:
        """Frames sent as soon as a connection opens."""
        return []

    def check_handshake(
        self, path: str, headers: Mapping[str, str], keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        """Judge a signed upgrade request; ``None`` when the dialect does not sign it."""
        return None

    def login(
        self, text: str, path: str, keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        """Judge ``text`` if it is a login; ``None`` for any other message."""
        return None

    def pong(self, text: str, path: str, now: float) -> str | None:
        """The answer to an application ping, or ``None`` if ``text`` is not one."""
        return None

    def encode(self, text: str) -> str | bytes:
        """How the server puts a text message on the wire."""
        return text

    def decode(self, data: str | bytes) -> str | None:
        """How the server reads a client frame as text."""
        if isinstance(data, bytes):
            try:
                return data.decode()
            except UnicodeDecodeError:
                return None
        return data


class BitflyerDialect(Dialect):
    """JSON-RPC ``auth``: HMAC-SHA256 hex of ``str(timestamp) + nonce`` (13 or 10 digits)."""

    def login(
        self, text: str, path: str, keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        message = _json(text)
        if not isinstance(message, dict) or message.get("method") != "auth":
            return None
        ident = message.get("id")
        try:
            params = message.get("params") or {}
            key = _key(keys, params.get("api_key"))
            timestamp, nonce = params.get("timestamp"), params.get("nonce")
            if not isinstance(timestamp, int) or not isinstance(nonce, str):
                raise _Refused("timestamp must be a number and nonce a string")
            if not 16 <= len(nonce) <= 255:
                raise _Refused("nonce must have 16 to 255 characters")
            seconds = timestamp / 1000 if len(str(timestamp)) == 13 else timestamp
            _window(seconds, now, past=60, future=60)
            _check(_hex(key.secret, f"{timestamp}{nonce}"), params.get("signature"))
        except _Refused as exc:
            reply = {"jsonrpc": "2.0", "id": ident, "error": {"code": -32600, "message": str(exc)}}
            return LoginCheck(False, str(exc), reply=reply)
        return LoginCheck(True, key=key.key, reply={"jsonrpc": "2.0", "id": ident, "result": True})


class _OkStyleDialect(Dialect):
    """OKX / Bitget ``login``: base64 HMAC of ``ts + "GET" + <path>``, ts in seconds, 30 s."""

    verify_path = "/users/self/verify"
    error_code = "60009"
    close_on_failure = False

    def login(
        self, text: str, path: str, keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        message = _json(text)
        if not isinstance(message, dict) or message.get("op") != "login":
            return None
        try:
            args = message.get("args") or [{}]
            arg = args[0] if isinstance(args[0], dict) else {}
            key = _key(keys, arg.get("apiKey"))
            if arg.get("passphrase") != key.passphrase:
                raise _Refused("wrong passphrase")
            timestamp = arg.get("timestamp")
            if not isinstance(timestamp, str) or not timestamp.isdigit():
                raise _Refused("timestamp must be a string of epoch seconds")
            _window(int(timestamp), now, past=30, future=5)
            _check(_b64(key.secret, f"{timestamp}GET{self.verify_path}"), arg.get("sign"))
        except _Refused as exc:
            reply = {"event": "error", "code": self.error_code, "msg": f"Login failed: {exc}"}
            return LoginCheck(False, str(exc), reply=reply, close_after=self.close_on_failure)
        return LoginCheck(True, key=key.key, reply={"event": "login", "code": "0", "msg": ""})

    def pong(self, text: str, path: str, now: float) -> str | None:
        return "pong" if text == "ping" else None


class OkxDialect(_OkStyleDialect):
    pass


class BitgetDialect(_OkStyleDialect):
    verify_path = "/user/verify"
    error_code = "30005"
    close_on_failure = True


class BybitDialect(Dialect):
    """``op: auth``: hex HMAC of ``"GET/realtime" + expires``, expires (ms) in the future."""

    def login(
        self, text: str, path: str, keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        message = _json(text)
        if not isinstance(message, dict) or message.get("op") != "auth":
            return None
        trade = "trade" in path.split("/")
        req_id = message.get("req_id")
        try:
            args = message.get("args") or []
            if len(args) != 3:
                raise _Refused("args must be [api_key, expires, signature]")
            key = _key(keys, args[0])
            expires = args[1]
            if not isinstance(expires, int) or expires <= now * 1000:
                raise _Refused("expires must be a future time in ms")
            _check(_hex(key.secret, f"GET/realtime{expires}"), args[2])
        except _Refused as exc:
            if trade:
                reply: dict[str, Any] = {"retCode": 10004, "retMsg": str(exc), "op": "auth"}
            else:
                reply = {"success": False, "ret_msg": str(exc), "op": "auth", "conn_id": "c1"}
            if req_id is not None:
                reply["req_id"] = req_id
            return LoginCheck(False, str(exc), reply=reply)
        if trade:
            reply = {"retCode": 0, "retMsg": "OK", "op": "auth", "connId": "c1"}
        else:
            reply = {"success": True, "ret_msg": "", "op": "auth", "conn_id": "c1"}
        if req_id is not None:
            reply["req_id"] = req_id
        return LoginCheck(True, key=key.key, reply=reply)

    def pong(self, text: str, path: str, now: float) -> str | None:
        message = _json(text)
        if not isinstance(message, dict) or message.get("op") != "ping":
            return None
        if "public" in path.split("/"):
            return json.dumps({"success": True, "ret_msg": "pong", "conn_id": "c1", "op": "ping"})
        return json.dumps({"op": "pong", "args": [str(int(now * 1000))], "conn_id": "c1"})


class PhemexDialect(Dialect):
    """``user.auth``: hex HMAC of ``key + expiry``, expiry (s) at most 2 minutes ahead."""

    def login(
        self, text: str, path: str, keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        message = _json(text)
        if not isinstance(message, dict) or message.get("method") != "user.auth":
            return None
        ident = message.get("id")
        try:
            params = message.get("params") or []
            if len(params) != 4 or params[0] != "API":
                raise _Refused('params must be ["API", key, signature, expiry]')
            key = _key(keys, params[1])
            expiry = params[3]
            if not isinstance(expiry, int) or not now < expiry <= now + 120:
                raise _Refused("expiry must be within the next 2 minutes")
            _check(_hex(key.secret, f"{key.key}{expiry}"), params[2])
        except _Refused as exc:
            reply = {"error": {"code": 6012, "message": str(exc)}, "id": ident, "result": None}
            return LoginCheck(False, str(exc), reply=reply)
        reply = {"error": None, "id": ident, "result": {"status": "success"}}
        return LoginCheck(True, key=key.key, reply=reply)

    def pong(self, text: str, path: str, now: float) -> str | None:
        message = _json(text)
        if isinstance(message, dict) and message.get("method") == "server.ping":
            return json.dumps({"error": None, "id": message.get("id"), "result": "pong"})
        return None


class CoincheckDialect(Dialect):
    """``type: login``: hex HMAC of ``nonce + "wss://stream.coincheck.com/private"``.

    The nonce must grow per key (the server remembers the last one).
    """

    def login(
        self, text: str, path: str, keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        message = _json(text)
        if not isinstance(message, dict) or message.get("type") != "login":
            return None
        try:
            key = _key(keys, message.get("access_key"))
            nonce = message.get("access_nonce")
            if not isinstance(nonce, str) or not nonce.isdigit():
                raise _Refused("access_nonce must be a string of digits")
            last = self.state.get(("nonce", key.key), -1)
            if int(nonce) <= last:
                raise _Refused("nonce must increase")
            url = "wss://stream.coincheck.com/private"
            _check(_hex(key.secret, nonce + url), message.get("access_signature"))
            self.state[("nonce", key.key)] = int(nonce)
        except _Refused as exc:
            return LoginCheck(False, str(exc), reply={"success": False, "error": str(exc)})
        return LoginCheck(True, key=key.key, reply={"success": True})


class OkjDialect(Dialect):
    """OKEx v3 ``login`` args list; base64 HMAC of ``ts + "GET/users/self/verify"``.

    Server frames are raw-deflate compressed binary.
    """

    def login(
        self, text: str, path: str, keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        message = _json(text)
        if not isinstance(message, dict) or message.get("op") != "login":
            return None
        try:
            args = message.get("args") or []
            if len(args) != 4:
                raise _Refused("args must be [key, passphrase, timestamp, sign]")
            key = _key(keys, args[0])
            if args[1] != key.passphrase:
                raise _Refused("wrong passphrase")
            try:
                seconds = float(args[2])
            except (TypeError, ValueError):
                raise _Refused("timestamp must be epoch seconds") from None
            _window(seconds, now, past=30, future=5)
            _check(_b64(key.secret, f"{args[2]}GET/users/self/verify"), args[3])
        except _Refused as exc:
            reply = {"event": "error", "message": str(exc), "errorCode": 30013}
            return LoginCheck(False, str(exc), reply=reply)
        return LoginCheck(True, key=key.key, reply={"event": "login", "success": True})

    def pong(self, text: str, path: str, now: float) -> str | None:
        return "pong" if text == "ping" else None

    def encode(self, text: str) -> bytes:
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return compressor.compress(text.encode()) + compressor.flush()


class BittradeDialect(Dialect):
    """Huobi v2 ``auth``: base64 HMAC of ``GET\\n<host>\\n/ws/v2\\n<sorted query>``.

    Market frames (``/ws``) are gzip-compressed.
    """

    host = "api-cloud.bittrade.co.jp"

    def login(
        self, text: str, path: str, keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        message = _json(text)
        if not isinstance(message, dict) or message.get("ch") != "auth":
            return None
        try:
            params = dict(message.get("params") or {})
            if params.pop("authType", None) != "api":
                raise _Refused("authType must be api")
            given = params.pop("signature", None)
            key = _key(keys, params.get("accessKey"))
            try:
                moment = datetime.strptime(str(params.get("timestamp")), "%Y-%m-%dT%H:%M:%S")
            except ValueError:
                raise _Refused("timestamp must be YYYY-MM-DDThh:mm:ss (UTC)") from None
            _window(moment.replace(tzinfo=timezone.utc).timestamp(), now, past=300, future=5)
            query = "&".join(
                f"{quote(str(k), safe='')}={quote(str(v), safe='')}"
                for k, v in sorted(params.items())
            )
            _check(_b64(key.secret, f"GET\n{self.host}\n{path}\n{query}"), given)
        except _Refused as exc:
            reply = {"action": "req", "code": 2002, "ch": "auth", "message": str(exc)}
            return LoginCheck(False, str(exc), reply=reply)
        return LoginCheck(True, key=key.key, reply={"action": "req", "code": 200, "ch": "auth"})

    def encode(self, text: str) -> str | bytes:
        if self.state.get("gzip"):
            return gzip.compress(text.encode())
        return text


class MexcDialect(Dialect):
    """Futures ``login``: hex HMAC of ``apiKey + reqTime`` (ms), answered on ``rs.login``."""

    def login(
        self, text: str, path: str, keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        message = _json(text)
        if not isinstance(message, dict) or message.get("method") != "login":
            return None
        try:
            param = message.get("param") or {}
            key = _key(keys, param.get("apiKey"))
            request_time = param.get("reqTime")
            if not isinstance(request_time, str) or not request_time.isdigit():
                raise _Refused("reqTime must be a string of epoch milliseconds")
            _window(int(request_time) / 1000, now, past=10, future=5)
            _check(_hex(key.secret, key.key + request_time), param.get("signature"))
        except _Refused as exc:
            return LoginCheck(False, str(exc), reply={"channel": "rs.error", "data": str(exc)})
        reply = {"channel": "rs.login", "data": "success", "ts": int(now * 1000)}
        return LoginCheck(True, key=key.key, reply=reply)

    def pong(self, text: str, path: str, now: float) -> str | None:
        message = _json(text)
        if isinstance(message, dict) and message.get("method") == "ping":
            return json.dumps({"channel": "pong", "data": int(now * 1000)})
        if isinstance(message, dict) and message.get("method") == "PING":
            return json.dumps({"id": 0, "code": 0, "msg": "PONG"})
        return None


class KucoinDialect(Dialect):
    """Token in the URL; ``welcome`` first; ``ping`` -> ``pong`` with the same id."""

    def greeting(self, path: str, query: Mapping[str, str]) -> list[str]:
        return [json.dumps({"id": query.get("connectId", "c1"), "type": "welcome"})]

    def pong(self, text: str, path: str, now: float) -> str | None:
        message = _json(text)
        if isinstance(message, dict) and message.get("type") == "ping":
            return json.dumps({"id": message.get("id"), "type": "pong"})
        return None


class BitmexDialect(Dialect):
    """Signed upgrade: hex HMAC of ``"GET" + path + api-expires`` (seconds, future)."""

    def greeting(self, path: str, query: Mapping[str, str]) -> list[str]:
        welcome = {
            "info": "Welcome to the BitMEX Realtime API.",
            "version": "2.0.0",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "docs": "https://www.bitmex.com/app/wsAPI",
            "limit": {"remaining": 39},
        }
        return [json.dumps(welcome)]

    def check_handshake(
        self, path: str, headers: Mapping[str, str], keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        if "api-key" not in headers:
            return None
        try:
            key = _key(keys, headers.get("api-key"))
            expires = headers.get("api-expires", "")
            if not expires.isdigit() or int(expires) <= now:
                raise _Refused("api-expires must be a future time in seconds")
            _check(_hex(key.secret, f"GET{path}{expires}"), headers.get("api-signature"))
        except _Refused as exc:
            return LoginCheck(False, str(exc))
        return LoginCheck(True, key=key.key)

    def pong(self, text: str, path: str, now: float) -> str | None:
        return "pong" if text == "ping" else None


class BitbankDialect(Dialect):
    """Socket.IO over Engine.IO v3 (client pings) or v4 (server pings, client sends ``40``)."""

    def greeting(self, path: str, query: Mapping[str, str]) -> list[str]:
        open_packet = '0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":60000}'
        if query.get("EIO") == "3":
            return [open_packet, "40"]
        return [open_packet]

    def pong(self, text: str, path: str, now: float) -> str | None:
        if text == "2":
            return "3"
        if text == "40":
            return '40{"sid":"n1"}'
        return None


class HyperliquidDialect(Dialect):
    """No login; ``{"method":"ping"}`` -> ``{"channel":"pong"}``."""

    def pong(self, text: str, path: str, now: float) -> str | None:
        message = _json(text)
        if isinstance(message, dict) and message.get("method") == "ping":
            return json.dumps({"channel": "pong"})
        return None


DIALECTS: dict[str, type[Dialect]] = {
    "plain": Dialect,
    "bitflyer": BitflyerDialect,
    "okx": OkxDialect,
    "bitget": BitgetDialect,
    "bybit": BybitDialect,
    "phemex": PhemexDialect,
    "coincheck": CoincheckDialect,
    "okj": OkjDialect,
    "bittrade": BittradeDialect,
    "mexc": MexcDialect,
    "kucoin": KucoinDialect,
    "bitmex": BitmexDialect,
    "bitbank": BitbankDialect,
    "hyperliquid": HyperliquidDialect,
}
"""Dialect classes by exchange name (``Dialect`` itself is ``"plain"``)."""
