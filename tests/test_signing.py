"""Golden vectors for every HTTP signer.

Two kinds:

* vectors published in the exchanges' own documentation (Binance, BitMEX) or the
  official SDK's tests (Hyperliquid), reproduced exactly (the URL is cited);
  where the docs publish only the string to sign (Phemex, Bybit, Bitget, OKX,
  KuCoin) that string is reproduced;
* self-made vectors with fixed keys and time: the expected signature is computed
  here with ``hmac`` from the documented pre-hash string written out by hand, and
  a few are pinned as literals.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from yarl import URL

from datastores import _json
from datastores._credentials import Credentials
from datastores._registry import http_auth_by_host
from datastores._request import Auth, PreparedRequest, build_url, prepare_request
from datastores._signing import SigningInput

NOW = 1_700_000_000.123  # 2023-11-14T22:13:20.123Z
MS = "1700000000123"
KEY, SECRET, PASSPHRASE = "TESTKEY", "TESTSECRET", "TESTPASS"


def hex_hmac(message: str | bytes, secret: str = SECRET) -> str:
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def b64_hmac(message: str | bytes, secret: str = SECRET) -> str:
    data = message.encode() if isinstance(message, str) else message
    return base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


def creds(name: str, key: str = KEY, secret: str = SECRET, passphrase: str = "") -> Credentials:
    return Credentials(name, key, secret, passphrase)


def prepare(
    method: str,
    url: str,
    name: str,
    *,
    data: Any = None,
    params: Any = None,
    headers: dict[str, str] | None = None,
    passphrase: str = "",
    now: float = NOW,
) -> PreparedRequest:
    """Run the Client's preparation (host table, body encoding, signer) with fixed time."""
    return prepare_request(
        method,
        build_url("", url, params),
        data=data,
        headers=headers,
        auth=Auth,
        credentials={name: creds(name, passphrase=passphrase)},
        table=http_auth_by_host(),
        now=now,
    )


# -- vectors from the exchanges' documentation ---------------------------------------

BINANCE_DOC = "https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md#signed-endpoint-examples-for-post-apiv3order"
BINANCE_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
BINANCE_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
BINANCE_PARAMS = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)


def _binance(url: str, body: bytes) -> Any:
    from datastores.exchanges.binance.signing import sign

    binance = Credentials("binance", BINANCE_KEY, BINANCE_SECRET)
    return sign(SigningInput("POST", URL(url), body, {}, binance, 0.0))


