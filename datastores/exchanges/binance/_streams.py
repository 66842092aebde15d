"""Helpers for reading Binance stream names and URLs, and for nudging a WebSocketApp."""

from __future__ import annotations

from typing import Any

from yarl import URL

__all__ = ["is_partial_depth", "query_param", "raw_stream_name", "reconnect_app", "stream_symbol"]


def stream_symbol(stream: str) -> str:
    """``"bnbbtc@depth5@100ms"`` -> ``"BNBBTC"``."""
    return stream.partition("@")[0].upper()


def is_partial_depth(stream: str | None) -> bool:
    """Whether a stream name is a partial-depth (top-N) stream, e.g. ``btcusdt@depth5@100ms``."""
    if not stream:
        return False
    name = stream.partition("@")[2]
    return name.startswith("depth") and name[5:6].isdigit()


def raw_stream_name(ws: Any) -> str | None:
    """The stream named by a raw-stream URL (``.../ws/btcusdt@depth5``), else ``None``."""
    url = getattr(ws, "url", None)
    if url is None:
        return None
    try:
        parts = URL(str(url)).parts
    except (TypeError, ValueError):
        return None
    if len(parts) >= 2 and parts[-2] == "ws" and "@" in parts[-1]:
        return parts[-1]
    return None


def query_param(url: URL, name: str) -> str:
    """The query parameter ``name`` of a REST response's URL (``ValueError`` if absent)."""
    value = url.query.get(name)
    if value is None:
        raise ValueError(f"initialize(): {url.path} needs the {name} parameter")
    return value


def reconnect_app(app: Any) -> Any:
    """Ask a WebSocketApp to reconnect now (to its new url); returns what to await, if any.

    A WebSocketApp reconnects when its live connection is closed
    (``app.current_ws.close()``); an object with a ``reconnect()`` method is asked directly.
    """
    reconnect = getattr(app, "reconnect", None)
    if callable(reconnect):
        return reconnect()
    current = getattr(app, "current_ws", None)
    close = getattr(current, "close", None)
    if current is None or getattr(current, "closed", False) or not callable(close):
        return None
    return close()
