"""okx: signing, WebSocket protocol and DataStores."""
