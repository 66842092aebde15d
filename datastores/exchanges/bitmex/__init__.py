"""bitmex: signing, WebSocket protocol and DataStores."""