def test_binance_doc_example_1_request_body() -> None:
    # BINANCE_DOC, "Example 1: As a request body".
    signed = _binance("https://api.binance.com/api/v3/order", BINANCE_PARAMS.encode())
    assert signed.url.raw_query_string == (
        "signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )
    assert signed.headers == {"X-MBX-APIKEY": BINANCE_KEY}
    assert signed.body == BINANCE_PARAMS.encode()


def test_binance_doc_example_2_query_string() -> None:
    # BINANCE_DOC, "Example 2: As a query string".
    signed = _binance(f"https://api.binance.com/api/v3/order?{BINANCE_PARAMS}", b"")
    assert signed.url.raw_query_string == (
        BINANCE_PARAMS
        + "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )


def test_binance_doc_example_3_mixed() -> None:
    # BINANCE_DOC, "Example 3: Mixed query string and request body" (no '&' between).
    signed = _binance(
        "https://api.binance.com/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
        b"quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
    )
    assert signed.url.raw_query_string.endswith(
        "&signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
    )


# https://www.bitmex.com/app/apiKeysUsage (worked examples; key LAqUlngMIQkIUjXMUreyu3qn).
BITMEX_SECRET = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO"


@pytest.mark.parametrize(
    ("method", "target", "expires", "body", "signature"),
    [
        (
            "GET",
            "/api/v1/instrument",
            1518064236,
            b"",
            "c7682d435d0cfe87c16098df34ef2eb5a549d4c5a3c2b1f0f77b8af73423bf00",
        ),
        (
            "GET",
            "/api/v1/instrument?filter=%7B%22symbol%22%3A+%22XBTM15%22%7D",
            1518064237,
            b"",
            "e2f422547eecb5b3cb29ade2127e21b858b235b386bfa45e1c1756eb3383919f",
        ),
        (
            "POST",
            "/api/v1/order",
            1518064238,
            b'{"symbol":"XBTM15","price":219.0,"clOrdID":"mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA",'
            b'"orderQty":98}',
            "1749cd2ccae4aa49048ae09f0b95110cee706e0944e6a14ad0b3a8cb45bd336b",
        ),
    ],
)
def test_bitmex_doc_examples(
    method: str, target: str, expires: int, body: bytes, signature: str
) -> None:
    from datastores.exchanges.bitmex.signing import EXPIRES_AFTER, sign

    bitmex = Credentials("bitmex", "LAqUlngMIQkIUjXMUreyu3qn", BITMEX_SECRET)
    url = URL("https://www.bitmex.com" + target, encoded=True)
    signed = sign(SigningInput(method, url, body, {}, bitmex, expires - EXPIRES_AFTER))
    assert signed.headers == {
        "api-expires": str(expires),
        "api-key": "LAqUlngMIQkIUjXMUreyu3qn",
        "api-signature": signature,
    }


# https://phemex-docs.github.io/#rest-request-header ("Signature Example 1-3"): the docs
# give the string to sign, not the digest.
@pytest.mark.parametrize(
    ("target", "expiry", "body", "signed_string"),
    [
        (
            "/accounts/accountPositions?currency=BTC",
            1575735514,
            b"",
            "/accounts/accountPositionscurrency=BTC1575735514",
        ),
        (
            "/orders/activeList?ordStatus=New&ordStatus=PartiallyFilled&ordStatus=Untriggered"
            "&symbol=BTCUSD",
            1575735951,
            b"",
            "/orders/activeListordStatus=New&ordStatus=PartiallyFilled&ordStatus=Untriggered"
            "&symbol=BTCUSD1575735951",
        ),
        (
            "/orders",
            1575735514,
            b'{"symbol":"BTCUSD","clOrdID":"uuid-1573058952273","side":"Sell","priceEp":93185000,'
            b'"orderQty":7,"ordType":"Limit","reduceOnly":false,"timeInForce":"GoodTillCancel",'
            b'"takeProfitEp":0,"stopLossEp":0}',
            '/orders1575735514{"symbol":"BTCUSD","clOrdID":"uuid-1573058952273","side":"Sell",'
            '"priceEp":93185000,"orderQty":7,"ordType":"Limit","reduceOnly":false,'
            '"timeInForce":"GoodTillCancel","takeProfitEp":0,"stopLossEp":0}',
        ),
    ],
)
def test_phemex_doc_examples(target: str, expiry: int, body: bytes, signed_string: str) -> None:
    from datastores.exchanges.phemex.signing import EXPIRES_AFTER, sign

    url = URL("https://api.phemex.com" + target)
    signed = sign(SigningInput("GET", url, body, {}, creds("phemex"), expiry - EXPIRES_AFTER))
    assert signed.headers["x-phemex-request-expiry"] == str(expiry)
    assert signed.headers["x-phemex-request-signature"] == hex_hmac(signed_string)


def test_bybit_doc_strings_to_sign() -> None:
    # https://bybit-exchange.github.io/docs/v5/guide#authentication ("GET"/"POST" examples).
    from datastores.exchanges.bybit.signing import message

    assert (
        message(
            "1658384314791",
            "XXXXXXXXXX",
            "5000",
            "GET",
            "category=option&symbol=BTC-29JUL22-25000-C",
            b"",
        )
        == b"1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"
    )
    assert (
        message("1658385579423", "XXXXXXXXXX", "5000", "POST", "", b'{"category": "option"}')
        == b'1658385579423XXXXXXXXXX5000{"category": "option"}'
    )


def test_bitget_doc_string_to_sign() -> None:
    # https://www.bitget.com/api-doc/common/signature (GET depth example).
    from datastores.exchanges.bitget.signing import message

    assert (
        message("16273667805456", "GET", "/api/mix/v2/market/depth?limit=20&symbol=BTCUSDT", b"")
        == b"16273667805456GET/api/mix/v2/market/depth?limit=20&symbol=BTCUSDT"
    )


def test_okx_doc_timestamp_and_string_to_sign() -> None:
    # https://www.okx.com/docs-v5/en/#overview-rest-authentication: timestamp format
    # 2020-12-08T09:08:57.715Z; GET /api/v5/account/balance?ccy=BTC.
    from datastores.exchanges.okx.signing import iso_timestamp, message

    assert iso_timestamp(1607418537.715) == "2020-12-08T09:08:57.715Z"
    assert message("2020-12-08T09:08:57.715Z", "GET", "/api/v5/account/balance?ccy=BTC", b"") == (
        b"2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC"
    )


def test_kucoin_doc_decoded_endpoint() -> None:
    # https://www.kucoin.com/docs-new/authentication: the signed URL is not URL-encoded.
    from datastores.exchanges.kucoin.signing import endpoint

    url = URL(
        "https://api.kucoin.com/api/v1/sub/api-key?apiKey=67*b3&subName=test"
        "&passphrase=abc%21%40%2311",
        encoded=True,
    )
    assert endpoint(url) == "/api/v1/sub/api-key?apiKey=67*b3&subName=test&passphrase=abc!@#11"


# -- self-made vectors: fixed keys, fixed time -----------------------------------------


def test_bitflyer_get_and_post() -> None:
    get = prepare(
        "GET",
        "https://api.bitflyer.com/v1/me/getchildorders",
        "bitflyer",
        params={"product_code": "BTC_JPY"},
    )
    assert get.headers["ACCESS-KEY"] == KEY
    assert get.headers["ACCESS-TIMESTAMP"] == MS
    assert get.headers["ACCESS-SIGN"] == (
        "abf811327df3183e7093c533ebc978ed213f8fc038b61ab603664813421c09d4"
    )
    assert get.headers["ACCESS-SIGN"] == hex_hmac(
        MS + "GET/v1/me/getchildorders?product_code=BTC_JPY"
    )
    post = prepare(
        "POST",
        "https://api.bitflyer.com/v1/me/sendchildorder",
        "bitflyer",
        data={"product_code": "BTC_JPY", "size": "0.01"},
    )
    assert post.body == b'{"product_code":"BTC_JPY","size":"0.01"}'
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["ACCESS-SIGN"] == (
        "2df02afe08324a331198012d6ad9a764b06e116b58d70661ccee75f65d6be2cf"
    )


def test_gmocoin_signs_body_for_post_only_and_skips_public() -> None:
    get = prepare("GET", "https://api.coin.z.com/private/v1/account/assets?x=1", "gmocoin")
    assert get.headers["API-SIGN"] == hex_hmac(MS + "GET/v1/account/assets")
    post = prepare(
        "POST",
        "https://api.coin.z.com/private/v1/order",
        "gmocoin",
        data={"symbol": "BTC", "side": "BUY"},
    )
    assert post.headers["API-SIGN"] == (
        "8dd74a2dfb587aee8a7ba90ab995770c2080e5a0a051a045c14acfae1d337d35"
    )
    put = prepare(
        "PUT", "https://api.coin.z.com/private/v1/ws-auth", "gmocoin", data={"token": "abc"}
    )
    assert put.body == b'{"token":"abc"}'
    assert put.headers["API-SIGN"] == hex_hmac(MS + "PUT/v1/ws-auth")
    public = prepare("GET", "https://api.coin.z.com/public/v1/ticker", "gmocoin")
    assert not public.signed
    assert "API-SIGN" not in public.headers


def test_bitbank_time_window_scheme() -> None:
    get = prepare("GET", "https://api.bitbank.cc/v1/user/assets?pair=btc_jpy", "bitbank")
    assert get.headers["ACCESS-TIME-WINDOW"] == "5000"
    assert get.headers["ACCESS-REQUEST-TIME"] == MS
    assert get.headers["ACCESS-SIGNATURE"] == hex_hmac(MS + "5000/v1/user/assets?pair=btc_jpy")
    post = prepare(
        "POST",
        "https://api.bitbank.cc/v1/user/spot/order",
        "bitbank",
        data={"pair": "btc_jpy", "amount": "0.01"},
        headers={"ACCESS-TIME-WINDOW": "10000"},
    )
    assert post.headers["ACCESS-TIME-WINDOW"] == "10000"
    assert post.headers["ACCESS-SIGNATURE"] == (
        "fae616b6cb12fe5828eb4a0ffeeb05d80fdfd55524912a994888c6d12bc49682"
    )


def test_coincheck_signs_full_url_and_form_body(monkeypatch: pytest.MonkeyPatch) -> None:
    from datastores.exchanges.coincheck import signing

    # A fresh process's nonces (other tests may have signed with this key already).
    monkeypatch.setattr(signing, "NONCES", signing.NonceSequence())
    get = prepare(
        "GET", "https://coincheck.com/api/exchange/orders/opens?pair=btc_jpy", "coincheck"
    )
    assert get.headers["ACCESS-NONCE"] == MS
    assert get.headers["ACCESS-SIGNATURE"] == (
        "9585f67048e67165620bf9c8600a6a2a35bc2c08aefa2186989de13c4e5da0e1"
    )
    post = prepare(
        "POST",
        "https://coincheck.com/api/exchange/orders",
        "coincheck",
        data={"rate": "3000000", "amount": "0.01", "pair": "btc_jpy", "order_type": "buy"},
    )
    assert post.body == b"rate=3000000&amount=0.01&pair=btc_jpy&order_type=buy"
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    # The same millisecond again: the nonce still grows, by one.
    assert post.headers["ACCESS-NONCE"] == str(int(MS) + 1)
    assert post.headers["ACCESS-SIGNATURE"] == hex_hmac(
        str(int(MS) + 1) + "https://coincheck.com/api/exchange/orders" + post.body.decode()
    )


@pytest.mark.parametrize(("host", "name"), [("www.okx.com", "okx"), ("www.okcoin.jp", "okj")])
def test_okx_and_okj(host: str, name: str) -> None:
    get = prepare(
        "GET", f"https://{host}/api/v5/account/balance?ccy=BTC", name, passphrase=PASSPHRASE
    )
    assert get.headers["OK-ACCESS-TIMESTAMP"] == "2023-11-14T22:13:20.123Z"
    assert get.headers["OK-ACCESS-PASSPHRASE"] == PASSPHRASE
    assert get.headers["OK-ACCESS-SIGN"] == "UojWZiO2z3Dz+w1tnCsKdbHEp7/UKEJkirKmPiBie0A="
    post = prepare(
        "POST",
        f"https://{host}/api/v5/trade/order",
        name,
        data={"instId": "BTC-USDT", "sz": "1"},
        passphrase=PASSPHRASE,
    )
    assert post.headers["OK-ACCESS-SIGN"] == b64_hmac(
        '2023-11-14T22:13:20.123ZPOST/api/v5/trade/order{"instId":"BTC-USDT","sz":"1"}'
    )


def test_okx_demo_header_selects_demo_credentials() -> None:
    table = http_auth_by_host()
    both = {
        "okx": Credentials("okx", "LIVE", "LIVESECRET", "P"),
        "okx_demo": Credentials("okx_demo", "DEMO", "DEMOSECRET", "P"),
    }
    url = URL("https://www.okx.com/api/v5/account/balance")
    live = prepare_request(
        "GET", url, data=None, headers=None, auth=Auth, credentials=both, table=table, now=NOW
    )
    demo = prepare_request(
        "GET",
        url,
        data=None,
        headers={"x-simulated-trading": "1"},
        auth=Auth,
        credentials=both,
        table=table,
        now=NOW,
    )
    assert (live.credential_name, live.headers["OK-ACCESS-KEY"]) == ("okx", "LIVE")
    assert (demo.credential_name, demo.headers["OK-ACCESS-KEY"]) == ("okx_demo", "DEMO")
    assert demo.headers["x-simulated-trading"] == "1"


def test_bitget_and_demo() -> None:
    get = prepare(
        "GET",
        "https://api.bitget.com/api/v2/spot/account/assets?coin=USDT",
        "bitget",
        passphrase=PASSPHRASE,
    )
    assert get.headers["ACCESS-SIGN"] == "g9cpm6tUMZc4AAGYlmtsY8OJgfdFvfS5tTnyFOHL+nc="
    assert get.headers["ACCESS-PASSPHRASE"] == PASSPHRASE
    demo = prepare(
        "POST",
        "https://api.bitget.com/api/v2/spot/trade/place-order",
        "bitget_demo",
        data={"symbol": "BTCUSDT", "size": "1"},
        headers={"paptrading": "1"},
        passphrase=PASSPHRASE,
    )
    assert demo.credential_name == "bitget_demo"
    assert demo.headers["ACCESS-SIGN"] == "Z8zzFbX0h2AOtr75tLBteg9qTxvXZ8hXYl5758j8J20="


def test_kucoin_v2_passphrase_and_sign() -> None:
    get = prepare(
        "GET",
        "https://api.kucoin.com/api/v1/accounts?currency=BTC&type=main",
        "kucoin",
        passphrase=PASSPHRASE,
    )
    assert get.headers["KC-API-KEY-VERSION"] == "2"
    assert get.headers["KC-API-PASSPHRASE"] == "frV1dTvsKA7uFMmG2NRCioEhFUIJSgLZDc+L4d39E6Y="
    assert get.headers["KC-API-PASSPHRASE"] == b64_hmac(PASSPHRASE)
    assert get.headers["KC-API-SIGN"] == b64_hmac(MS + "GET/api/v1/accounts?currency=BTC&type=main")
    futures = prepare(
        "POST",
        "https://api-futures.kucoin.com/api/v1/orders",
        "kucoin",
        data={"symbol": "XBTUSDTM"},
        passphrase=PASSPHRASE,
    )
    assert futures.headers["KC-API-SIGN"] == b64_hmac(
        MS + 'POST/api/v1/orders{"symbol":"XBTUSDTM"}'
    )


def test_bitmex_testnet_uses_its_own_credentials() -> None:
    get = prepare("GET", "https://testnet.bitmex.com/api/v1/order?symbol=XBTUSD", "bitmex_testnet")
    assert get.credential_name == "bitmex_testnet"
    assert get.headers["api-expires"] == "1700000060"
    assert get.headers["api-signature"] == (
        "60391a0ff71485e70096bbf71321c18a5980c1de2e7b163168bce3ede0333f62"
    )


def test_phemex_signs_decoded_query() -> None:
    get = prepare(
        "GET",
        "https://testnet-api.phemex.com/orders/activeList",
        "phemex_testnet",
        params={"ordStatus": "New", "symbol": "BTCUSD"},
    )
    assert get.headers["x-phemex-request-signature"] == (
        "6407e63d8443d2e95bd9fbe92f0cd6bb329663b3aadb6aba630eff1004790bb6"
    )


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("api.bybit.com", "bybit"),
        ("api.bytick.com", "bybit"),
        ("api-demo.bybit.com", "bybit_demo"),
        ("api-testnet.bybit.com", "bybit_testnet"),
    ],
)
def test_bybit_hosts_and_recv_window(host: str, name: str) -> None:
    get = prepare("GET", f"https://{host}/v5/order/realtime?category=linear&symbol=BTCUSDT", name)
    assert get.credential_name == name
    assert get.headers["X-BAPI-RECV-WINDOW"] == "5000"
    assert get.headers["X-BAPI-SIGN"] == (
        "9c3ae0f6e2f9f19a99dab003ef70da88f4b2acc636fecce103526f2762deb400"
    )
    post = prepare(
        "POST",
        f"https://{host}/v5/order/create",
        name,
        data={"category": "linear", "symbol": "BTCUSDT"},
        headers={"X-BAPI-RECV-WINDOW": "10000"},
    )
    assert post.headers["X-BAPI-SIGN"] == (
        "ae87ed7194d25f362bebd3001c14d08fdbd6d2d28da187b0ff348a5414c8b171"
    )


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("api.binance.com", "binance"),
        ("fapi.binance.com", "binance"),
        ("dapi.binance.com", "binance"),
        ("testnet.binance.vision", "binancespot_testnet"),
        ("testnet.binancefuture.com", "binancefuture_testnet"),
        ("demo-api.binance.com", "binance_demo"),
        ("demo-fapi.binance.com", "binance_demo"),
    ],
)
def test_binance_hosts_timestamp_and_signature(host: str, name: str) -> None:
    get = prepare("GET", f"https://{host}/api/v3/openOrders?symbol=BTCUSDT", name)
    assert get.credential_name == name
    assert get.headers["X-MBX-APIKEY"] == KEY
    assert get.url.raw_query_string == (
        "symbol=BTCUSDT&timestamp=1700000000123"
        "&signature=f60f6061a9e518642415a650ba7865cb612356cfb99c937184a6e83bc68bf1a0"
    )


