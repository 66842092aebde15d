"""bybit: signing, WebSocket protocol and DataStores."""
