"""kucoin: signing, WebSocket protocol and DataStores."""