@pytest.mark.parametrize(
    "target",
    [
        "https://api.binance.com/api/v3/userDataStream",
        "https://fapi.binance.com/fapi/v1/listenKey",
        "https://dapi.binance.com/dapi/v1/listenKey",
        "https://api.binance.com/api/v3/depth?symbol=BTCUSDT",
        "https://fapi.binance.com/fapi/v1/klines?symbol=BTCUSDT&interval=1m",
        "https://fapi.binance.com/futures/data/openInterestHist?symbol=BTCUSDT&period=5m",
    ],
)
def test_binance_key_only_endpoints(target: str) -> None:
    prepared = prepare("POST", target, "binance")
    assert prepared.headers["X-MBX-APIKEY"] == KEY
    assert "signature" not in prepared.url.query
    assert "timestamp" not in prepared.url.query
    assert str(prepared.url) == target


def test_binance_form_body_is_signed_with_the_query() -> None:
    post = prepare(
        "POST",
        "https://api.binance.com/api/v3/order?symbol=BTCUSDT",
        "binance",
        data={"side": "BUY", "quantity": "1"},
    )
    assert post.body == b"side=BUY&quantity=1"
    query = "symbol=BTCUSDT&timestamp=1700000000123"
    assert post.url.raw_query_string == (
        f"{query}&signature={hex_hmac(query + 'side=BUY&quantity=1')}"
    )


