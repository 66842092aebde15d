"""hyperliquid: signing, WebSocket protocol and DataStores."""
