"""gmocoin: signing, WebSocket protocol and DataStores."""