def test_mexc_spot_moves_data_to_the_query() -> None:
    post = prepare(
        "POST",
        "https://api.mexc.com/api/v3/order",
        "mexc",
        data={"symbol": "BTCUSDT", "side": "BUY"},
    )
    assert post.body == b""
    assert post.headers["X-MEXC-APIKEY"] == KEY
    assert post.url.raw_query_string == (
        "symbol=BTCUSDT&side=BUY&timestamp=1700000000123"
        "&signature=228cdcd4e6c2f282bab8e178639f4ef0393ea0ffe5b9ff5360024fed973c9db7"
    )


def test_mexc_futures_sorted_query_and_json_body() -> None:
    get = prepare(
        "GET", "https://contract.mexc.com/api/v1/private/order/list?symbol=BTC_USDT&a=2", "mexc"
    )
    assert get.url.raw_query_string == "a=2&symbol=BTC_USDT"
    assert get.headers["Request-Time"] == MS
    assert get.headers["Signature"] == (
        "6ff9818f4a12392bd6ea3561b408ca610683aaeb0b57ec1f5e1648f879293cc7"
    )
    post = prepare(
        "POST",
        "https://contract.mexc.com/api/v1/private/order/submit",
        "mexc",
        data={"symbol": "BTC_USDT", "vol": 1},
    )
    assert post.headers["Signature"] == hex_hmac(KEY + MS + '{"symbol":"BTC_USDT","vol":1}')


