"""Regenerate the Bitget replay files in this directory (run from the repo root).

    .venv/bin/python tests/exchanges/bitget/data/make_data.py

Messages follow the shapes of the Bitget docs' push examples (v2:
https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel and the
other channel pages; v1: https://bitgetlimited.github.io/apidoc/en/mix/).
Book checksums are computed here with zlib over a plain dict model,
independently of datastores' own checksum code, so the replay tests check
the library against a separate implementation of Bitget's rule.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

HERE = Path(__file__).parent


def signed_crc32(text: str) -> int:
    value = zlib.crc32(text.encode())
    return value - (1 << 32) if value >= (1 << 31) else value


class Model:
    """A plain book: price string -> size string per side."""

    def __init__(self) -> None:
        self.asks: dict[str, str] = {}
        self.bids: dict[str, str] = {}

    def apply(self, asks: list[list[str]], bids: list[list[str]]) -> None:
        for side, levels in ((self.asks, asks), (self.bids, bids)):
            for price, size in levels:
                for existing in [p for p in side if float(p) == float(price)]:
                    del side[existing]
                if float(size) != 0:
                    side[price] = size

    def checksum(self) -> int:
        asks = sorted(self.asks.items(), key=lambda kv: float(kv[0]))[:25]
        bids = sorted(self.bids.items(), key=lambda kv: -float(kv[0]))[:25]
        parts = []
        for i in range(25):
            if i < len(bids):
                parts.append(f"{bids[i][0]}:{bids[i][1]}")
            if i < len(asks):
                parts.append(f"{asks[i][0]}:{asks[i][1]}")
        return signed_crc32(":".join(parts))


def book_message(
    model: Model,
    action: str,
    arg: dict[str, str],
    asks: list[list[str]],
    bids: list[list[str]],
    ts: int,
    seq: int | None,
) -> dict[str, object]:
    if action == "snapshot":
        model.asks.clear()
        model.bids.clear()
    model.apply(asks, bids)
    entry: dict[str, object] = {"asks": asks, "bids": bids, "checksum": model.checksum()}
    if seq is not None:
        entry["seq"] = seq
    entry["ts"] = str(ts)
    return {"action": action, "arg": arg, "data": [entry], "ts": ts}


def ladder(start: float, step: float, n: int, size: str, decimals: int = 1) -> list[list[str]]:
    return [[f"{start + i * step:.{decimals}f}", size] for i in range(n)]


def v2_public() -> list[object]:
    spot = {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}
    fut = {"instType": "USDT-FUTURES", "channel": "books", "instId": "BTCUSDT"}
    b5 = {"instType": "SPOT", "channel": "books5", "instId": "ETHUSDT"}
    msgs: list[object] = [{"event": "subscribe", "arg": spot}, {"event": "subscribe", "arg": fut}]
    m = Model()
    ts = 1695716059000
    # 30 levels a side: the checksum covers only the best 25.
    msgs.append(
        book_message(
            m,
            "snapshot",
            spot,
            ladder(27000.5, 0.5, 30, "0.5000"),
            ladder(27000.0, -0.5, 30, "1.2500"),
            ts,
            1000,
        )
    )
    updates = [
        ([["27000.5", "0"], ["27000.2", "0.0100"]], [["27000.1", "3.0000"]]),
        ([], [["27000.0", "0"], ["26999.5", "2.0000"]]),
        ([["27001.0", "0.7500"], ["27100.0", "9"]], []),
        ([["27000.2", "0"], ["27000.5", "0.3000"]], [["27000.1", "0.000"], ["26990.0", "4.5"]]),
    ]
    seq = 1000
    for i, (asks, bids) in enumerate(updates):
        seq += 3 + i  # Bitget's seq increases but skips ids between pushes
        msgs.append(book_message(m, "update", spot, asks, bids, ts + 200 * (i + 1), seq))
    fm = Model()
    msgs.append(
        book_message(
            fm,
            "snapshot",
            fut,
            ladder(27010.0, 1.0, 5, "10"),
            ladder(27009.0, -1.0, 5, "20"),
            ts,
            555,
        )
    )
    msgs.append(book_message(fm, "update", fut, [["27010.0", "11"]], [], ts + 150, 556))
    m5 = Model()
    msgs.append(
        book_message(
            m5, "snapshot", b5, ladder(1600.1, 0.1, 5, "1.0"), ladder(1600.0, -0.1, 5, "2.0"), ts, 7
        )
    )
    msgs.append(
        book_message(
            m5,
            "snapshot",
            b5,
            ladder(1600.3, 0.1, 5, "1.5"),
            ladder(1600.2, -0.1, 5, "2.5"),
            ts + 200,
            9,
        )
    )
    msgs += [
        {
            "action": "snapshot",
            "arg": {"instType": "SPOT", "channel": "ticker", "instId": "BTCUSDT"},
            "data": [
                {
                    "instId": "BTCUSDT",
                    "lastPr": "27000.5",
                    "bidPr": "27000",
                    "askPr": "27000.5",
                    "open24h": "27000.5",
                    "ts": "1695702438018",
                }
            ],
            "ts": 1695702438029,
        },
        {
            "action": "snapshot",
            "arg": {"instType": "SPOT", "channel": "ticker", "instId": "BTCUSDT"},
            "data": [{"instId": "BTCUSDT", "lastPr": "27001.0", "ts": "1695702439018"}],
            "ts": 1695702439029,
        },
        {
            "action": "snapshot",
            "arg": {"instType": "SPOT", "channel": "candle1m", "instId": "BTCUSDT"},
            "data": [
                [
                    "1695685500000",
                    "27000",
                    "27000.5",
                    "27000",
                    "27000.5",
                    "0.057",
                    "1539.0155",
                    "1539.0155",
                ],
                [
                    "1695685560000",
                    "27000.5",
                    "27000.5",
                    "27000.5",
                    "27000.5",
                    "0",
                    "0",
                    "0",
                ],
            ],
            "ts": 1695685602024,
        },
        {
            "action": "update",
            "arg": {"instType": "SPOT", "channel": "candle1m", "instId": "BTCUSDT"},
            "data": [
                [
                    "1695685560000",
                    "27000.5",
                    "27002",
                    "27000.5",
                    "27001.5",
                    "1.2",
                    "32401.8",
                    "32401.8",
                ]
            ],
            "ts": 1695685605024,
        },
        {
            "action": "snapshot",
            "arg": {"instType": "SPOT", "channel": "trade", "instId": "BTCUSDT"},
            "data": [
                {
                    "ts": "1695709835822",
                    "price": "26293.4",
                    "size": "0.0013",
                    "side": "buy",
                    "tradeId": "1111111111",
                },
                {
                    "ts": "1695709835822",
                    "price": "26293.4",
                    "size": "0.0013",
                    "side": "buy",
                    "tradeId": "1111111112",
                },
            ],
            "ts": 1695709835823,
        },
        {
            "action": "update",
            "arg": {"instType": "SPOT", "channel": "trade", "instId": "BTCUSDT"},
            "data": [
                {
                    "ts": "1695709835900",
                    "price": "26293.5",
                    "size": "0.2",
                    "side": "sell",
                    "tradeId": "1111111113",
                }
            ],
            "ts": 1695709835901,
        },
        {"event": "error", "code": "30001", "msg": "instType:SPOT,channel:books,instId:X"},
    ]
    return msgs


def v2_private() -> list[object]:
    usdt = "USDT-FUTURES"

    def pos(pos_id: str, inst_id: str, side: str, total: str) -> dict[str, str]:
        return {
            "posId": pos_id,
            "instId": inst_id,
            "marginCoin": "USDT",
            "marginMode": "crossed",
            "holdSide": side,
            "posMode": "hedge_mode",
            "total": total,
            "available": total,
            "openPriceAvg": "1900",
        }

    def order(order_id: str, status: str, filled: str) -> dict[str, str]:
        return {
            "orderId": order_id,
            "clientOId": "c" + order_id,
            "instId": "BTCUSDT",
            "price": "27000.5",
            "size": "0.02",
            "side": "buy",
            "status": status,
            "accBaseVolume": filled,
        }

    return [
        {"event": "login", "code": "0", "msg": ""},
        {
            "action": "snapshot",
            "arg": {"instType": "SPOT", "channel": "account", "coin": "default"},
            "data": [
                {"coin": "USDT", "available": "21.50", "frozen": "0", "locked": "0"},
                {"coin": "BTC", "available": "0.0100", "frozen": "0", "locked": "0"},
            ],
            "ts": 1695713887792,
        },
        {
            "action": "snapshot",
            "arg": {"instType": "SPOT", "channel": "account", "coin": "default"},
            "data": [{"coin": "USDT", "available": "11.50", "frozen": "10", "locked": "0"}],
            "ts": 1695713887800,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "account", "coin": "default"},
            "data": [
                {
                    "marginCoin": "USDT",
                    "frozen": "0.00000000",
                    "available": "11490.16841069",
                    "equity": "11489.96841069",
                }
            ],
            "ts": 1695717225146,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "positions", "instId": "default"},
            "data": [pos("1", "ETHUSDT", "short", "0.1"), pos("2", "BTCUSDT", "long", "0.01")],
            "ts": 1695717430441,
        },
        {
            "action": "snapshot",
            "arg": {"instType": "COIN-FUTURES", "channel": "positions", "instId": "default"},
            "data": [pos("9", "BTCUSD", "long", "5")],
            "ts": 1695717430442,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "positions", "instId": "default"},
            "data": [pos("2", "BTCUSDT", "long", "0.02")],
            "ts": 1695717430500,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "orders", "instId": "default"},
            "data": [order("100", "live", "0")],
            "ts": 1695718781129,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "orders", "instId": "default"},
            "data": [order("101", "live", "0")],
            "ts": 1695718781130,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "orders", "instId": "default"},
            "data": [order("100", "partially_filled", "0.01")],
            "ts": 1695718781140,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "orders", "instId": "default"},
            "data": [order("100", "filled", "0.02")],
            "ts": 1695718781150,
        },
        {
            "action": "snapshot",
            "arg": {"instType": "SPOT", "channel": "orders", "instId": "BTCUSDT"},
            "data": [order("200", "live", "0")],
            "ts": 1695718781160,
        },
        {
            "action": "snapshot",
            "arg": {"instType": "SPOT", "channel": "orders", "instId": "BTCUSDT"},
            "data": [order("200", "cancelled", "0")],
            "ts": 1695718781170,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "fill", "instId": "default"},
            "data": [
                {
                    "orderId": "100",
                    "tradeId": "5001",
                    "symbol": "BTCUSDT",
                    "side": "buy",
                    "price": "27000.5",
                    "baseVolume": "0.01",
                    "cTime": "1695718781140",
                },
                {
                    "orderId": "100",
                    "tradeId": "5002",
                    "symbol": "BTCUSDT",
                    "side": "buy",
                    "price": "27000.5",
                    "baseVolume": "0.01",
                    "cTime": "1695718781150",
                },
            ],
            "ts": 1695718781151,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "orders-algo", "instId": "default"},
            "data": [
                {
                    "instId": "BTCUSDT",
                    "orderId": "300",
                    "clientOid": "a300",
                    "triggerPrice": "27000.000000000",
                    "planType": "pl",
                    "status": "live",
                }
            ],
            "ts": 1695719197733,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "orders-algo", "instId": "default"},
            "data": [
                {
                    "instId": "BTCUSDT",
                    "orderId": "301",
                    "clientOid": "a301",
                    "triggerPrice": "26000",
                    "planType": "pl",
                    "status": "live",
                }
            ],
            "ts": 1695719197740,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "orders-algo", "instId": "default"},
            "data": [
                {
                    "instId": "BTCUSDT",
                    "orderId": "300",
                    "clientOid": "a300",
                    "triggerPrice": "27000.000000000",
                    "planType": "pl",
                    "status": "cancelled",
                }
            ],
            "ts": 1695719197750,
        },
        {
            "action": "snapshot",
            "arg": {"instType": usdt, "channel": "positions-history", "instId": "default"},
            "data": [
                {
                    "posId": "1",
                    "instId": "ETHUSDT",
                    "marginCoin": "USDT",
                    "holdSide": "short",
                    "openAvgPrice": "1900",
                    "closeAvgPrice": "1890",
                    "pnl": "1",
                    "cTime": "1695717430441",
                    "uTime": "1695717430500",
                }
            ],
            "ts": 1695717430501,
        },
    ]


def v1_stream() -> list[object]:
    arg = {"instType": "mc", "channel": "books", "instId": "BTCUSDT"}
    m = Model()
    ts = 1665645128000
    msgs: list[object] = [{"event": "subscribe", "arg": arg}]
    msgs.append(
        book_message(
            m,
            "snapshot",
            arg,
            ladder(19000.5, 0.5, 28, "1.000"),
            ladder(19000, -0.5, 28, "2"),
            ts,
            None,
        )
    )
    msgs.append(
        book_message(
            m,
            "update",
            arg,
            [["19000.5", "0"], ["19000.2", "0.500"]],
            [["19000", "3"]],
            ts + 100,
            None,
        )
    )
    msgs.append(book_message(m, "update", arg, [], [["18999.5", "0"]], ts + 200, None))
    # After a reconnect the exchange starts over with a smaller book: whatever is
    # not in this snapshot must disappear.
    msgs.append(
        book_message(
            m,
            "snapshot",
            arg,
            ladder(19010.0, 1, 3, "1"),
            ladder(19009.0, -1, 3, "1"),
            ts + 300,
            None,
        )
    )
    trade = {"instType": "mc", "channel": "trade", "instId": "BTCUSDT"}
    msgs += [
        {
            "action": "snapshot",
            "arg": trade,
            "data": [
                ["1665645128291", "18991", "0.016", "buy"],
                ["1665645128256", "18990.5", "0.241", "sell"],
                ["1665645128256", "18990.5", "0.100", "sell"],
            ],
        },
        {"action": "update", "arg": trade, "data": [["1665645128291", "18991", "0.300", "buy"]]},
        # Resent on resubscription: two already stored, one new at the same ms, one newer.
        {
            "action": "snapshot",
            "arg": trade,
            "data": [
                ["1665645128400", "18992", "0.001", "buy"],
                ["1665645128291", "18991", "0.700", "buy"],
                ["1665645128291", "18991", "0.300", "buy"],
                ["1665645128291", "18991", "0.016", "buy"],
                ["1665645128256", "18990.5", "0.241", "sell"],
            ],
        },
        {
            "action": "snapshot",
            "arg": {"instType": "mc", "channel": "ticker", "instId": "BTCUSDT"},
            "data": [
                {"instId": "BTCUSDT", "last": "44962.00", "bestAsk": "44962", "bestBid": "44961"}
            ],
        },
        {
            "action": "snapshot",
            "arg": {"instType": "mc", "channel": "candle1m", "instId": "BTCUSDT"},
            "data": [["1639584000000", "8533.02", "8553.74", "8527.17", "8548.26", "45247"]],
        },
        {
            "action": "update",
            "arg": {"instType": "mc", "channel": "candle15m", "instId": "BTCUSDT"},
            "data": [["1665590400000", "19129", "19223.5", "19007.5", "19078.5", "67440.713"]],
        },
        {
            "action": "snapshot",
            "arg": {"instType": "UMCBL", "channel": "account", "instId": "default"},
            "data": [{"marginCoin": "USDT", "locked": "0", "available": "5.4", "equity": "5.4"}],
        },
        {
            "action": "snapshot",
            "arg": {"instType": "UMCBL", "channel": "positions", "instId": "default"},
            "data": [
                {"posId": "p1", "instId": "BTCUSDT_UMCBL", "holdSide": "long", "total": "0.010"},
                {"posId": "p2", "instId": "ETHUSDT_UMCBL", "holdSide": "short", "total": "1"},
            ],
        },
        {
            "action": "snapshot",
            "arg": {"instType": "UMCBL", "channel": "positions", "instId": "default"},
            "data": [{"posId": "p1", "instId": "BTCUSDT_UMCBL", "holdSide": "long", "total": "0"}],
        },
    ]
    for status, filled in (("new", "0"), ("partial-fill", "0.005"), ("full-fill", "0.01")):
        msgs.append(
            {
                "action": "snapshot",
                "arg": {"instType": "UMCBL", "channel": "orders", "instId": "default"},
                "data": [
                    {
                        "instId": "BTCUSDT_UMCBL",
                        "ordId": "o1",
                        "clOrdId": "c1",
                        "px": "18000",
                        "sz": "0.01",
                        "side": "buy",
                        "status": status,
                        "accFillSz": filled,
                    }
                ],
            }
        )
    msgs.append(
        {
            "action": "snapshot",
            "arg": {"instType": "UMCBL", "channel": "orders", "instId": "default"},
            "data": [{"instId": "BTCUSDT_UMCBL", "ordId": "o2", "clOrdId": "c2", "status": "new"}],
        }
    )
    return msgs


def write(name: str, msgs: list[object]) -> None:
    with open(HERE / name, "w") as f:
        for msg in msgs:
            f.write(json.dumps(msg, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    write("v2_public.jsonl", v2_public())
    write("v2_private.jsonl", v2_private())
    write("v1_stream.jsonl", v1_stream())
