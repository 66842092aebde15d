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

This module holds what the dialects share (the base classes and the signature
helpers); each exchange's dialect lives with the rest of its fake, in
``datastores/testing/profiles/<exchange>/dialect.py`` (a module-level
``DIALECT``), and :func:`datastores.testing.profiles.dialects` finds them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._verify import FakeKey

__all__ = [
    "Dialect",
    "JsonLoginDialect",
    "LoginCheck",
    "OkStyleDialect",
    "Refused",
    "check_signature",
    "check_window",
    "find_key",
    "hmac_b64",
    "hmac_hex",
    "json_request",
    "parse_json",
]


def hmac_hex(secret: str, text: str) -> str:
    """Hex HMAC-SHA256 of ``text`` under ``secret``."""
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def hmac_b64(secret: str, text: str) -> str:
    """Base64 HMAC-SHA256 of ``text`` under ``secret``."""
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_json(text: str | None) -> Any:
    """``text`` decoded as JSON; ``None`` when absent or not JSON."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def json_request(text: str, field: str, value: str) -> dict[str, Any] | None:
    """``text`` as a JSON object whose ``field`` is ``value``; ``None`` for anything else."""
    message = parse_json(text)
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


class Refused(Exception):
    """A login the dialect refuses; the message is the reason sent back."""


def find_key(keys: Mapping[str, FakeKey], key: object) -> FakeKey:
    """The known key ``key`` names; raises :class:`Refused` otherwise."""
    if not isinstance(key, str) or key not in keys:
        raise Refused("unknown API key")
    return keys[key]


def check_signature(expected: str, given: object) -> None:
    """Raise :class:`Refused` unless ``given`` equals ``expected`` (constant time)."""
    if not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise Refused("signature mismatch")


def check_window(seconds: float, now: float, *, past: float, future: float) -> None:
    """Raise :class:`Refused` unless ``seconds`` lies in ``[now - past, now + future]``."""
    if not (now - past <= seconds <= now + future):
        raise Refused(f"timestamp outside the window ({seconds - now:+.1f} s)")


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


class JsonLoginDialect(Dialect):
    """A dialect whose login is one JSON object with ``login_field == login_value``.

    :meth:`login` is the shared skeleton: recognise the message, let
    :meth:`_verify` judge it (it raises ``Refused`` with the reason), then
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
        message = json_request(text, self.login_field, self.login_value)
        if message is None:
            return None
        try:
            key = self._verify(message, path, keys, now)
        except Refused as exc:
            reply = self._refusal(message, path, str(exc))
            return LoginCheck(False, str(exc), reply=reply, close_after=self.close_on_failure)
        return LoginCheck(True, key=key.key, reply=self._welcome(message, path, now))

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        """The key that signed ``message``; raises ``Refused`` with the reason otherwise."""
        raise NotImplementedError

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        """The server's answer to a refused login."""
        raise NotImplementedError

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        """The server's answer to an accepted login."""
        raise NotImplementedError


class OkStyleDialect(JsonLoginDialect):
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
        """The login's timestamp as epoch seconds; raises ``Refused`` when malformed."""
        if not isinstance(timestamp, str) or not timestamp.isdigit():
            raise Refused("timestamp must be a string of epoch seconds")
        return int(timestamp)

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        api_key, passphrase, timestamp, sign = self._login_args(message)
        key = find_key(keys, api_key)
        if passphrase != key.passphrase:
            raise Refused("wrong passphrase")
        check_window(self._seconds(timestamp), now, past=30, future=5)
        check_signature(hmac_b64(key.secret, f"{timestamp}GET{self.verify_path}"), sign)
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"event": "error", "code": self.error_code, "msg": f"Login failed: {reason}"}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"event": "login", "code": "0", "msg": ""}

    def pong(self, text: str, path: str, now: float) -> str | None:
        return "pong" if text == "ping" else None