def test_bittrade_sorted_query_signature() -> None:
    get = prepare(
        "GET",
        "https://api-cloud.bittrade.co.jp/v1/order/orders",
        "bittrade",
        params={"symbol": "btcjpy", "states": "filled"},
    )
    canonical = (
        "AccessKeyId=TESTKEY&SignatureMethod=HmacSHA256&SignatureVersion=2"
        "&Timestamp=2023-11-14T22%3A13%3A20&states=filled&symbol=btcjpy"
    )
    signature = "N+IKppLPADQPV2Sh8zgu41HQQ8goDFdHTNeGWmaUvPc="
    assert signature == b64_hmac("GET\napi-cloud.bittrade.co.jp\n/v1/order/orders\n" + canonical)
    assert (
        get.url.raw_query_string
        == canonical + "&Signature=N%2BIKppLPADQPV2Sh8zgu41HQQ8goDFdHTNeGWmaUvPc%3D"
    )


def test_unknown_host_passes_through_and_auth_none_sends_unsigned() -> None:
    other = prepare("POST", "https://example.com/x?a=1", "bybit", data={"k": "v"})
    assert other.exchange is None
    assert other.body is None
    assert other.passthrough_data == {"k": "v"}
    unsigned = prepare_request(
        "GET",
        URL("https://api.bybit.com/v5/market/time"),
        data=None,
        headers=None,
        auth=None,
        credentials={"bybit": creds("bybit")},
        table=http_auth_by_host(),
        now=NOW,
    )
    assert not unsigned.signed
    assert "X-BAPI-SIGN" not in unsigned.headers


