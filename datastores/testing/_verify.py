"""Server-side checks of exchange HTTP signatures, for fake exchanges.

Each verifier re-implements one exchange's documented rule from the server's
point of view: it finds the secret by the API key the request presents,
recomputes the signature over what was actually received, and checks the time
window. They are written separately from the signers in
``datastores.exchanges.*.signing`` (nothing is imported from them), so a signer
and its verifier agreeing is evidence, not tautology.

A verifier raises :class:`Rejected` (with a ``kind``: ``"key"``,
``"signature"``, ``"timestamp"`` or ``"missing"``) or returns normally.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

__all__ = ["VERIFIERS", "FakeKey", "ReceivedRequest", "Rejected", "Verifier", "make_verifier"]


@dataclass(frozen=True)
class FakeKey:
    """An API key the fake exchange knows. ``repr()`` hides the secret.

    Attributes:
        key: the key id the client presents (for Hyperliquid: the account address).
        secret: the HMAC secret (for Hyperliquid: the private key).
        passphrase: the passphrase, where the exchange has one.
        demo: a demo-trading key (OKX ``x-simulated-trading``, Bitget ``paptrading``).
    """

    key: str
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)
    demo: bool = False


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as the exchange sees it (host is the real exchange host)."""

    method: str
    host: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


class Rejected(Exception):
    """The request does not pass the exchange's authentication."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}")


Verifier = Callable[[ReceivedRequest, Mapping[str, FakeKey], float], None]


def _hex(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def _b64(secret: str, data: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


def _header(request: ReceivedRequest, name: str) -> str:
    value = request.headers.get(name)
    if not value:
        raise Rejected("missing", f"header {name} is missing")
    return value


def _lookup(keys: Mapping[str, FakeKey], key: str) -> FakeKey:
    found = keys.get(key)
    if found is None:
        raise Rejected("key", "unknown API key")
    return found


def _same(expected: str, given: str, *, case_insensitive: bool = False) -> None:
    if case_insensitive:
        expected, given = expected.lower(), given.lower()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise Rejected("signature", "signature mismatch")


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise Rejected("missing", f"{what} is not an integer") from None


def _within(timestamp_ms: int, now: float, *, past_ms: int, future_ms: int) -> None:
    now_ms = now * 1000
    if timestamp_ms > now_ms + future_ms or now_ms - timestamp_ms > past_ms:
        raise Rejected("timestamp", "timestamp outside the accepted window")


def _target(request: ReceivedRequest) -> str:
    return request.path + ("?" + request.query if request.query else "")


# -- header-signature exchanges ------------------------------------------------------


def verify_bitflyer(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """bitFlyer: hex HMAC of timestamp + method + path?query + body (window 60 s, modelled)."""
    found = _lookup(keys, _header(request, "ACCESS-KEY"))
    stamp = _header(request, "ACCESS-TIMESTAMP")
    _within(_int(stamp, "ACCESS-TIMESTAMP"), now, past_ms=60_000, future_ms=60_000)
    payload = (stamp + request.method + _target(request)).encode() + request.body
    _same(_hex(found.secret, payload), _header(request, "ACCESS-SIGN"))


def verify_gmocoin(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """GMO Coin: path without /private, no query, body for POST only."""
    found = _lookup(keys, _header(request, "API-KEY"))
    stamp = _header(request, "API-TIMESTAMP")
    _within(_int(stamp, "API-TIMESTAMP"), now, past_ms=60_000, future_ms=60_000)
    path = request.path
    if path.startswith("/private/"):
        path = path[len("/private") :]
    payload = (stamp + request.method + path).encode()
    if request.method == "POST":
        payload += request.body
    _same(_hex(found.secret, payload), _header(request, "API-SIGN"))


def verify_bitbank(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """bitbank ACCESS-TIME-WINDOW: time + window + (path?query for GET | body)."""
    found = _lookup(keys, _header(request, "ACCESS-KEY"))
    stamp = _header(request, "ACCESS-REQUEST-TIME")
    window = request.headers.get("ACCESS-TIME-WINDOW") or "5000"
    window_ms = min(_int(window, "ACCESS-TIME-WINDOW"), 60_000)
    _within(_int(stamp, "ACCESS-REQUEST-TIME"), now, past_ms=window_ms, future_ms=1000)
    tail = _target(request).encode() if request.method == "GET" else request.body
    _same(
        _hex(found.secret, (stamp + window).encode() + tail), _header(request, "ACCESS-SIGNATURE")
    )


class CoincheckVerifier:
    """Coincheck: hex HMAC of nonce + full URL + body; nonces must grow per key."""

    def __init__(self) -> None:
        self.last_nonce: dict[str, int] = {}

    def __call__(self, request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
        key = _header(request, "ACCESS-KEY")
        found = _lookup(keys, key)
        nonce_text = _header(request, "ACCESS-NONCE")
        url = f"https://{request.host}{_target(request)}"
        payload = (nonce_text + url).encode() + request.body
        _same(_hex(found.secret, payload), _header(request, "ACCESS-SIGNATURE"))
        nonce = _int(nonce_text, "ACCESS-NONCE")
        if nonce <= self.last_nonce.get(key, 0):
            raise Rejected("timestamp", "nonce must be larger than the previous one")
        self.last_nonce[key] = nonce


def _iso_ms(text: str) -> int:
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise Rejected("missing", "timestamp is not ISO-8601 with milliseconds") from None
    return round(moment.timestamp() * 1000)


def _verify_ok_access(
    request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float, demo_header: bool
) -> None:
    found = _lookup(keys, _header(request, "OK-ACCESS-KEY"))
    if found.passphrase != request.headers.get("OK-ACCESS-PASSPHRASE"):
        raise Rejected("key", "wrong passphrase")
    if found.demo != demo_header:
        raise Rejected("key", "demo keys are for demo trading only, and the other way round")
    stamp = _header(request, "OK-ACCESS-TIMESTAMP")
    _within(_iso_ms(stamp), now, past_ms=30_000, future_ms=30_000)
    payload = (stamp + request.method + _target(request)).encode() + request.body
    _same(_b64(found.secret, payload), _header(request, "OK-ACCESS-SIGN"))


def verify_okx(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """OKX: Base64 HMAC of ISO timestamp + method + path?query + body; 30 s."""
    demo = request.headers.get("x-simulated-trading") == "1"
    _verify_ok_access(request, keys, now, demo)


def verify_okj(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """OKJ: the OKX rule (no demo trading)."""
    _verify_ok_access(request, keys, now, False)


def verify_bitget(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """Bitget: Base64 HMAC of ms timestamp + method + path[?query] + body; 30 s."""
    found = _lookup(keys, _header(request, "ACCESS-KEY"))
    if found.passphrase != request.headers.get("ACCESS-PASSPHRASE"):
        raise Rejected("key", "wrong passphrase")
    if found.demo != (request.headers.get("paptrading") == "1"):
        raise Rejected("key", "demo keys are for demo trading only, and the other way round")
    stamp = _header(request, "ACCESS-TIMESTAMP")
    _within(_int(stamp, "ACCESS-TIMESTAMP"), now, past_ms=30_000, future_ms=30_000)
    payload = (stamp + request.method + _target(request)).encode() + request.body
    _same(_b64(found.secret, payload), _header(request, "ACCESS-SIGN"))


def verify_kucoin(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """KuCoin v2 keys: Base64 HMAC over the percent-decoded endpoint; signed passphrase."""
    found = _lookup(keys, _header(request, "KC-API-KEY"))
    if _header(request, "KC-API-KEY-VERSION") != "2":
        raise Rejected("key", "only key version 2 is modelled")
    if _b64(found.secret, found.passphrase.encode()) != request.headers.get("KC-API-PASSPHRASE"):
        raise Rejected("key", "wrong passphrase")
    stamp = _header(request, "KC-API-TIMESTAMP")
    _within(_int(stamp, "KC-API-TIMESTAMP"), now, past_ms=5000, future_ms=5000)
    endpoint = unquote(_target(request))
    payload = (stamp + request.method + endpoint).encode() + request.body
    _same(_b64(found.secret, payload), _header(request, "KC-API-SIGN"))


def verify_bybit(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """Bybit V5: hex HMAC of ts + key + recvWindow + (query for GET | body)."""
    key = _header(request, "X-BAPI-API-KEY")
    found = _lookup(keys, key)
    stamp = _header(request, "X-BAPI-TIMESTAMP")
    window = request.headers.get("X-BAPI-RECV-WINDOW", "")
    window_ms = _int(window, "X-BAPI-RECV-WINDOW") if window else 5000
    _within(_int(stamp, "X-BAPI-TIMESTAMP"), now, past_ms=window_ms, future_ms=1000)
    tail = request.query.encode() if request.method == "GET" else request.body
    payload = (stamp + key + window).encode() + tail
    _same(_hex(found.secret, payload), _header(request, "X-BAPI-SIGN"))


def verify_phemex(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """Phemex: hex HMAC of path + decoded query + expiry + body; expiry in the future."""
    found = _lookup(keys, _header(request, "x-phemex-access-token"))
    expiry_text = _header(request, "x-phemex-request-expiry")
    expiry = _int(expiry_text, "x-phemex-request-expiry")
    if not now < expiry <= now + 120:
        raise Rejected("timestamp", "request expired (or expiry too far ahead)")
    payload = (request.path + unquote(request.query) + expiry_text).encode() + request.body
    _same(_hex(found.secret, payload), _header(request, "x-phemex-request-signature"))


def verify_bitmex(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """BitMEX: hex HMAC of verb + path?query + expires + body; expires in the future."""
    found = _lookup(keys, _header(request, "api-key"))
    expires_text = _header(request, "api-expires")
    expires = _int(expires_text, "api-expires")
    if not now < expires <= now + 3600:
        raise Rejected("timestamp", "This request has expired - `expires` is in the past")
    payload = (request.method + _target(request) + expires_text).encode() + request.body
    _same(_hex(found.secret, payload), _header(request, "api-signature"))


# -- query-signature exchanges -------------------------------------------------------


def _strip_signature(query: str, name: str = "signature") -> tuple[str, str | None]:
    """Split ``&signature=...`` off the raw query (it must come last)."""
    marker = f"{name}="
    if query.startswith(marker):
        return "", query[len(marker) :]
    head, sep, tail = query.rpartition("&" + marker)
    if not sep or "&" in tail:
        return query, None
    return head, tail


def _param(query: str, body: bytes, name: str) -> str | None:
    for source in (query, body.decode("latin-1")):
        for key, value in parse_qsl(source, keep_blank_values=True):
            if key == name:
                return value
    return None


_BINANCE_KEY_ONLY_SUFFIXES = ("/userDataStream", "/listenKey")
_BINANCE_PUBLIC = ("/depth", "/trades", "/klines", "/ticker/price", "/exchangeInfo", "/time")


def verify_binance(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """Binance: hex HMAC of query (without signature) + body; recvWindow rule."""
    found = _lookup(keys, _header(request, "X-MBX-APIKEY"))
    query, signature = _strip_signature(request.query)
    if signature is None:
        if request.path.endswith(_BINANCE_KEY_ONLY_SUFFIXES + _BINANCE_PUBLIC):
            return
        raise Rejected("missing", "Mandatory parameter 'signature' was not sent")
    stamp = _param(query, request.body, "timestamp")
    if stamp is None:
        raise Rejected("missing", "Mandatory parameter 'timestamp' was not sent")
    window = _param(query, request.body, "recvWindow") or "5000"
    _within(_int(stamp, "timestamp"), now, past_ms=_int(window, "recvWindow"), future_ms=1000)
    _same(_hex(found.secret, query.encode() + request.body), signature, case_insensitive=True)


def verify_mexc_spot(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """MEXC spot v3: hex HMAC of the query (without signature) + body."""
    found = _lookup(keys, _header(request, "X-MEXC-APIKEY"))
    query, signature = _strip_signature(request.query)
    if signature is None:
        if request.path.endswith(_BINANCE_PUBLIC):
            return
        raise Rejected("missing", "signature is missing")
    stamp = _param(query, request.body, "timestamp")
    if stamp is None:
        raise Rejected("missing", "timestamp is missing")
    window = _param(query, request.body, "recvWindow") or "5000"
    _within(_int(stamp, "timestamp"), now, past_ms=_int(window, "recvWindow"), future_ms=1000)
    _same(_hex(found.secret, query.encode() + request.body), signature)


def verify_mexc_futures(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """MEXC futures: hex HMAC of key + Request-Time + (sorted query | JSON body)."""
    key = _header(request, "ApiKey")
    found = _lookup(keys, key)
    stamp = _header(request, "Request-Time")
    _within(_int(stamp, "Request-Time"), now, past_ms=10_000, future_ms=10_000)
    if request.method in ("GET", "DELETE"):
        pairs = sorted(parse_qsl(request.query, keep_blank_values=True), key=lambda p: p[0])
        params = urlencode(pairs).encode()
    else:
        params = request.body
    _same(_hex(found.secret, (key + stamp).encode() + params), _header(request, "Signature"))


def verify_bittrade(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """BitTrade (Huobi v2): Base64 HMAC of method, host, path and the sorted query."""
    pairs = parse_qsl(request.query, keep_blank_values=True)
    given = [value for name, value in pairs if name == "Signature"]
    if not given:
        raise Rejected("missing", "Signature parameter is missing")
    params = dict(pairs)
    found = _lookup(keys, params.get("AccessKeyId", ""))
    if params.get("SignatureMethod") != "HmacSHA256" or params.get("SignatureVersion") != "2":
        raise Rejected("signature", "unsupported signature method or version")
    try:
        moment = datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise Rejected("missing", "Timestamp is missing or malformed") from None
    stamp_ms = int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)
    _within(stamp_ms, now, past_ms=300_000, future_ms=300_000)
    ordered = sorted((name, value) for name, value in pairs if name != "Signature")
    canonical = "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in ordered
    )
    text = f"{request.method}\n{request.host}\n{request.path}\n{canonical}"
    _same(_b64(found.secret, text.encode()), given[0])


# -- Hyperliquid ------------------------------------------------------------------------


def _msgpack(value: Any) -> bytes:
    # An independent msgpack writer (same format as msgpack-python's packb defaults).
    if value is None:
        return b"\xc0"
    if isinstance(value, bool):
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        if 0 <= value <= 0x7F:
            return bytes([value])
        if -32 <= value < 0:
            return struct.pack(">b", value)
        for limit, code, fmt in (
            (0xFF, 0xCC, ">B"),
            (0xFFFF, 0xCD, ">H"),
            (0xFFFFFFFF, 0xCE, ">I"),
            (2**64 - 1, 0xCF, ">Q"),
        ):
            if 0 <= value <= limit:
                return bytes([code]) + struct.pack(fmt, value)
        for low, code, fmt in (
            (-(2**7), 0xD0, ">b"),
            (-(2**15), 0xD1, ">h"),
            (-(2**31), 0xD2, ">i"),
            (-(2**63), 0xD3, ">q"),
        ):
            if value >= low:
                return bytes([code]) + struct.pack(fmt, value)
        raise ValueError("integer out of range")
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode()
        n = len(raw)
        if n <= 31:
            return bytes([0xA0 + n]) + raw
        if n <= 0xFF:
            return b"\xd9" + struct.pack(">B", n) + raw
        if n <= 0xFFFF:
            return b"\xda" + struct.pack(">H", n) + raw
        return b"\xdb" + struct.pack(">I", n) + raw
    if isinstance(value, dict):
        n = len(value)
        head = bytes([0x80 + n]) if n <= 15 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(_msgpack(k) + _msgpack(v) for k, v in value.items())
    if isinstance(value, list):
        n = len(value)
        head = bytes([0x90 + n]) if n <= 15 else b"\xdc" + struct.pack(">H", n)
        return head + b"".join(_msgpack(item) for item in value)
    raise ValueError(f"cannot msgpack {type(value).__name__}")


_HL_DOMAIN_TYPES = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_HL_USER_TYPES = {
    "usdSend": ("UsdSend", [("destination", "string"), ("amount", "string"), ("time", "uint64")]),
    "withdraw3": (
        "Withdraw",
        [("destination", "string"), ("amount", "string"), ("time", "uint64")],
    ),
    "approveAgent": (
        "ApproveAgent",
        [("agentAddress", "address"), ("agentName", "string"), ("nonce", "uint64")],
    ),
}


def verify_hyperliquid(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """Hyperliquid ``/exchange``: recover the signer's address from the EIP-712 signature."""
    if request.path != "/exchange":
        return
    from eth_account import Account
    from eth_account.messages import encode_typed_data
    from eth_hash.auto import keccak

    try:
        payload = json.loads(request.body)
        action = payload["action"]
        nonce = int(payload["nonce"])
        signature = payload["signature"]
        vrs = (int(signature["v"]), int(signature["r"], 16), int(signature["s"], 16))
    except (ValueError, KeyError, TypeError):
        raise Rejected("missing", "body needs action, nonce and signature {r, s, v}") from None
    _within(nonce, now, past_ms=2 * 86_400_000, future_ms=86_400_000)
    mainnet = "testnet" not in request.host
    if "hyperliquidChain" in action:
        name, fields = _HL_USER_TYPES.get(action.get("type"), (None, []))
        if name is None:
            raise Rejected("signature", "user-signed action type not modelled by the fake")
        primary = f"HyperliquidTransaction:{name}"
        typed: dict[str, Any] = {
            "domain": {
                "name": "HyperliquidSignTransaction",
                "version": "1",
                "chainId": int(action["signatureChainId"], 16),
                "verifyingContract": "0x" + "00" * 20,
            },
            "types": {
                primary: [{"name": "hyperliquidChain", "type": "string"}]
                + [{"name": n, "type": t} for n, t in fields],
                "EIP712Domain": _HL_DOMAIN_TYPES,
            },
            "primaryType": primary,
            "message": action,
        }
    else:
        data = _msgpack(action) + nonce.to_bytes(8, "big")
        vault = payload.get("vaultAddress")
        data += b"\x00" if vault is None else b"\x01" + bytes.fromhex(vault.removeprefix("0x"))
        if payload.get("expiresAfter") is not None:
            data += b"\x00" + int(payload["expiresAfter"]).to_bytes(8, "big")
        typed = {
            "domain": {
                "name": "Exchange",
                "version": "1",
                "chainId": 1337,
                "verifyingContract": "0x" + "00" * 20,
            },
            "types": {
                "Agent": [
                    {"name": "source", "type": "string"},
                    {"name": "connectionId", "type": "bytes32"},
                ],
                "EIP712Domain": _HL_DOMAIN_TYPES,
            },
            "primaryType": "Agent",
            "message": {"source": "a" if mainnet else "b", "connectionId": keccak(data)},
        }
    try:
        address = Account.recover_message(encode_typed_data(full_message=typed), vrs=vrs)
    except Exception:
        raise Rejected("signature", "signature does not recover") from None
    if address.lower() not in keys:
        raise Rejected("signature", f"User or API Wallet {address.lower()} does not exist.")


VERIFIERS: dict[str, Verifier] = {
    "bitflyer": verify_bitflyer,
    "gmocoin": verify_gmocoin,
    "bitbank": verify_bitbank,
    "okj": verify_okj,
    "bittrade": verify_bittrade,
    "bybit": verify_bybit,
    "binance": verify_binance,
    "okx": verify_okx,
    "phemex": verify_phemex,
    "bitget": verify_bitget,
    "mexc": verify_mexc_spot,
    "mexc_futures": verify_mexc_futures,
    "kucoin": verify_kucoin,
    "bitmex": verify_bitmex,
    "hyperliquid": verify_hyperliquid,
}
"""Stateless verifiers by scheme name (Coincheck needs :func:`make_verifier`)."""


def make_verifier(scheme: str) -> Verifier:
    """A verifier for ``scheme`` (a fresh one where the exchange keeps state, e.g. nonces)."""
    if scheme == "coincheck":
        return CoincheckVerifier()
    try:
        return VERIFIERS[scheme]
    except KeyError:
        raise ValueError(f"no signature verifier for {scheme!r}") from None
