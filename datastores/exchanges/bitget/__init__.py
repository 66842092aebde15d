"""bitget: signing, WebSocket protocol and DataStores."""