def test_no_credentials_sends_unsigned_but_encodes_like_the_exchange() -> None:
    prepared = prepare_request(
        "POST",
        URL("https://api.bybit.com/v5/order/create"),
        data={"a": 1},
        headers=None,
        auth=Auth,
        credentials={},
        table=http_auth_by_host(),
        now=NOW,
    )
    assert not prepared.signed
    assert prepared.body == b'{"a":1}'
    assert prepared.headers["Content-Type"] == "application/json"


def test_every_host_belongs_to_one_signer() -> None:
    table = http_auth_by_host()
    exchanges = {auth.exchange for auth in table.values()}
    assert exchanges == {
        "bitflyer",
        "gmocoin",
        "bitbank",
        "coincheck",
        "okj",
        "bittrade",
        "bybit",
        "binance",
        "okx",
        "phemex",
        "bitget",
        "mexc",
        "kucoin",
        "bitmex",
        "hyperliquid",
    }


def test_json_body_matches_compact_encoding() -> None:
    body = {"b": [1, 2], "a": "ü"}
    prepared = prepare("POST", "https://api.bitflyer.com/v1/x", "bitflyer", data=body)
    assert prepared.body == _json.dumps_bytes(body)
    assert prepared.body == '{"b":[1,2],"a":"ü"}'.encode()
