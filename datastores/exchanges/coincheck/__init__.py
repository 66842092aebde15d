"""coincheck: signing, WebSocket protocol and DataStores."""
