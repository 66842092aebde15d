"""binance: signing, WebSocket protocol and DataStores."""
