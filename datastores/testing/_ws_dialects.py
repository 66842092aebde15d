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
from typing import Any, ClassVar
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


def _request(text: str, field: str, value: str) -> dict[str, Any] | None:
    """``text`` as a JSON object whose ``field`` is ``value``; ``None`` for anything else."""
    message = _json(text)
    if isinstance(message, dict) and message.get(field) == value:
        return message
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


class _JsonLoginDialect(Dialect):
    """A dialect whose login is one JSON object with ``login_field == login_value``.

    :meth:`login` is the shared skeleton: recognise the message, let
    :meth:`_verify` judge it (it raises ``_Refused`` with the reason), then
    answer with :meth:`_refusal` or :meth:`_welcome`. Subclasses fill in those
    three with their exchange's rule and reply shapes.
    """

    login_field: ClassVar[str]
    login_value: ClassVar[str]
    close_on_failure: ClassVar[bool] = False
    """Whether the server hangs up after a refused login (Bitget does)."""

    def login(
        self, text: str, path: str, keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        message = _request(text, self.login_field, self.login_value)
        if message is None:
            return None
        try:
            key = self._verify(message, path, keys, now)
        except _Refused as exc:
            reply = self._refusal(message, path, str(exc))
            return LoginCheck(False, str(exc), reply=reply, close_after=self.close_on_failure)
        return LoginCheck(True, key=key.key, reply=self._welcome(message, path, now))

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        """The key that signed ``message``; raises ``_Refused`` with the reason otherwise."""
        raise NotImplementedError

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        """The server's answer to a refused login."""
        raise NotImplementedError

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        """The server's answer to an accepted login."""
        raise NotImplementedError


class BitflyerDialect(_JsonLoginDialect):
    """JSON-RPC ``auth``: HMAC-SHA256 hex of ``str(timestamp) + nonce`` (13 or 10 digits)."""

    login_field, login_value = "method", "auth"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
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
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        error = {"code": -32600, "message": reason}
        return {"jsonrpc": "2.0", "id": message.get("id"), "error": error}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"jsonrpc": "2.0", "id": message.get("id"), "result": True}


class _OkStyleDialect(_JsonLoginDialect):
    """OKX / Bitget / OKJ ``login``: base64 HMAC of ``ts + "GET" + <path>``, ts in seconds, 30 s.

    OKX and Bitget send the fields as one object in ``args``; OKJ (OKEx v3)
    overrides :meth:`_login_args` and :meth:`_seconds` for its list form.
    """

    login_field, login_value = "op", "login"
    verify_path = "/users/self/verify"
    error_code = "60009"

    def _login_args(self, message: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
        """``(api key, passphrase, timestamp, signature)`` as the client sent them."""
        args = message.get("args") or [{}]
        arg = args[0] if isinstance(args[0], dict) else {}
        return arg.get("apiKey"), arg.get("passphrase"), arg.get("timestamp"), arg.get("sign")

    def _seconds(self, timestamp: Any) -> float:
        """The login's timestamp as epoch seconds; raises ``_Refused`` when malformed."""
        if not isinstance(timestamp, str) or not timestamp.isdigit():
            raise _Refused("timestamp must be a string of epoch seconds")
        return int(timestamp)

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        api_key, passphrase, timestamp, sign = self._login_args(message)
        key = _key(keys, api_key)
        if passphrase != key.passphrase:
            raise _Refused("wrong passphrase")
        _window(self._seconds(timestamp), now, past=30, future=5)
        _check(_b64(key.secret, f"{timestamp}GET{self.verify_path}"), sign)
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"event": "error", "code": self.error_code, "msg": f"Login failed: {reason}"}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"event": "login", "code": "0", "msg": ""}

    def pong(self, text: str, path: str, now: float) -> str | None:
        return "pong" if text == "ping" else None


class OkxDialect(_OkStyleDialect):
    pass


class BitgetDialect(_OkStyleDialect):
    verify_path = "/user/verify"
    error_code = "30005"
    close_on_failure = True


