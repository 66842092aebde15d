"""mexc: signing, WebSocket protocol and DataStores."""
