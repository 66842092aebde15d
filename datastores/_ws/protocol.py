"""How one exchange speaks WebSocket: login, heartbeat, limits, message signing.

Each exchange package declares a :class:`WsProtocol` in
``datastores/exchanges/<name>/wsproto.py`` (``WS_PROTOCOL``) and registers it
with :func:`datastores._registry.register_ws_protocol`, which maps WebSocket hosts
to protocols. The :class:`~datastores.WebSocketApp` picks the protocol by the host
of the *real* URL (before a test redirect) and runs it on every connection:

1. ``handshake_headers`` signs the upgrade request (BitMEX);
2. ``greeting`` waits for the server's hello before anything is sent (KuCoin
   ``welcome``, the Socket.IO open packet);
3. ``login`` builds the login message, ``login_reply`` recognises the answer;
4. the subscriptions are sent;
5. ``heartbeat`` sends application pings and expects their replies,
   ``auto_reply`` answers the server's application pings;
6. ``rate_limit`` paces every outgoing frame;
7. ``sign_message`` signs what the user sends with ``ws.send_json(...)``
   (Binance WebSocket API, Bybit ``/v5/trade``, Hyperliquid post actions).

Every hook is a pure function of its input (credentials, the real URL, ``now``
from the client's clock), so golden vectors and the login-verifying test servers
exercise them without patching time.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from yarl import URL

from .. import _json
from .._credentials import Credentials

__all__ = [
    "NOT_JSON",
    "SKIP",
    "ControlFrame",
    "Frame",
    "HandshakeInput",
    "HeartbeatInput",
    "HeartbeatSpec",
    "LoginInput",
    "LoginReply",
    "MessageSigningInput",
    "Outgoing",
    "RateLimitSpec",
    "WsProtocol",
    "decoder_for",
    "default_decode_text",
    "path_segments",
    "safe_url",
    "text_ping_heartbeat",
]


class _Marker:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __bool__(self) -> bool:
        return False


#: A frame's ``data`` when its text is not JSON (counted, not handed to ``hdlr_json``).
NOT_JSON: Any = _Marker("NOT_JSON")
#: A frame's ``data`` when the protocol knows it is control traffic (``pong``, a
#: Socket.IO ``3``): not for ``hdlr_json`` and not an error.
SKIP: Any = _Marker("SKIP")

_PLAIN_CONTROL_TEXT = frozenset({"ping", "pong", "PING", "PONG"})


def default_decode_text(text: str) -> Any:
    """JSON-decode a text frame; literal ``ping``/``pong`` give :data:`SKIP`."""
    try:
        return _json.loads(text)
    except ValueError:
        return SKIP if text in _PLAIN_CONTROL_TEXT else NOT_JSON


def _native_loads_levels() -> Callable[[str, Callable[[str], Any]], Any] | None:
    """``datastores._cbookside.loads_levels`` when the native book side is in use."""
    from .._bookside import NATIVE

    if not NATIVE:
        return None
    from .._cbookside import loads_levels

    return loads_levels


def _levels_owner(handler: Callable[..., Any]) -> Any:
    """The collection whose ``onmessage`` ``handler`` is, when it accepts Levels."""
    owner = getattr(handler, "__self__", None)
    if getattr(handler, "__name__", None) != "onmessage":
        return None
    if getattr(type(owner), "_ACCEPTS_LEVELS", False) is not True:
        return None
    return owner


def decoder_for(
    handlers: Sequence[Callable[..., Any]],
    decode_text: Callable[[str], Any] = default_decode_text,
) -> Callable[[str], Any]:
    """The text decoder of a connection whose ``hdlr_json`` are ``handlers``.

    ``decode_text`` (the protocol's) unless it is :func:`default_decode_text`, the
    native book side is in use, and every handler is the ``onmessage`` of a
    collection that declares ``_ACCEPTS_LEVELS``: then lists of two strings
    inside lists (order-book levels) arrive as compact ``Level`` objects, decoded
    straight from the text (``datastores._cbookside.loads_levels``, which hands
    what it does not cover to :func:`default_decode_text`). While any of those
    collections has change observers (a recorder, a relay), frames are decoded
    as usual: observers never declared that they accept Levels.
    """
    loads_levels = _native_loads_levels()
    if decode_text is not default_decode_text or loads_levels is None or not handlers:
        return decode_text
    owners: list[Any] = []
    for handler in handlers:
        owner = _levels_owner(handler)
        if owner is None:
            return decode_text
        if all(owner is not seen for seen in owners):
            owners.append(owner)
    if len(owners) == 1:
        (owner,) = owners

        def decode_one(text: str) -> Any:
            if owner._sink is None:
                return loads_levels(text, default_decode_text)
            return default_decode_text(text)

        return decode_one
    observed = tuple(owners)

    def decode_many(text: str) -> Any:
        for collection in observed:
            if collection._sink is not None:
                return default_decode_text(text)
        return loads_levels(text, default_decode_text)

    return decode_many


class Frame:
    """One received data frame as the protocol hooks see it.

    Attributes:
        text: the text (for binary frames: after the protocol's ``decode_bytes``,
            e.g. inflated; ``None`` when the binary frame is not text).
        binary: the raw bytes of a binary frame, else ``None``.
        data: the decoded JSON value, decoded once on first access; :data:`NOT_JSON`
            or :data:`SKIP` when there is none.
    """

    __slots__ = ("_data", "_decode", "binary", "text")

    def __init__(
        self,
        text: str | None,
        binary: bytes | None = None,
        *,
        decode: Callable[[str], Any] = default_decode_text,
    ) -> None:
        self.text = text
        self.binary = binary
        self._decode = decode
        self._data: Any = _UNSET

    @property
    def data(self) -> Any:
        data = self._data
        if data is _UNSET:
            text = self.text
            if text is None:
                data = NOT_JSON
            else:
                try:
                    data = self._decode(text)
                except Exception:
                    # Not only ValueError: nesting too deep for the stdlib decoder raises
                    # RecursionError. Bad input is counted, never fatal to the reader.
                    data = NOT_JSON
            self._data = data
        return data

    def get(self, key: str, default: Any = None) -> Any:
        """``data[key]`` when ``data`` is a JSON object, else ``default``."""
        data = self.data
        if isinstance(data, dict):
            return data.get(key, default)
        return default

    def __repr__(self) -> str:
        shown = self.text if self.text is not None else repr(self.binary)
        return f"<Frame {shown[:80]!r}>"


_UNSET: Any = _Marker("UNSET")


class ControlFrame(Enum):
    """Outgoing WebSocket control frames a protocol may send as its heartbeat."""

    PING = "ping"
    PONG = "pong"


#: What a hook may ask to send: text, bytes, a JSON value (dict/list), or a control frame.
Outgoing = str | bytes | Mapping[str, Any] | list[Any] | ControlFrame


@dataclass(frozen=True, slots=True)
class LoginInput:
    """What a login builder sees.

    Attributes:
        credentials: the credentials for the URL's host.
        url: the real URL (never the test redirect).
        now: seconds since the epoch, from the client's clock.
        nonce: 32 random hex characters, new for every login.
    """

    credentials: Credentials
    url: URL
    now: float
    nonce: str

    @classmethod
    def create(cls, credentials: Credentials, url: URL, now: float) -> LoginInput:
        """Build an input with a fresh random nonce."""
        return cls(credentials, url, now, secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class LoginReply:
    """The verdict on a login (or greeting) reply.

    Attributes:
        ok: the exchange accepted the login.
        message: the exchange's own reason when it refused (never a secret).
    """

    ok: bool
    message: str = ""


@dataclass(frozen=True, slots=True)
class HeartbeatInput:
    """What a heartbeat builder sees: ``now`` (epoch seconds) and a per-connection counter."""

    now: float
    sequence: int


@dataclass(frozen=True, slots=True)
class HeartbeatSpec:
    """An application-level ping.

    Attributes:
        interval: seconds between pings (or of silence before a ping, see ``when_idle``).
        message: builds the ping to send.
        is_reply: recognises the reply; ``None`` when the exchange sends none.
        timeout: seconds to wait for the reply before the connection is declared
            dead and replaced (default: ``interval``).
        when_idle: ping only after ``interval`` seconds without any received frame
            (OKX, BitMEX), instead of every ``interval`` seconds.
    """

    interval: float
    message: Callable[[HeartbeatInput], Outgoing]
    is_reply: Callable[[Frame], bool] | None = None
    timeout: float | None = None
    when_idle: bool = False

    @property
    def reply_timeout(self) -> float:
        return self.interval if self.timeout is None else self.timeout


def _text_ping(_: HeartbeatInput) -> str:
    return "ping"


def _is_text_pong(frame: Frame) -> bool:
    return frame.text == "pong"


def text_ping_heartbeat(
    interval: float, timeout: float, *, when_idle: bool = False
) -> HeartbeatSpec:
    """A heartbeat that sends the text ``ping`` and expects the text ``pong``.

    The plain-text keep-alive of OKX, OKJ, Bitget and BitMEX; the arguments
    are those of :class:`HeartbeatSpec`.
    """
    return HeartbeatSpec(
        interval=interval,
        message=_text_ping,
        is_reply=_is_text_pong,
        timeout=timeout,
        when_idle=when_idle,
    )


@dataclass(frozen=True, slots=True)
class RateLimitSpec:
    """An outgoing-message limit: at most ``messages`` per ``per`` seconds.

    Attributes:
        messages: the exchange's documented count.
        per: the window in seconds.
        shared: one bucket for all of a client's connections to the protocol's
            hosts (the exchange counts per IP), instead of one per connection.
        safety: fraction of the documented rate actually used, leaving room for
            jitter between our clock and the exchange's.
    """

    messages: int
    per: float = 1.0
    shared: bool = False
    safety: float = 0.9

    @property
    def rate(self) -> float:
        """Messages per second the bucket allows."""
        return self.messages / self.per * self.safety


@dataclass(frozen=True, slots=True)
class HandshakeInput:
    """What a handshake-header signer sees."""

    credentials: Credentials
    url: URL
    now: float


@dataclass(frozen=True, slots=True)
class MessageSigningInput:
    """What an outgoing-message signer sees.

    ``message`` is the caller's object; signers return a signed copy and never
    mutate it (a subscription re-sent after a reconnect is re-signed from scratch).
    """

    message: Any
    credentials: Credentials
    url: URL
    now: float


HeartbeatSelector = Callable[[URL], HeartbeatSpec | None]


@dataclass(frozen=True)
class WsProtocol:
    """One exchange's WebSocket protocol (see the module docstring for the order).

    Attributes:
        exchange: name used in logs and errors.
        hosts: WebSocket host -> credential name.
        login: builds the login message, or ``None`` (no message login).
        login_reply: classifies a received frame: a :class:`LoginReply` for the
            login's answer, ``None`` for anything else (which still reaches the
            handlers).
        login_timeout: seconds to wait for the answer.
        skip_auth: ``skip_auth(url, subscriptions) -> True`` when this connection
            needs no login (public paths); ``subscriptions`` are the messages the
            app will send, for exchanges where only some public channels need one.
        handshake_headers: headers that sign the upgrade request (BitMEX).
        greeting: classifies the server's hello that must arrive before anything is
            sent; ``LoginReply(ok=False)`` means the server refused us.
        greeting_timeout: seconds to wait for it (then subscriptions go anyway).
        heartbeat: the application ping, or a function of the URL choosing one.
        auto_reply: answers the server's application pings (returns what to send).
        rate_limit: pace of outgoing frames.
        sign_message: signs a ``send_json`` payload; returns the signed copy, or
            ``None`` when the payload needs no signature.
        decode_bytes: turns binary frames into text (OKJ deflate, BitTrade gzip).
        decode_text: decodes text for ``hdlr_json`` (Socket.IO's ``42`` prefix).
        encode_json: turns a ``send_json`` payload into the text frame sent, when
            the exchange frames JSON (Socket.IO: ``42`` + the event array); ``None``
            sends the plain JSON text.
        liveness_timeout: seconds of total silence after which the connection is
            replaced, when the caller does not choose one.
    """

    exchange: str
    hosts: Mapping[str, str]
    login: Callable[[LoginInput], Outgoing] | None = None
    login_reply: Callable[[Frame], LoginReply | None] | None = None
    login_timeout: float = 10.0
    skip_auth: Callable[[URL, Sequence[Any]], bool] | None = None
    handshake_headers: Callable[[HandshakeInput], Mapping[str, str]] | None = None
    greeting: Callable[[Frame], LoginReply | None] | None = None
    greeting_timeout: float = 10.0
    heartbeat: HeartbeatSpec | HeartbeatSelector | None = None
    auto_reply: Callable[[Frame, URL], Outgoing | None] | None = None
    rate_limit: RateLimitSpec | None = None
    sign_message: Callable[[MessageSigningInput], Any] | None = None
    decode_bytes: Callable[[bytes], str | None] | None = None
    decode_text: Callable[[str], Any] = default_decode_text
    encode_json: Callable[[Any], str] | None = None
    liveness_timeout: float | None = None

    def __post_init__(self) -> None:
        if (self.login is None) != (self.login_reply is None):
            raise ValueError(f"{self.exchange}: login and login_reply go together")

    def heartbeat_for(self, url: URL) -> HeartbeatSpec | None:
        """The application heartbeat for a connection to ``url``, if any."""
        heartbeat = self.heartbeat
        if heartbeat is None or isinstance(heartbeat, HeartbeatSpec):
            return heartbeat
        return heartbeat(url)

    def credential_name(self, url: URL) -> str | None:
        """The credential name for ``url``'s host, or ``None`` when not ours."""
        return self.hosts.get(url.host or "")


def safe_url(url: URL) -> str:
    """``url`` for logs and errors: no query, long path segments masked.

    Tokens travel in WebSocket URLs (GMO Coin's path, KuCoin's and Binance's
    query): they never reach a log line or an exception message.
    """
    parts = [part if len(part) < 24 else part[:4] + "…" for part in url.path.split("/")]
    port = f":{url.port}" if url.port is not None and not url.is_default_port() else ""
    query = "?…" if url.query_string else ""
    return f"{url.scheme}://{url.host}{port}{'/'.join(parts)}{query}"


def path_segments(url: URL) -> tuple[str, ...]:
    """The non-empty segments of ``url``'s path.

    ``/v5/public/spot`` gives ``("v5", "public", "spot")``.
    """
    return tuple(part for part in url.path.split("/") if part)