class BybitDialect(_JsonLoginDialect):
    """``op: auth``: hex HMAC of ``"GET/realtime" + expires``, expires (ms) in the future."""

    login_field, login_value = "op", "auth"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        args = message.get("args") or []
        if len(args) != 3:
            raise _Refused("args must be [api_key, expires, signature]")
        key = _key(keys, args[0])
        expires = args[1]
        if not isinstance(expires, int) or expires <= now * 1000:
            raise _Refused("expires must be a future time in ms")
        _check(_hex(key.secret, f"GET/realtime{expires}"), args[2])
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        if "trade" in path.split("/"):
            reply: dict[str, Any] = {"retCode": 10004, "retMsg": reason, "op": "auth"}
        else:
            reply = {"success": False, "ret_msg": reason, "op": "auth", "conn_id": "c1"}
        return self._echo_req_id(message, reply)

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        if "trade" in path.split("/"):
            reply: dict[str, Any] = {"retCode": 0, "retMsg": "OK", "op": "auth", "connId": "c1"}
        else:
            reply = {"success": True, "ret_msg": "", "op": "auth", "conn_id": "c1"}
        return self._echo_req_id(message, reply)

    @staticmethod
    def _echo_req_id(message: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
        if message.get("req_id") is not None:
            reply["req_id"] = message["req_id"]
        return reply

    def pong(self, text: str, path: str, now: float) -> str | None:
        if _request(text, "op", "ping") is None:
            return None
        if "public" in path.split("/"):
            return json.dumps({"success": True, "ret_msg": "pong", "conn_id": "c1", "op": "ping"})
        return json.dumps({"op": "pong", "args": [str(int(now * 1000))], "conn_id": "c1"})


class PhemexDialect(_JsonLoginDialect):
    """``user.auth``: hex HMAC of ``key + expiry``, expiry (s) at most 2 minutes ahead."""

    login_field, login_value = "method", "user.auth"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        params = message.get("params") or []
        if len(params) != 4 or params[0] != "API":
            raise _Refused('params must be ["API", key, signature, expiry]')
        key = _key(keys, params[1])
        expiry = params[3]
        if not isinstance(expiry, int) or not now < expiry <= now + 120:
            raise _Refused("expiry must be within the next 2 minutes")
        _check(_hex(key.secret, f"{key.key}{expiry}"), params[2])
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"error": {"code": 6012, "message": reason}, "id": message.get("id"), "result": None}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"error": None, "id": message.get("id"), "result": {"status": "success"}}

    def pong(self, text: str, path: str, now: float) -> str | None:
        message = _request(text, "method", "server.ping")
        if message is None:
            return None
        return json.dumps({"error": None, "id": message.get("id"), "result": "pong"})


class CoincheckDialect(_JsonLoginDialect):
    """``type: login``: hex HMAC of ``nonce + "wss://stream.coincheck.com/private"``.

    The nonce must grow per key (the server remembers the last one).
    """

    login_field, login_value = "type", "login"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
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
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"success": False, "error": reason}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"success": True}


class OkjDialect(_OkStyleDialect):
    """OKEx v3 ``login`` args list; base64 HMAC of ``ts + "GET/users/self/verify"``.

    Server frames are raw-deflate compressed binary.
    """

    def _login_args(self, message: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
        args = message.get("args") or []
        if len(args) != 4:
            raise _Refused("args must be [key, passphrase, timestamp, sign]")
        return args[0], args[1], args[2], args[3]

    def _seconds(self, timestamp: Any) -> float:
        try:
            return float(timestamp)
        except (TypeError, ValueError):
            raise _Refused("timestamp must be epoch seconds") from None

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"event": "error", "message": reason, "errorCode": 30013}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"event": "login", "success": True}

    def encode(self, text: str) -> bytes:
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return compressor.compress(text.encode()) + compressor.flush()


class BittradeDialect(_JsonLoginDialect):
    """Huobi v2 ``auth``: base64 HMAC of ``GET\\n<host>\\n/ws/v2\\n<sorted query>``.

    Market frames (``/ws``) are gzip-compressed.
    """

    login_field, login_value = "ch", "auth"
    host = "api-cloud.bittrade.co.jp"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
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
            f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in sorted(params.items())
        )
        _check(_b64(key.secret, f"GET\n{self.host}\n{path}\n{query}"), given)
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"action": "req", "code": 2002, "ch": "auth", "message": reason}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"action": "req", "code": 200, "ch": "auth"}

    def encode(self, text: str) -> str | bytes:
        if self.state.get("gzip"):
            return gzip.compress(text.encode())
        return text


class MexcDialect(_JsonLoginDialect):
    """Futures ``login``: hex HMAC of ``apiKey + reqTime`` (ms), answered on ``rs.login``."""

    login_field, login_value = "method", "login"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        param = message.get("param") or {}
        key = _key(keys, param.get("apiKey"))
        request_time = param.get("reqTime")
        if not isinstance(request_time, str) or not request_time.isdigit():
            raise _Refused("reqTime must be a string of epoch milliseconds")
        _window(int(request_time) / 1000, now, past=10, future=5)
        _check(_hex(key.secret, key.key + request_time), param.get("signature"))
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"channel": "rs.error", "data": reason}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"channel": "rs.login", "data": "success", "ts": int(now * 1000)}

    def pong(self, text: str, path: str, now: float) -> str | None:
        message = _json(text)
        method = message.get("method") if isinstance(message, dict) else None
        if method == "ping":
            return json.dumps({"channel": "pong", "data": int(now * 1000)})
        if method == "PING":
            return json.dumps({"id": 0, "code": 0, "msg": "PONG"})
        return None


class KucoinDialect(Dialect):
    """Token in the URL; ``welcome`` first; ``ping`` -> ``pong`` with the same id."""

    def greeting(self, path: str, query: Mapping[str, str]) -> list[str]:
        return [json.dumps({"id": query.get("connectId", "c1"), "type": "welcome"})]

    def pong(self, text: str, path: str, now: float) -> str | None:
        message = _request(text, "type", "ping")
        if message is None:
            return None
        return json.dumps({"id": message.get("id"), "type": "pong"})


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
        return None if _request(text, "method", "ping") is None else json.dumps({"channel": "pong"})


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
