"""phemex: signing, WebSocket protocol and DataStores."""
